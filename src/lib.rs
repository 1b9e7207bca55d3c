//! shipbook as a library: the runbook model, planning, execution and the record store, used
//! by the `shipbook` binary and by `cargo xtask` (which benchmarks the real code paths, such as
//! generating history through the store's own API).

pub mod actions;
pub mod cli;
pub mod commands;
pub mod diagnostic;
pub mod duration;
pub mod error;
pub mod event;
pub mod executor;
pub mod git;
pub mod github;
pub mod interrupt;
pub mod json_events;
pub mod junit;
pub mod mask;
pub mod note;
pub mod operator;
pub mod plan;
pub mod preconditions;
pub mod process;
pub mod record;
pub mod recorder;
pub mod report;
pub mod reporter;
pub mod run_id;
pub mod runbook;
pub mod state;
pub mod store;
pub mod template;
pub mod variables;
