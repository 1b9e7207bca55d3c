//! Records for the store's tests: a run with every field set, and its steps.

use crate::runbook::{Better, Mode, OnFailure, StepKind};
use crate::store::Owner;
use crate::store::record::{
    Invocation, MetricRecord, Phase, RehearsalCitation, RunRecord, RunStatus, StepRecord,
    StepStatus,
};
use crate::text::timestamp::Timestamp;

pub(super) fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

pub(super) fn step(position: u32, id: &str, kind: StepKind, phase: Phase) -> StepRecord {
    StepRecord {
        position,
        id: id.to_string(),
        name: format!("The {id} step"),
        kind,
        command: format!("./{id}.sh"),
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

/// A run with every field set, as a rehearsal that is about to start.
pub(super) fn sample_run(run_id: &str, owner: &Owner) -> RunRecord {
    RunRecord {
        run_id: run_id.to_string(),
        runbook: "web".into(),
        runbook_path: "/srv/runbooks/web.toml".into(),
        content_hash: "c0ffee".into(),
        mode: Mode::Rehearsal,
        env: Some("staging".into()),
        operator: "ann@host".into(),
        host: owner.host.clone(),
        pid: owner.pid,
        reason: Some("Release 1.2.0".into()),
        owner: Some("payments".into()),
        expected: Some("p95 below 200 ms".into()),
        description: Some("Ship the web app".into()),
        git_sha: "abc123".into(),
        git_branch: "main".into(),
        git_dirty: false,
        uncommitted: Vec::new(),
        previous_tag: "v1.1.0".into(),
        files_touched: vec!["src/app.rs".into(), "Cargo.toml".into()],
        rollback_note: Some("Redeploy the previous tag".into()),
        rollback_command: Some("./deploy.sh v1.1.0".into()),
        started_at: at("2024-05-01T09:30:00.123Z"),
        finished_at: None,
        status: RunStatus::Running,
        status_reason: None,
        note: None,
        metrics: vec![MetricRecord {
            name: "p95_ms".into(),
            better: Better::Lower,
            before: Some(180.0),
            after: None,
            problem: None,
            max_regression: Some(10.0),
        }],
        rehearsal: Some(RehearsalCitation {
            run_id: "web-earlier".into(),
            env: "staging".into(),
            finished_at: at("2024-04-30T17:00:00.000Z"),
            duration_ms: Some(1200),
            rollback_duration_ms: None,
        }),
        skip_rehearsal: None,
        resumed: vec!["2024-05-01T09:29:00.000Z by ann@host".into()],
        warnings: Vec::new(),
        version: None,
        invocation: Invocation {
            vars: vec!["version=1.2.0".into()],
            only: Vec::new(),
            from: Some("deploy".into()),
            on_failure: Some(OnFailure::Undo),
            jobs: Some(3),
        },
        steps: vec![
            step(0, "build", StepKind::Run, Phase::Steps),
            step(1, "tag", StepKind::Tag, Phase::Steps),
            step(2, "back", StepKind::Run, Phase::Rollback),
        ],
    }
}
