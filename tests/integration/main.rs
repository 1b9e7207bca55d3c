//! Integration tests: the built `shipbook` binary against real temporary git repositories and
//! real processes. One test binary, one module per feature, a shared `Test` builder.

mod test;

mod approvers;
mod check;
mod ci;
mod concurrency;
mod config_check;
mod containment;
mod crash_leftovers;
mod direct;
mod escaping;
mod exit_codes;
mod full_disk;
mod http_check;
mod init;
mod json;
mod metrics;
mod note;
mod notify;
mod on_failure_rollback;
mod parallel;
mod permissions;
mod plan;
mod preconditions;
mod records;
mod rehearsal_gate;
mod resume;
mod rollback_target;
mod run;
mod safety;
mod schema;
mod secrets;
mod signals;
mod store;
mod tag;
mod team;
mod terminal;
mod variables;
mod watch;
