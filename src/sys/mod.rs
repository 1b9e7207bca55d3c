//! Everything that talks to the operating system: processes and their groups, signals, whether a
//! recorded process still exists, the operator's name and host, git repositories and the state
//! directory. The engine decides; these modules do.

pub mod git;
pub mod interrupt;
pub mod liveness;
pub mod operator;
pub mod process;
pub mod processes;
pub mod state;
