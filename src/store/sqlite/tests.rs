//! The SQLite store through the `Store` trait: what goes in comes out, old databases upgrade, and
//! a value it does not know is an error that says where it is.

use rusqlite::Connection;

use super::migrations::{SCHEMA_VERSION, database_at};
use super::{DATABASE, SqliteStore};
use crate::error::Error;
use crate::runbook::StepKind;
use crate::store::fixtures::{at, sample_run, step};
use crate::store::record::{
    Invocation, Phase, RunRecord, RunStatus, StepRecord, StepStatus, TagRecord,
};
use crate::store::{LockClaim, LockOutcome, Owner, Store};

fn open(dir: &std::path::Path) -> SqliteStore {
    SqliteStore::open(dir).unwrap()
}

fn raw(dir: &std::path::Path) -> Connection {
    Connection::open(dir.join(DATABASE)).unwrap()
}

#[test]
fn a_run_comes_back_as_it_went_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let owner = Owner::this_process();
    let mut run = sample_run("web-1", &owner);
    store.insert_run(&run, &owner).unwrap();
    assert_eq!(store.load_run("web-1").unwrap(), run);

    run.steps[1] = StepRecord {
        status: StepStatus::Succeeded,
        attempts: 2,
        exit_code: Some(0),
        started_at: Some(at("2024-05-01T09:31:00.456Z")),
        duration_ms: Some(789),
        log: Some("/tmp/tag.log".into()),
        log_tail: Some("tagged\n".into()),
        detail: Some("made v1.2.0".into()),
        tag: Some(TagRecord {
            name: "v1.2.0".into(),
            commit: "abc123".into(),
            created: true,
            pushed: Some("origin".into()),
        }),
        ..run.steps[1].clone()
    };
    store.update_step("web-1", &run.steps[1]).unwrap();
    let undo = step(3, "undo-tag", StepKind::Untag, Phase::Undo);
    store.insert_step("web-1", &undo).unwrap();
    run.steps.push(undo);
    run.metrics[0].after = Some(190.0);
    store.update_metrics(&run).unwrap();
    run.status = RunStatus::Succeeded;
    run.status_reason = Some("every step succeeded".into());
    run.finished_at = Some(at("2024-05-01T09:40:00.000Z"));
    run.note = Some("/tmp/note.md".into());
    store.finish_run(&run).unwrap();

    assert_eq!(store.load_run("web-1").unwrap(), run);
    let listed = store.list_runs(Some("web"), 10).unwrap();
    assert_eq!(
        listed,
        vec![RunRecord {
            steps: Vec::new(),
            ..run
        }]
    );
}

#[test]
fn a_resumed_run_gets_its_steps_as_planned_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let owner = Owner::this_process();
    let mut run = sample_run("web-1", &owner);
    store.insert_run(&run, &owner).unwrap();
    run.status = RunStatus::Failed;
    run.finished_at = Some(at("2024-05-01T09:40:00.000Z"));
    store.finish_run(&run).unwrap();

    run.status = RunStatus::Running;
    run.finished_at = None;
    run.content_hash = "changed".into();
    run.resumed
        .push("2024-05-02T08:00:00.000Z by bob@host".into());
    run.steps.truncate(2);
    store.resume_run(&run, &owner).unwrap();
    assert_eq!(store.load_run("web-1").unwrap(), run);
}

/// Writes `value` into `table.column` of every row, as a newer shipbook or a hand edit might.
fn corrupt(dir: &std::path::Path, table: &str, column: &str, value: &str) {
    raw(dir)
        .execute(&format!("UPDATE {table} SET {column} = ?1"), [value])
        .unwrap();
}

#[test]
fn a_value_this_shipbook_does_not_know_is_an_error_naming_column_and_value() {
    let cases = [
        ("runs", "status", "exploded"),
        ("runs", "mode", "yolo"),
        ("runs", "started_at", "yesterday"),
        ("runs", "finished_at", "2024-13-01"),
        ("runs", "files_touched", "not json"),
        ("runs", "invocation", "{\"vars\": 3}"),
        (
            "runs",
            "metrics",
            "[{\"name\":\"p95\",\"better\":\"sideways\"}]",
        ),
        ("runs", "rehearsal", "{\"run_id\": \"x\"}"),
        ("steps", "status", "half_done"),
        ("steps", "kind", "teleport"),
        ("steps", "phase", "encore"),
        ("steps", "started_at", "noon"),
        ("steps", "tag", "[1, 2]"),
    ];
    for (table, column, value) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path());
        let owner = Owner::this_process();
        store
            .insert_run(&sample_run("web-1", &owner), &owner)
            .unwrap();
        corrupt(dir.path(), table, column, value);

        let error = store.load_run("web-1").unwrap_err();
        let Error::Store { message, .. } = &error else {
            panic!("{table}.{column}: not a store error: {error:?}");
        };
        assert!(
            message.contains(&format!("`{table}.{column}`")),
            "{message}"
        );
        assert!(message.contains(value), "{message}");
    }
}

#[test]
fn a_listed_run_with_an_unknown_status_is_an_error_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let owner = Owner::this_process();
    store
        .insert_run(&sample_run("web-1", &owner), &owner)
        .unwrap();
    corrupt(dir.path(), "runs", "status", "exploded");
    let error = store.list_runs(None, 10).unwrap_err().to_string();
    assert!(
        error.contains("column `runs.status` holds `exploded`: not a run status"),
        "{error}"
    );
}

#[test]
fn a_run_whose_process_is_gone_shows_as_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let gone = Owner {
        pid: child.id(),
        pid_start: crate::sys::liveness::process_start(child.id()),
        ..Owner::this_process()
    };
    child.wait().unwrap();
    let mut run = sample_run("web-1", &gone);
    run.steps[0].status = StepStatus::Running;
    store.insert_run(&run, &gone).unwrap();

    let loaded = store.load_run("web-1").unwrap();
    assert_eq!(loaded.status, RunStatus::Interrupted);
    assert_eq!(loaded.steps[0].status, StepStatus::Interrupted);
    let alive = Owner::this_process();
    store.resume_run(&run, &alive).unwrap();
    assert_eq!(store.load_run("web-1").unwrap().status, RunStatus::Running);
}

#[test]
fn a_run_is_found_by_id_prefix_or_last() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let owner = Owner::this_process();
    for (id, started) in [
        ("web-20240501-a", "2024-05-01T09:00:00.000Z"),
        ("web-20240501-b", "2024-05-01T10:00:00.000Z"),
        ("web-20240501-bb", "2024-05-01T08:00:00.000Z"),
    ] {
        let run = RunRecord {
            started_at: at(started),
            ..sample_run(id, &owner)
        };
        store.insert_run(&run, &owner).unwrap();
    }
    assert_eq!(store.resolve_run_id("last").unwrap(), "web-20240501-b");
    assert_eq!(
        store.resolve_run_id("web-20240501-a").unwrap(),
        "web-20240501-a"
    );
    assert_eq!(
        store.resolve_run_id("web-20240501-b").unwrap(),
        "web-20240501-b"
    );
    assert_eq!(
        store.resolve_run_id("web-20240501-bb").unwrap(),
        "web-20240501-bb"
    );
    assert!(matches!(
        store.resolve_run_id("web-"),
        Err(Error::AmbiguousRun { matches, .. }) if matches.len() == 3
    ));
    assert!(matches!(
        store.resolve_run_id("api"),
        Err(Error::UnknownRun { .. })
    ));
    assert!(matches!(
        store.resolve_run_id(" "),
        Err(Error::UnknownRun { .. })
    ));
}

#[test]
fn a_lock_is_refused_while_its_holder_lives_and_taken_over_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let alive = Owner::this_process();
    let since = at("2024-05-01T09:30:00.000Z");
    let taken = store.acquire_lock(&LockClaim {
        runbook: "web",
        env: "prod",
        run_id: "web-1",
        operator: "ann@host",
        owner: &alive,
        since,
    });
    assert!(matches!(taken, Ok(LockOutcome::Taken { taken_over: None })));

    let refused = store.acquire_lock(&LockClaim {
        runbook: "web",
        env: "prod",
        run_id: "web-2",
        operator: "bob@host",
        owner: &alive,
        since,
    });
    let Ok(LockOutcome::Held(holder)) = refused else {
        panic!("not refused: {refused:?}");
    };
    assert_eq!(holder.run_id, "web-1");
    assert_eq!(holder.since, since);
    assert_eq!(holder.host, alive.host);

    raw(dir.path())
        .execute("UPDATE locks SET pid_start = -1", [])
        .unwrap();
    let taken = store.acquire_lock(&LockClaim {
        runbook: "web",
        env: "prod",
        run_id: "web-2",
        operator: "bob@host",
        owner: &alive,
        since,
    });
    let Ok(LockOutcome::Taken {
        taken_over: Some(previous),
    }) = taken
    else {
        panic!("not taken over: {taken:?}");
    };
    assert_eq!(previous.run_id, "web-1");
    store.release_lock("web", "prod", "web-1").unwrap();
    store.release_lock("web", "prod", "web-2").unwrap();
    let free = store.acquire_lock(&LockClaim {
        runbook: "web",
        env: "prod",
        run_id: "web-3",
        operator: "cy@host",
        owner: &alive,
        since,
    });
    assert!(matches!(free, Ok(LockOutcome::Taken { taken_over: None })));
}

/// A run as a shipbook of schema version 1 wrote it: no phase, tag, metrics or invocation.
fn insert_version_1_run(connection: &Connection) {
    connection
        .execute_batch(
            "INSERT INTO runs (run_id, runbook, runbook_path, content_hash, mode, env, operator,
                host, pid, git_sha, git_branch, git_dirty, previous_tag, files_touched,
                started_at, finished_at, status)
             VALUES ('web-old', 'web', '/r/web.toml', 'h', 'run', NULL, 'ann@host', 'elsewhere',
                1, 'abc', 'main', 0, '', '[]', '2023-01-01T00:00:00.000Z',
                '2023-01-01T00:00:01.500Z', 'succeeded');
             INSERT INTO steps (run_id, position, step_id, name, kind, command, status, attempts)
             VALUES ('web-old', 0, 'deploy', 'deploy', 'run', './deploy.sh', 'succeeded', 1);",
        )
        .unwrap();
}

#[test]
fn a_database_of_every_earlier_version_is_upgraded() {
    for version in 0..=SCHEMA_VERSION {
        let dir = tempfile::tempdir().unwrap();
        database_at(&dir.path().join(DATABASE), version);
        if version >= 1 {
            insert_version_1_run(&raw(dir.path()));
        }

        let mut store = open(dir.path());
        let upgraded: usize = raw(dir.path())
            .query_row("PRAGMA user_version", [], |row| row.get("user_version"))
            .unwrap();
        assert_eq!(upgraded, SCHEMA_VERSION, "from version {version}");
        let runs = store.list_runs(None, 10).unwrap();
        if version == 0 {
            assert!(runs.is_empty());
            continue;
        }
        let run = store.load_run("web-old").unwrap();
        assert_eq!(run.duration_ms(), Some(1500), "from version {version}");
        assert!(run.metrics.is_empty() && run.resumed.is_empty());
        assert_eq!(run.invocation, Invocation::default());
        assert_eq!(run.steps[0].phase, Phase::Steps);
        assert_eq!(run.steps[0].tag, None);
    }
}

#[test]
fn a_file_that_is_not_a_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = "not a database\n".repeat(500);
    std::fs::write(dir.path().join(DATABASE), &garbage).unwrap();
    let Err(error) = SqliteStore::open(dir.path()) else {
        panic!("opened");
    };
    assert!(
        error
            .to_string()
            .contains("not a shipbook record database, or a corrupt one"),
        "{error}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(DATABASE)).unwrap(),
        garbage
    );
}
