//! Records to render in unit tests: one run and one step with every field set, which a test
//! changes where it needs something else. Building them by hand keeps the renderers' tests free
//! of the store and of the engine.

use crate::runbook::{Better, Mode, StepKind};
use crate::store::record::{
    Invocation, MetricRecord, Phase, RunRecord, RunStatus, StepRecord, StepStatus,
};
use crate::text::timestamp::Timestamp;

/// A failed rehearsal in staging with one metric, and no steps.
pub(crate) fn run() -> RunRecord {
    RunRecord {
        run_id: "20260102T030405Z-web-0a1b".into(),
        runbook: "web".into(),
        runbook_path: "runbooks/web.toml".into(),
        content_hash: "hash".into(),
        mode: Mode::Rehearsal,
        env: Some("staging".into()),
        operator: "ann@host".into(),
        host: "host".into(),
        pid: 42,
        reason: None,
        owner: None,
        expected: None,
        description: None,
        git_sha: "abc123".into(),
        git_branch: "main".into(),
        git_dirty: false,
        uncommitted: Vec::new(),
        previous_tag: String::new(),
        files_touched: Vec::new(),
        rollback_note: None,
        rollback_command: None,
        started_at: timestamp("2026-01-02T03:04:05.000Z"),
        finished_at: Some(timestamp("2026-01-02T03:04:07.500Z")),
        status: RunStatus::Failed,
        status_reason: Some("step `deploy` exited with 2".into()),
        note: Some(".shipbook/notes/x.md".into()),
        metrics: vec![MetricRecord {
            name: "p95".into(),
            better: Better::Lower,
            before: Some(200.0),
            after: None,
            problem: None,
            max_regression: Some(10.0),
        }],
        rehearsal: None,
        skip_rehearsal: None,
        resumed: Vec::new(),
        warnings: Vec::new(),
        version: None,
        invocation: Invocation::default(),
        steps: Vec::new(),
    }
}

/// A `run` step that failed on its second attempt, with a log.
pub(crate) fn step() -> StepRecord {
    StepRecord {
        position: 1,
        id: "deploy".into(),
        name: "Deploy".into(),
        kind: StepKind::Run,
        command: "./deploy.sh".into(),
        status: StepStatus::Failed,
        attempts: 2,
        exit_code: Some(2),
        started_at: Some(timestamp("2026-01-02T03:04:06.000Z")),
        duration_ms: Some(1500),
        log: Some(".shipbook/logs/x/deploy.log".into()),
        log_tail: Some("boom".into()),
        detail: Some("exited with 2".into()),
        phase: Phase::Steps,
        tag: None,
        approved_by: None,
        samples: Vec::new(),
    }
}

fn timestamp(text: &str) -> Timestamp {
    Timestamp::parse(text).expect("a valid timestamp")
}
