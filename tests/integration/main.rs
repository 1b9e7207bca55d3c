//! Integration tests: the built `shipbook` binary against real temporary git repositories and
//! real processes. One test binary, one module per feature, a shared `Test` builder.

mod test;

mod check;
mod config_check;
mod http_check;
mod exit_codes;
mod json;
mod note;
mod plan;
mod preconditions;
mod records;
mod run;
mod secrets;
mod signals;
mod store;
