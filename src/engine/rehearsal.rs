//! The rehearsal gate: a run in an environment with `requires_rehearsal` goes ahead on a
//! rehearsal of exactly what it will run, or on a reason to go without one.
//!
//! A rehearsal counts when it rehearsed the code and the procedure of the run: the same commit,
//! from a clean working tree (and the run's own tree is clean: uncommitted code was never
//! rehearsed), the same runbook content, every step the run selects, the same variables given
//! with `--var`, and it succeeded with its rollback. Anything less is refused, and the refusal
//! says for each rehearsal on record what it lacks, so that "none is on record" is never said of
//! a rehearsal that `history` shows.

use std::collections::BTreeMap;

use super::preconditions::listed;
use super::session::Notice;
use crate::error::{Error, Result};
use crate::plan::{Plan, shell_quote};
use crate::runbook::Runbook;
use crate::store::Store;
use crate::store::record::{Phase, RehearsalCitation, RunRecord, RunStatus, StepStatus};

/// How many of the newest rehearsals the gate looks at.
const CANDIDATES: usize = 100;

/// How many of them a refusal describes.
const DESCRIBED: usize = 10;

/// Checks the gate for the run about to start (`record`, as laid out from `plan`), citing the
/// rehearsal relied on (or the reason to skip it) in the record.
pub fn check(
    plan: &Plan,
    store: &mut dyn Store,
    skip_reason: Option<&str>,
    record: &mut RunRecord,
    notices: &mut dyn FnMut(Notice),
) -> Result<()> {
    let Some(required) = &plan.requires_rehearsal else {
        return Ok(());
    };
    if let Some(reason) = skip_reason {
        record.skip_rehearsal = Some(reason.to_string());
        notices(Notice::Warning(format!(
            "the rehearsal in `{required}` is skipped: {reason}"
        )));
        return Ok(());
    }
    if !record.uncommitted.is_empty() {
        return Err(Error::Precondition {
            message: format!(
                "environment `{}` requires a rehearsal in `{required}`, but the working tree has uncommitted changes ({}): the code that would run was never rehearsed",
                record.env.as_deref().unwrap_or_default(),
                listed(&record.uncommitted).join(", ")
            ),
            expected: format!(
                "commit them and `{}` that commit, or --skip-rehearsal \"REASON\"",
                rehearse_command(plan, required, record)
            ),
        });
    }
    let judged: Vec<(RunRecord, Vec<String>)> = store
        .rehearsals(&plan.runbook, required, CANDIDATES)?
        .into_iter()
        .map(|rehearsal| {
            let lacks = shortcomings(&rehearsal, record);
            (rehearsal, lacks)
        })
        .collect();
    let Some((rehearsal, _)) = judged.iter().find(|(_, lacks)| lacks.is_empty()) else {
        return Err(refusal(plan, required, record, &judged));
    };
    record.rehearsal = Some(RehearsalCitation {
        run_id: rehearsal.run_id.clone(),
        env: required.clone(),
        finished_at: rehearsal.finished_at.unwrap_or(rehearsal.started_at),
        duration_ms: rehearsal.phase_duration_ms(Phase::Steps),
        rollback_duration_ms: rehearsal.phase_duration_ms(Phase::Rollback),
    });
    Ok(())
}

/// An empty `--skip-rehearsal` is refused: the reason is what the record and the note keep.
pub fn check_skip_reason(skip_reason: Option<&str>) -> Result<()> {
    match skip_reason {
        Some(reason) if reason.trim().is_empty() => Err(Error::usage(
            "--skip-rehearsal needs a reason: it goes into the record and the change note",
            "--skip-rehearsal \"REASON\", such as --skip-rehearsal \"hotfix, staging is down\"",
        )),
        _ => Ok(()),
    }
}

/// What the rehearsal (`rehearsal`) lacks to let `run` go ahead, one phrase each; none when it
/// counts.
pub fn shortcomings(rehearsal: &RunRecord, run: &RunRecord) -> Vec<String> {
    let mut lacks = Vec::new();
    if rehearsal.git_sha != run.git_sha {
        lacks.push(format!(
            "another commit (`{}`; this run is at `{}`)",
            short(&rehearsal.git_sha),
            short(&run.git_sha)
        ));
    }
    if rehearsal.content_hash != run.content_hash {
        lacks.push("the runbook changed since".into());
    }
    if rehearsal.git_dirty {
        lacks.push(format!(
            "its working tree had uncommitted changes ({})",
            listed(&rehearsal.uncommitted).join(", ")
        ));
    }
    if let Some(partial) = partial_selection(rehearsal, run) {
        lacks.push(partial);
    }
    let (there, here) = (given_vars(rehearsal), given_vars(run));
    if there != here {
        lacks.push(format!(
            "other variables ({} there; {} here)",
            describe_vars(&there),
            describe_vars(&here)
        ));
    }
    if let Some(outcome) = unfinished(rehearsal) {
        lacks.push(outcome);
    }
    lacks
}

/// The steps `run` selects that a rehearsal with `--only` or `--from` did not.
fn partial_selection(rehearsal: &RunRecord, run: &RunRecord) -> Option<String> {
    let flags = selection_flags(rehearsal);
    if flags.is_empty() {
        return None;
    }
    let rehearsed = selected(rehearsal);
    let missing: Vec<String> = selected(run)
        .into_iter()
        .filter(|id| !rehearsed.contains(id))
        .map(|id| format!("`{id}`"))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let verb = if missing.len() == 1 { "was" } else { "were" };
    Some(format!(
        "partial selection ({}): {} {verb} not rehearsed",
        flags.join(" "),
        missing.join(", ")
    ))
}

/// The ids of the steps a run selected, as `--only` and `--from` choose them in the plan: from
/// the `--from` step on, and of those only the ones named by `--only` when any is.
fn selected(run: &RunRecord) -> Vec<&str> {
    let ids: Vec<&str> = run
        .steps
        .iter()
        .filter(|step| step.phase == Phase::Steps)
        .map(|step| step.id.as_str())
        .collect();
    let only = &run.invocation.only;
    let start = run
        .invocation
        .from
        .as_deref()
        .and_then(|from| ids.iter().position(|id| *id == from))
        .unwrap_or(0);
    ids[start..]
        .iter()
        .copied()
        .filter(|id| only.is_empty() || only.iter().any(|chosen| chosen == id))
        .collect()
}

/// A run's `--only` and `--from` as they were given.
fn selection_flags(run: &RunRecord) -> Vec<String> {
    let mut flags: Vec<String> = run
        .invocation
        .only
        .iter()
        .map(|id| format!("--only {id}"))
        .collect();
    if let Some(from) = &run.invocation.from {
        flags.push(format!("--from {from}"));
    }
    flags
}

/// The variables given with `--var`, by name (the last of a name wins, as in the plan).
fn given_vars(run: &RunRecord) -> BTreeMap<&str, &str> {
    run.invocation
        .vars
        .iter()
        .filter_map(|var| var.split_once('='))
        .collect()
}

fn describe_vars(vars: &BTreeMap<&str, &str>) -> String {
    if vars.is_empty() {
        return "none".into();
    }
    vars.iter()
        .map(|(name, value)| format!("--var {name}={value}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a rehearsal did not wholly succeed, rollback included; `None` when it did.
fn unfinished(rehearsal: &RunRecord) -> Option<String> {
    let reason = rehearsal
        .status_reason
        .as_deref()
        .map(|reason| format!(" ({reason})"))
        .unwrap_or_default();
    let rollback = || {
        rehearsal
            .steps
            .iter()
            .filter(|s| s.phase == Phase::Rollback)
    };
    match rehearsal.status {
        RunStatus::Running => Some("it is still running".into()),
        RunStatus::Interrupted => Some(format!("it was interrupted{reason}")),
        RunStatus::Aborted => Some(format!("it was aborted{reason}")),
        RunStatus::Failed if rollback().any(|s| !s.status.is_success() && s.attempts > 0) => {
            Some(format!("its rollback failed{reason}"))
        }
        RunStatus::Failed => Some(format!("it failed{reason}, so its rollback did not run")),
        // The rollback ran, but after a step failed: the rehearsal did not show the steps work.
        RunStatus::RolledBack => Some(format!("a step failed and it rolled back{reason}")),
        RunStatus::Succeeded if !rollback().any(|s| s.status == StepStatus::Succeeded) => {
            Some("its rollback did not run".into())
        }
        RunStatus::Succeeded => None,
    }
}

/// The refusal when no rehearsal counts: each one looked at, with what it lacks.
fn refusal(
    plan: &Plan,
    required: &str,
    run: &RunRecord,
    judged: &[(RunRecord, Vec<String>)],
) -> Error {
    let wanted = format!(
        "environment `{}` requires a succeeded rehearsal in `{required}` of this commit (`{}`), from a clean working tree, of this runbook, these steps and these --var values",
        run.env.as_deref().unwrap_or_default(),
        short(&run.git_sha)
    );
    let of = format!("runbook `{}` in `{required}`", plan.runbook);
    let message = if judged.is_empty() {
        format!("{wanted}, and no rehearsal of {of} is on record")
    } else {
        let newest = if judged.len() == CANDIDATES {
            format!("the newest {CANDIDATES} rehearsals")
        } else if judged.len() == 1 {
            "the 1 rehearsal".to_string()
        } else {
            format!("the {} rehearsals", judged.len())
        };
        let mut lines = vec![format!(
            "{wanted}, and none of {newest} of {of} on record counts:"
        )];
        for (rehearsal, lacks) in judged.iter().take(DESCRIBED) {
            lines.push(format!("  - {}: {}", rehearsal.run_id, lacks.join("; ")));
        }
        if judged.len() > DESCRIBED {
            lines.push(format!("  - … and {} older", judged.len() - DESCRIBED));
        }
        lines.join("\n")
    };
    Error::Precondition {
        message,
        expected: format!(
            "`{}` first (its rollback must succeed too), or --skip-rehearsal \"REASON\"",
            rehearse_command(plan, required, run)
        ),
    }
}

/// The `shipbook rehearse` command whose rehearsal would let `run` go ahead.
fn rehearse_command(plan: &Plan, required: &str, run: &RunRecord) -> String {
    let mut words = vec![
        "shipbook rehearse".to_string(),
        shell_quote(&plan.runbook_path.display().to_string()),
        format!("--env {}", shell_quote(required)),
    ];
    words.extend(selection_flags(run));
    words.extend(
        run.invocation
            .vars
            .iter()
            .map(|var| format!("--var {}", shell_quote(var))),
    );
    words.join(" ")
}

/// What a rehearsal should know at its end about the runs it is meant to let go ahead: one
/// from a tree with uncommitted changes lets none, and a partial one only those that select no
/// more. Nothing when no environment requires a rehearsal in this one.
pub fn caveats(runbook: &Runbook, rehearsal: &RunRecord) -> Vec<Notice> {
    let Some(env) = &rehearsal.env else {
        return Vec::new();
    };
    let gated: Vec<String> = runbook
        .environments
        .iter()
        .filter(|(_, environment)| {
            environment
                .requires_rehearsal
                .as_ref()
                .is_some_and(|required| required.get_ref() == env)
        })
        .map(|(name, _)| format!("`{name}`"))
        .collect();
    if gated.is_empty() {
        return Vec::new();
    }
    let gated = gated.join(", ");
    let mut caveats = Vec::new();
    if !rehearsal.uncommitted.is_empty() {
        caveats.push(Notice::Warning(format!(
            "this rehearsal cannot let a run go ahead in {gated}: its working tree has uncommitted changes ({}); commit them and rehearse that commit",
            listed(&rehearsal.uncommitted).join(", ")
        )));
    }
    let flags = selection_flags(rehearsal);
    if !flags.is_empty() {
        caveats.push(Notice::Note(format!(
            "this rehearsal ({}) lets a run go ahead in {gated} only if that run selects no other step",
            flags.join(" ")
        )));
    }
    caveats
}

/// The short form of a commit id, as `git` shows it; "none" outside a repository.
fn short(sha: &str) -> &str {
    if sha.is_empty() {
        "none"
    } else {
        &sha[..sha.len().min(7)]
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::engine::run_record::new_record;
    use crate::plan::PlanOptions;
    use crate::runbook::Mode;

    const RUNBOOK: &str = "[runbook]\nname = \"web\"\n[[steps]]\nid = \"a\"\nrun = \"true\"\n[[steps]]\nid = \"b\"\nrun = \"true\"\n[[steps]]\nid = \"c\"\nrun = \"true\"\n[rollback]\nrun = \"true\"\n";

    fn record(mode: Mode) -> RunRecord {
        let runbook = crate::runbook::parse(
            Path::new("/nonexistent-shipbook-test/r.toml"),
            RUNBOOK.into(),
        )
        .unwrap();
        let options = PlanOptions {
            run_id: "run-1".into(),
            ..PlanOptions::default()
        };
        let plan = Plan::build(&runbook, mode, &options).unwrap();
        let mut record = new_record(&plan, "run-1", "ann@host", Vec::new());
        record.git_sha = "0123456789abcdef".into();
        record
    }

    /// A rehearsal that wholly succeeded.
    fn rehearsal() -> RunRecord {
        let mut rehearsal = record(Mode::Rehearsal);
        rehearsal.status = RunStatus::Succeeded;
        for step in &mut rehearsal.steps {
            step.status = StepStatus::Succeeded;
            step.attempts = 1;
        }
        rehearsal
    }

    #[test]
    fn a_whole_clean_succeeded_rehearsal_of_the_same_run_counts() {
        assert!(shortcomings(&rehearsal(), &record(Mode::Run)).is_empty());
    }

    #[test]
    fn a_partial_rehearsal_counts_only_for_the_steps_it_ran() {
        let mut partial = rehearsal();
        partial.invocation.only = vec!["b".into()];
        let mut run = record(Mode::Run);
        assert_eq!(
            shortcomings(&partial, &run),
            ["partial selection (--only b): `a`, `c` were not rehearsed"]
        );
        run.invocation.only = vec!["b".into()];
        assert!(shortcomings(&partial, &run).is_empty());
        partial.invocation.only.clear();
        partial.invocation.from = Some("b".into());
        run.invocation.only.clear();
        assert_eq!(
            shortcomings(&partial, &run),
            ["partial selection (--from b): `a` was not rehearsed"]
        );
    }

    #[test]
    fn every_difference_is_named() {
        let mut other = rehearsal();
        other.git_sha = "fedcba9876543210".into();
        other.content_hash = "another".into();
        other.git_dirty = true;
        other.uncommitted = vec!["a.txt".into()];
        other.invocation.vars = vec!["version=2".into()];
        let mut run = record(Mode::Run);
        run.invocation.vars = vec!["version=1".into(), "version=3".into()];
        assert_eq!(
            shortcomings(&other, &run),
            [
                "another commit (`fedcba9`; this run is at `0123456`)",
                "the runbook changed since",
                "its working tree had uncommitted changes (a.txt)",
                "other variables (--var version=2 there; --var version=3 here)",
            ]
        );
    }

    #[test]
    fn a_rehearsal_counts_only_once_its_rollback_succeeded() {
        let run = record(Mode::Run);
        let mut failed = rehearsal();
        failed.status = RunStatus::Failed;
        failed.status_reason = Some("step `rollback` exited with 1".into());
        failed.steps.last_mut().unwrap().status = StepStatus::Failed;
        assert_eq!(
            shortcomings(&failed, &run),
            ["its rollback failed (step `rollback` exited with 1)"]
        );
        let rollback = failed.steps.last_mut().unwrap();
        (rollback.status, rollback.attempts) = (StepStatus::Pending, 0);
        failed.status_reason = Some("step `c` exited with 2".into());
        assert_eq!(
            shortcomings(&failed, &run),
            ["it failed (step `c` exited with 2), so its rollback did not run"]
        );
    }

    #[test]
    fn an_empty_reason_to_skip_is_refused() {
        assert!(check_skip_reason(Some(" ")).is_err());
        assert!(check_skip_reason(Some("hotfix")).is_ok());
        assert!(check_skip_reason(None).is_ok());
    }
}
