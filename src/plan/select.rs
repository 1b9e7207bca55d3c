//! `--only` and `--from`: which steps of a plan run.

use super::PlannedStep;
use crate::error::{Error, Result};
use crate::text::diagnostic::suggest;

/// Applies `--only` and `--from`: steps not selected are marked skipped, and never run.
pub fn select(steps: &mut [PlannedStep], only: &[String], from: Option<&str>) -> Result<()> {
    let ids: Vec<String> = steps.iter().map(|step| step.id.clone()).collect();
    let unknown = |id: &str, flag: &str| {
        let hint = suggest(id, ids.iter().map(String::as_str))
            .map(|close| format!(" (did you mean `{close}`?)"))
            .unwrap_or_default();
        Error::usage(
            format!("{flag} names an unknown step `{id}`{hint}"),
            format!("one of the step ids: {}", ids.join(", ")),
        )
    };
    for id in only {
        if !ids.contains(id) {
            return Err(unknown(id, "--only"));
        }
    }
    let start = match from {
        Some(id) => ids
            .iter()
            .position(|candidate| candidate == id)
            .ok_or_else(|| unknown(id, "--from"))?,
        None => 0,
    };
    for (index, step) in steps.iter_mut().enumerate() {
        if step.skip.is_some() {
            continue;
        }
        if index < start {
            step.skip = Some(format!("before --from {}", from.unwrap_or_default()));
        } else if !only.is_empty() && !only.contains(&step.id) {
            step.skip = Some("not selected by --only".into());
        }
    }
    Ok(())
}
