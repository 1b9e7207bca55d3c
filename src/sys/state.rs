//! Where records, logs and notes live (the README's "Records").
//!
//! `--state-dir`, else `$SHIPBOOK_STATE_DIR` (both handled by clap), else `.shipbook/` at the
//! root of the git repository that holds the runbook, or beside the runbook outside a repository.
//! Commands without a runbook (history, show, note) start from the current directory instead.
//!
//! The state directory is private to the user who runs shipbook, whatever the umask: its logs
//! and notes hold the output of release commands. `prepare` makes it so.

use std::io;
use std::path::{Path, PathBuf};

use crate::sys::fs::{PRIVATE_DIR, create_private_dir_all, make_private};
use crate::sys::git;

pub use super::STATE_DIR_NAME as DIR_NAME;

/// The state directory for a runbook at `runbook_path`.
pub fn for_runbook(explicit: Option<&Path>, runbook_path: &Path) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    match git::work_root(runbook_path) {
        Some(root) => root.join(DIR_NAME),
        None => {
            let parent = runbook_path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            parent.join(DIR_NAME)
        }
    }
}

/// The state directory for commands that name no runbook.
pub fn for_current_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    match git::work_root(Path::new(".")) {
        Some(root) => root.join(DIR_NAME),
        None => PathBuf::from(DIR_NAME),
    }
}

/// Creates the state directory with its `logs` and `notes` directories, each private (0700),
/// and makes private again any of them that an older shipbook (or a loose umask) left open to
/// others.
pub fn prepare(state: &Path) -> io::Result<()> {
    for dir in [state.to_path_buf(), state.join("logs"), notes_dir(state)] {
        create_private_dir_all(&dir)?;
        make_private(&dir, PRIVATE_DIR)?;
    }
    Ok(())
}

pub fn logs_dir(state: &Path, run_id: &str) -> PathBuf {
    state.join("logs").join(run_id)
}

pub fn notes_dir(state: &Path) -> PathBuf {
    state.join("notes")
}
