//! The engine: executes a plan, applies the failure policy, and tells observers what happens.
//!
//! `executor` decides and `effects` does: the executor's policy (attempts, undo, metrics) sees
//! the world only through the `Effects` trait, whose real implementation is `system`.

mod attempt;
mod continuation;
pub mod effects;
pub mod event;
pub mod executor;
mod lock;
mod metrics;
mod notify;
pub mod preconditions;
pub mod recorder;
mod rehearsal;
pub mod resume;
pub mod run_id;
pub mod run_record;
mod schedule;
pub mod session;
pub mod system;
mod undo;
mod unrecorded;
mod watch;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;
