//! Everything that talks to the operating system: processes, their groups and what they leave
//! behind, signals, whether a recorded process still exists, the operator's name and host, git
//! repositories and the state directory. The engine decides; these modules do.

/// The name of shipbook's own directory at the root of a repository: where records live by
/// default, and what never makes a working tree unclean.
pub const STATE_DIR_NAME: &str = ".shipbook";

pub mod containment;
pub mod fs;
pub mod git;
pub mod interrupt;
pub mod liveness;
pub mod log;
pub mod operator;
pub mod process;
pub mod processes;
pub mod state;
