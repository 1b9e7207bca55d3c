//! Resuming a run, as pure functions of records: which steps changed since the run started,
//! and the record to continue from (what succeeded carried over, the rest planned again).

use crate::runbook::Runbook;
use crate::store::record::{Phase, RunRecord, RunStatus, StepRecord, StepStatus};

/// Steps whose id or command differ between the recorded run and the runbook as planned now.
pub fn differences(previous: &RunRecord, fresh: &RunRecord) -> Vec<String> {
    let old: Vec<&StepRecord> = previous
        .steps
        .iter()
        .filter(|s| s.phase != Phase::Undo)
        .collect();
    let mut found = Vec::new();
    for step in &fresh.steps {
        match old
            .iter()
            .find(|o| o.id == step.id && o.phase == step.phase)
        {
            None => found.push(format!("`{}` is new", step.id)),
            Some(o) if o.command != step.command => found.push(format!(
                "`{}` was `{}`, is now `{}`",
                step.id, o.command, step.command
            )),
            Some(_) => {}
        }
    }
    for step in &old {
        if !fresh
            .steps
            .iter()
            .any(|s| s.id == step.id && s.phase == step.phase)
        {
            found.push(format!("`{}` was removed", step.id));
        }
    }
    found
}

/// The record a resumed run continues from: the steps as planned now, with what the earlier
/// attempt finished carried over (succeeded and skipped steps are not run again, attempts keep
/// counting), and the undo steps of earlier attempts kept as history at the end.
pub fn merge(previous: &RunRecord, fresh: RunRecord, content_hash: &str) -> RunRecord {
    let mut record = RunRecord {
        status: RunStatus::Running,
        status_reason: None,
        finished_at: None,
        note: None,
        content_hash: content_hash.to_string(),
        steps: fresh.steps,
        ..previous.clone()
    };
    for step in &mut record.steps {
        let Some(old) = previous
            .steps
            .iter()
            .find(|old| old.id == step.id && old.phase == step.phase)
        else {
            continue;
        };
        step.attempts = old.attempts;
        if matches!(old.status, StepStatus::Succeeded | StepStatus::Skipped) {
            *step = StepRecord {
                position: step.position,
                ..old.clone()
            };
        }
    }
    for old in previous.steps.iter().filter(|s| s.phase == Phase::Undo) {
        record.steps.push(StepRecord {
            position: record.steps.len() as u32,
            ..old.clone()
        });
    }
    record
}

/// Puts the values of the runbook's secrets back into a `--var` that was recorded masked.
pub fn unmask(var: &str, runbook: &Runbook) -> String {
    runbook
        .secrets
        .env
        .iter()
        .fold(var.to_string(), |var, name| {
            let name = name.get_ref();
            match std::env::var(name) {
                Ok(value) => var.replace(&format!("[masked:{name}]"), &value),
                Err(_) => var,
            }
        })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::engine::run_record::new_record;
    use crate::plan::{Plan, PlanOptions};
    use crate::runbook::Mode;

    fn record(source: &str) -> RunRecord {
        let runbook = crate::runbook::parse(
            Path::new("/nonexistent-shipbook-test/r.toml"),
            source.into(),
        )
        .unwrap();
        let options = PlanOptions {
            run_id: "run-1".into(),
            ..PlanOptions::default()
        };
        let plan = Plan::build(&runbook, Mode::Run, &options).unwrap();
        new_record(&plan, "run-1", "ann@host", Vec::new())
    }

    const BEFORE: &str = "[runbook]\nname = \"x\"\n[[steps]]\nid = \"a\"\nrun = \"true\"\n[[steps]]\nid = \"b\"\nrun = \"make b\"\n[[steps]]\nid = \"c\"\nrun = \"true\"\n";

    #[test]
    fn differences_name_new_changed_and_removed_steps() {
        let previous = record(BEFORE);
        let fresh = record(
            "[runbook]\nname = \"x\"\n[[steps]]\nid = \"a\"\nrun = \"true\"\n[[steps]]\nid = \"b\"\nrun = \"make b2\"\n[[steps]]\nid = \"d\"\nrun = \"true\"\n",
        );
        assert_eq!(
            differences(&previous, &fresh),
            [
                "`b` was `make b`, is now `make b2`",
                "`d` is new",
                "`c` was removed"
            ]
        );
        assert!(differences(&previous, &record(BEFORE)).is_empty());
    }

    #[test]
    fn merge_keeps_what_succeeded_counts_attempts_and_keeps_undo_history() {
        let mut previous = record(BEFORE);
        previous.status = RunStatus::Failed;
        previous.steps[0].status = StepStatus::Succeeded;
        previous.steps[0].attempts = 1;
        previous.steps[0].detail = Some("done".into());
        previous.steps[1].status = StepStatus::Failed;
        previous.steps[1].attempts = 3;
        let mut undo = previous.steps[0].clone();
        undo.id = "undo-a".into();
        undo.phase = Phase::Undo;
        previous.steps.push(undo);

        let merged = merge(&previous, record(BEFORE), "new-hash");
        assert_eq!(merged.status, RunStatus::Running);
        assert_eq!(merged.content_hash, "new-hash");
        assert_eq!(merged.steps[0].status, StepStatus::Succeeded);
        assert_eq!(merged.steps[0].detail.as_deref(), Some("done"));
        assert_eq!(
            (merged.steps[1].status, merged.steps[1].attempts),
            (StepStatus::Pending, 3)
        );
        assert_eq!(merged.steps[3].id, "undo-a");
        assert_eq!(merged.steps[3].position, 3);
    }
}
