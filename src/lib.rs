//! shipbook as a library: the runbook model, planning, execution and the record store, used
//! by the `shipbook` binary and by `cargo xtask` (which benchmarks the real code paths, such as
//! generating history through the store's own API).
//!
//! Data flows one way: a runbook file becomes a `runbook::Runbook`, which becomes a
//! `plan::Plan`, which the `engine` executes, telling observers (the record store, the
//! terminal, JSON, JUnit) what happens; the change note is written from the final record.
//! ARCHITECTURE.md at the root of the repository gives the modules and the directions their
//! imports may take.

// No function over 80 lines (clippy.toml sets the threshold): a function that long does more
// than one thing.
#![warn(clippy::too_many_lines)]

pub mod actions;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod error;
pub mod mask;
pub mod output;
pub mod plan;
pub mod runbook;
pub mod store;
pub mod sys;
pub mod text;
