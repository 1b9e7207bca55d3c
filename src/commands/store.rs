//! `shipbook store status|sync|import`: the team store from the command line.
//!
//! `status` says where records go and whether that store answers, `sync` writes the local
//! journal in (what a run kept while the store was away), and `import` brings a state
//! directory's own history into the team store when a team adopts it.

use super::Globals;
use crate::cli::StoreCommand;
use crate::error::{Error, Result};
use crate::store::{self, Backend, pending};
use crate::sys::state;
use crate::text::words::plural;

pub fn execute(command: StoreCommand, globals: &Globals) -> Result<()> {
    let state_dir = state::for_current_dir(globals.state_dir.as_deref());
    match command {
        StoreCommand::Status => status(&state_dir, &globals.backend),
        StoreCommand::Sync => sync(&state_dir, &globals.backend),
        StoreCommand::Import { from } => {
            import(from.as_deref().unwrap_or(&state_dir), &globals.backend)
        }
    }
}

fn status(state_dir: &std::path::Path, backend: &Backend) -> Result<()> {
    let waiting = pending::waiting(state_dir);
    match backend {
        Backend::Local => {
            println!("backend: sqlite (this machine only)");
            println!("records: {}", state_dir.display());
        }
        Backend::Team(target) => {
            println!("backend: postgres");
            println!("store: {}", target.display());
            match store::team_status(target) {
                Ok(Some((version, locks))) => {
                    println!("reachable: yes");
                    println!("schema version: {version}");
                    if locks.is_empty() {
                        println!("locks: none held");
                    }
                    for lock in locks {
                        let env = if lock.env.is_empty() {
                            "(no environment)".to_string()
                        } else {
                            lock.env.clone()
                        };
                        println!(
                            "lock: {} in {env}: {} by run {} (operator {}, pid {} on {}, since {})",
                            lock.runbook,
                            if lock.live {
                                "held"
                            } else {
                                "free (its holder's session ended)"
                            },
                            lock.holder.run_id,
                            lock.holder.operator,
                            lock.holder.pid,
                            lock.holder.host,
                            lock.holder.since
                        );
                    }
                }
                Ok(None) => {
                    println!("reachable: yes");
                    println!("schema version: none yet (created by the first run)");
                }
                Err(error) => {
                    println!("reachable: no ({error})");
                }
            }
        }
    }
    println!(
        "journal: {} waiting in {}",
        plural(waiting.len(), "record"),
        state_dir.join(pending::PENDING_DIR).display()
    );
    for run in &waiting {
        println!("  {} ({}, {})", run.run_id, run.mode, run.status);
    }
    Ok(())
}

fn sync(state_dir: &std::path::Path, backend: &Backend) -> Result<()> {
    let waiting = pending::waiting(state_dir);
    if waiting.is_empty() {
        eprintln!("nothing waits in the journal; the store is up to date");
        return Ok(());
    }
    let mut store = store::open(state_dir, backend)?;
    // Opening the store writes the journal in; a second look takes what is still there.
    let written = pending::write_in(state_dir, &mut *store);
    let left = pending::waiting(state_dir);
    let done: Vec<&str> = waiting
        .iter()
        .map(|run| run.run_id.as_str())
        .filter(|id| !left.iter().any(|run| run.run_id == *id))
        .collect();
    for run_id in &done {
        eprintln!("written into the store: {run_id}");
    }
    if left.is_empty() {
        eprintln!("journal synced: {}", plural(done.len(), "record"));
        Ok(())
    } else {
        Err(Error::Store {
            path: state_dir.join(pending::PENDING_DIR),
            message: format!(
                "{} could not be written in yet: {}",
                plural(written.left.len().max(left.len()), "record"),
                left.iter()
                    .map(|run| run.run_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }
}

fn import(from: &std::path::Path, backend: &Backend) -> Result<()> {
    let Backend::Team(target) = backend else {
        return Err(Error::usage(
            "store import copies a local history into a team store, and no team store is chosen",
            "--store postgres://… (or SHIPBOOK_STORE) naming the team store",
        ));
    };
    let Some(mut local) = store::open_existing(from, &Backend::Local)? else {
        return Err(Error::usage(
            format!("{} holds no records to import", from.display()),
            "--from naming a state directory with a shipbook.db",
        ));
    };
    let mut team = store::open(from, backend)?;
    let ids: Vec<String> = local
        .list_runs(None, usize::MAX)?
        .into_iter()
        .map(|run| run.run_id)
        .collect();
    let (mut added, mut present) = (0, 0);
    // Oldest first, so that an import cut short leaves the oldest history in place.
    for run_id in ids.iter().rev() {
        match team.load_run(run_id) {
            Ok(_) => present += 1,
            Err(Error::UnknownRun { .. }) => {
                let run = local.load_run(run_id)?;
                team.rewrite_run(&run)?;
                added += 1;
            }
            Err(error) => return Err(error),
        }
    }
    eprintln!(
        "imported {} from {} into {} ({} already there)",
        plural(added, "run"),
        from.display(),
        target.display(),
        present
    );
    Ok(())
}
