//! The engine: executes a plan, applies the failure policy, and tells observers what happens.

pub mod event;
pub mod executor;
pub mod preconditions;
pub mod recorder;
pub mod run_id;
