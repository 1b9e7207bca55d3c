//! The change note: what the next engineer needs, in one Markdown file.
//!
//! The note is rendered from the run's record alone, so `shipbook note RUN_ID` reprints exactly
//! what was written at the end of the run, and a note exists for failed runs too. It is written
//! to a temporary file and renamed into place, so a reader never sees half a note.
//!
//! The note reads top to bottom as the next engineer asks: what changed and why (`header`),
//! then what happened and how to go back (`results`). Each section is a function of its own
//! that appends to the text, in the order `render` calls them.

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::runbook::Mode;
use crate::store::record::RunRecord;
use crate::text::duration::human;

pub mod front_matter;
mod header;
mod results;
mod watches;

/// The whole note, as Markdown.
pub fn render(run: &RunRecord) -> String {
    let mut out = front_matter::block(run);
    let mode = run.mode;
    header::title(&mut out, run, mode);
    header::change(&mut out, run);
    header::run_facts(&mut out, run);
    // A rollback changes no files of its own: the files of the release it undoes are in that
    // release's note.
    if mode != Mode::Rollback {
        header::files_touched(&mut out, run);
    }
    header::rehearsal(&mut out, run);
    results::step_tables(&mut out, run, mode);
    results::undone(&mut out, run);
    results::tags(&mut out, run);
    watches::watches(&mut out, run);
    results::metrics(&mut out, run);
    results::log_tails(&mut out, run);
    results::rollback(&mut out, run);
    warnings(&mut out, run);
    out
}

/// What went wrong beside the steps, such as a notification the team did not get.
fn warnings(out: &mut String, run: &RunRecord) {
    use std::fmt::Write as _;
    if run.warnings.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## Warnings\n");
    for warning in &run.warnings {
        let _ = writeln!(out, "- {}", cell(warning));
    }
}

/// A duration in milliseconds for people, or `-` when there is none.
fn duration_or_dash(ms: Option<u64>) -> String {
    ms.map_or_else(|| "-".into(), |ms| human(Duration::from_millis(ms)))
}

/// Escapes the characters that would break a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Writes the note into `<state>/notes/<run-id>.md` (and `notes_dir` when the runbook sets one),
/// each atomically. Returns the path of the first.
pub fn write(run: &RunRecord, state_dir: &Path, notes_dir: Option<&Path>) -> Result<String> {
    let text = render(run);
    let name = format!("{}.md", run.run_id);
    let primary = crate::sys::state::notes_dir(state_dir).join(&name);
    write_atomically(&primary, &text)?;
    if let Some(dir) = notes_dir {
        write_atomically(&dir.join(&name), &text)?;
    }
    Ok(primary.display().to_string())
}

/// Writes a note atomically, saying which file could not be written.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    crate::sys::fs::write_rebuildable(path, text)
        .map_err(|source| Error::io(format!("cannot write {}", path.display()), source))
}
