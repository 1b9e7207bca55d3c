//! The record of a run about to start: every step pending, as the plan lays them out.

use crate::mask::Masker;
use crate::plan::{Plan, PlannedStep};
use crate::runbook::Mode;
use crate::store::record::{MetricRecord, Phase, RunRecord, RunStatus, StepRecord, StepStatus};
use crate::text::timestamp::Timestamp;

/// The record of a step about to be planned into a run.
pub fn step_record(
    position: usize,
    step: &PlannedStep,
    phase: Phase,
    masker: &Masker,
) -> StepRecord {
    StepRecord {
        position: position as u32,
        id: step.id.clone(),
        name: step.name.clone(),
        kind: step.action.kind(),
        command: masker.text(&step.action.describe()),
        status: StepStatus::Pending,
        attempts: 0,
        exit_code: None,
        started_at: None,
        duration_ms: None,
        log: None,
        log_tail: None,
        detail: None,
        phase,
        tag: None,
        approved_by: None,
        samples: Vec::new(),
    }
}

/// The record of a run about to start, every step pending.
pub fn new_record(
    plan: &Plan,
    run_id: &str,
    operator: &str,
    files_touched: Vec<String>,
) -> RunRecord {
    let masker = Masker::new(&plan.secrets);
    let owner = crate::store::Owner::this_process();
    let first_phase = if plan.mode == Mode::Rollback {
        Phase::Rollback
    } else {
        Phase::Steps
    };
    let mut steps: Vec<StepRecord> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(position, step)| step_record(position, step, first_phase, &masker))
        .collect();
    if plan.mode == Mode::Rehearsal
        && let Some(rollback) = &plan.rollback
    {
        let offset = steps.len();
        steps.extend(
            rollback
                .steps
                .iter()
                .enumerate()
                .map(|(i, step)| step_record(offset + i, step, Phase::Rollback, &masker)),
        );
    }
    RunRecord {
        run_id: run_id.to_string(),
        runbook: plan.runbook.clone(),
        // Absolute, so that `resume` finds the runbook from wherever it is run.
        runbook_path: std::path::absolute(&plan.runbook_path)
            .unwrap_or_else(|_| plan.runbook_path.clone())
            .display()
            .to_string(),
        content_hash: plan.content_hash.clone(),
        mode: plan.mode,
        env: plan.env.clone(),
        operator: operator.to_string(),
        host: owner.host,
        pid: owner.pid,
        reason: plan.reason.as_deref().map(|r| masker.text(r)),
        owner: plan.owner.as_deref().map(|o| masker.text(o)),
        expected: plan.expected.as_deref().map(|e| masker.text(e)),
        description: plan.description.as_deref().map(|d| masker.text(d)),
        git_sha: plan.git.sha.clone(),
        git_branch: plan.git.branch.clone(),
        git_dirty: plan.git.dirty,
        uncommitted: Vec::new(),
        previous_tag: plan.git.previous_tag.clone(),
        files_touched,
        rollback_note: plan
            .rollback
            .as_ref()
            .and_then(|r| r.note.as_deref())
            .map(|n| masker.text(n)),
        rollback_command: plan.rollback.as_ref().map(|r| masker.text(&r.commands())),
        started_at: Timestamp::now(),
        finished_at: None,
        status: RunStatus::Running,
        status_reason: None,
        note: None,
        metrics: plan
            .metrics
            .iter()
            .map(|metric| MetricRecord {
                name: metric.name.clone(),
                better: metric.better,
                before: None,
                after: None,
                problem: None,
                max_regression: metric.max_regression,
            })
            .collect(),
        rehearsal: None,
        skip_rehearsal: None,
        resumed: Vec::new(),
        invocation: Default::default(),
        warnings: Vec::new(),
        version: plan.variables.get("version").map(|v| masker.text(v)),
        steps,
    }
}
