//! The contract every record store keeps, run against each backend: SQLite always, and
//! PostgreSQL when `SHIPBOOK_TEST_POSTGRES` names a server (each test in a schema of its own,
//! dropped at its end). With the variable set, a server that cannot be reached fails the tests.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::fixtures::{at, sample_run, step};
use super::postgres::{PostgresStore, Target};
use super::record::{Phase, RunRecord, RunStatus, StepStatus};
use super::sqlite::SqliteStore;
use super::{LockClaim, LockOutcome, Owner, Store};
use crate::error::Error;
use crate::runbook::{Mode, StepKind};

/// Opens stores of one backend, each a new connection to the same records.
type Opener = Box<dyn Fn() -> Box<dyn Store>>;

/// Runs `contract` on every backend there is to test.
fn on_every_backend(contract: impl Fn(&Opener)) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let sqlite: Opener = Box::new(move || Box::new(SqliteStore::open(&path).unwrap()));
    contract(&sqlite);
    if let Some(schema) = Schema::new() {
        let target = schema.target.clone();
        let postgres: Opener =
            Box::new(move || Box::new(PostgresStore::open(&target, true).unwrap().unwrap()));
        contract(&postgres);
    }
}

/// A schema of one test's own on the test server.
struct Schema {
    url: String,
    target: Target,
}

impl Schema {
    fn new() -> Option<Schema> {
        let url = std::env::var("SHIPBOOK_TEST_POSTGRES").ok()?;
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "contract_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let target = Target::parse(&url, &name, &|_| None)
            .unwrap_or_else(|error| panic!("SHIPBOOK_TEST_POSTGRES={url}: {error}"));
        Some(Schema { url, target })
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut client) = ::postgres::Client::connect(&self.url, ::postgres::NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                self.target.schema
            ));
        }
    }
}

fn finished(mut run: RunRecord) -> RunRecord {
    run.status = RunStatus::Succeeded;
    run.finished_at = Some(at("2024-05-01T09:31:00.000Z"));
    run.note = Some("# The note\n".into());
    run
}

#[test]
fn a_run_comes_back_as_it_went_in_and_steps_change_one_at_a_time() {
    on_every_backend(|open| {
        let mut store = open();
        let owner = Owner::this_process();
        let run = finished(sample_run("web-1", &owner));
        store.insert_run(&run, &owner).unwrap();
        assert_eq!(store.load_run("web-1").unwrap(), run);

        let mut changed = run.steps[1].clone();
        changed.status = StepStatus::Failed;
        changed.exit_code = Some(3);
        changed.log_tail = Some("boom".into());
        store.update_step("web-1", &changed).unwrap();
        let undo = step(3, "undo-tag", StepKind::Untag, Phase::Undo);
        store.insert_step("web-1", &undo).unwrap();
        let loaded = open().load_run("web-1").unwrap();
        assert_eq!(loaded.steps.len(), 4);
        assert_eq!(loaded.steps[1], changed);
        assert_eq!(loaded.steps[3], undo);
        assert!(matches!(
            store.load_run("web-2"),
            Err(Error::UnknownRun { .. })
        ));
    });
}

#[test]
fn steps_that_change_together_are_kept_together() {
    on_every_backend(|open| {
        let mut store = open();
        let owner = Owner::this_process();
        let run = finished(sample_run("web-1", &owner));
        store.insert_run(&run, &owner).unwrap();
        let mut done = run.steps[0].clone();
        done.status = StepStatus::Succeeded;
        done.exit_code = Some(0);
        done.duration_ms = Some(12);
        let mut next = run.steps[1].clone();
        next.status = StepStatus::Failed;
        next.attempts = 1;
        next.started_at = Some(at("2024-05-01T09:30:05.000Z"));
        store.update_steps("web-1", &[&done, &next]).unwrap();
        let loaded = open().load_run("web-1").unwrap();
        assert_eq!(loaded.steps[0], done);
        assert_eq!(loaded.steps[1], next);
        assert_eq!(loaded.steps[2], run.steps[2]);
    });
}

#[test]
fn the_end_of_a_run_and_a_rewrite_are_kept() {
    on_every_backend(|open| {
        let mut store = open();
        let owner = Owner::this_process();
        let mut run = finished(sample_run("web-1", &owner));
        store.insert_run(&run, &owner).unwrap();
        run.metrics[0].after = Some(175.0);
        store.update_metrics(&run).unwrap();
        run.status = RunStatus::Failed;
        run.status_reason = Some("step `tag` exited with 3".into());
        store.finish_run(&run).unwrap();
        assert_eq!(store.load_run("web-1").unwrap(), run);

        run.steps.truncate(1);
        run.steps[0].status = StepStatus::Succeeded;
        store.rewrite_run(&run).unwrap();
        assert_eq!(open().load_run("web-1").unwrap(), run);
        // A resume, under the run's lock, runs it again with its steps planned again: they
        // replace those recorded.
        let since = at("2024-05-02T10:00:00.000Z");
        store
            .acquire_lock(&LockClaim {
                runbook: "web",
                env: "staging",
                run_id: "web-1",
                operator: "bob@host",
                owner: &owner,
                since,
            })
            .unwrap();
        run.status = RunStatus::Running;
        run.status_reason = None;
        run.finished_at = None;
        run.resumed
            .push("2024-05-02T10:00:00.000Z by bob@host".into());
        run.steps = vec![step(0, "build", StepKind::Run, Phase::Steps)];
        store.resume_run(&run, &owner).unwrap();
        assert_eq!(store.load_run("web-1").unwrap(), run);
    });
}

#[test]
fn runs_are_listed_newest_first_without_their_steps() {
    on_every_backend(|open| {
        let mut store = open();
        let owner = Owner::this_process();
        for (id, runbook, started) in [
            ("web-a", "web", "2024-05-01T09:00:00.000Z"),
            ("api-b", "api", "2024-05-01T10:00:00.000Z"),
            ("web-c", "web", "2024-05-01T11:00:00.000Z"),
        ] {
            let run = RunRecord {
                runbook: runbook.into(),
                started_at: at(started),
                ..finished(sample_run(id, &owner))
            };
            store.insert_run(&run, &owner).unwrap();
        }
        let ids = |runs: Vec<RunRecord>| -> Vec<String> {
            assert!(runs.iter().all(|run| run.steps.is_empty()));
            runs.into_iter().map(|run| run.run_id).collect()
        };
        assert_eq!(
            ids(store.list_runs(None, 10).unwrap()),
            ["web-c", "api-b", "web-a"]
        );
        assert_eq!(ids(store.list_runs(None, 1).unwrap()), ["web-c"]);
        assert_eq!(
            ids(store.list_runs(Some("web"), 10).unwrap()),
            ["web-c", "web-a"]
        );
        assert_eq!(store.resolve_run_id("last").unwrap(), "web-c");
        assert_eq!(store.resolve_run_id("api").unwrap(), "api-b");
        assert!(matches!(
            store.resolve_run_id("web-"),
            Err(Error::AmbiguousRun { matches, .. }) if matches.len() == 2
        ));
        assert!(matches!(
            store.resolve_run_id("db"),
            Err(Error::UnknownRun { .. })
        ));
    });
}

#[test]
fn rehearsals_are_those_of_the_runbook_and_environment_newest_first() {
    on_every_backend(|open| {
        let mut store = open();
        let owner = Owner::this_process();
        let runs = [
            (
                "r-1",
                Mode::Rehearsal,
                "staging",
                "2024-05-01T09:00:00.000Z",
            ),
            (
                "r-2",
                Mode::Rehearsal,
                "staging",
                "2024-05-01T10:00:00.000Z",
            ),
            ("r-3", Mode::Rehearsal, "qa", "2024-05-01T11:00:00.000Z"),
            ("r-4", Mode::Run, "staging", "2024-05-01T12:00:00.000Z"),
        ];
        for (id, mode, env, started) in runs {
            let run = RunRecord {
                mode,
                env: Some(env.into()),
                started_at: at(started),
                ..finished(sample_run(id, &owner))
            };
            store.insert_run(&run, &owner).unwrap();
        }
        let found = store.rehearsals("web", "staging", 10).unwrap();
        let ids: Vec<&str> = found.iter().map(|run| run.run_id.as_str()).collect();
        assert_eq!(ids, ["r-2", "r-1"]);
        assert_eq!(found[0].steps.len(), 3, "a rehearsal comes with its steps");
        assert_eq!(store.rehearsals("web", "staging", 1).unwrap().len(), 1);
        assert!(store.rehearsals("api", "staging", 10).unwrap().is_empty());
    });
}

#[test]
fn a_lock_keeps_a_second_store_out_until_it_is_released() {
    on_every_backend(|open| {
        let mut first = open();
        let mut second = open();
        let owner = Owner::this_process();
        let since = at("2024-05-01T09:30:00.000Z");
        let taken = first.acquire_lock(&LockClaim {
            runbook: "web",
            env: "prod",
            run_id: "web-1",
            operator: "ann@host",
            owner: &owner,
            since,
        });
        assert!(matches!(taken, Ok(LockOutcome::Taken { taken_over: None })));
        let refused = second.acquire_lock(&LockClaim {
            runbook: "web",
            env: "prod",
            run_id: "web-2",
            operator: "bob@host",
            owner: &owner,
            since,
        });
        let Ok(LockOutcome::Held(holder)) = refused else {
            panic!("not refused: {refused:?}");
        };
        assert_eq!(
            (
                holder.run_id.as_str(),
                holder.operator.as_str(),
                holder.since
            ),
            ("web-1", "ann@host", since)
        );
        assert_eq!(holder.host, owner.host);
        // Another environment is another lock.
        let other = second.acquire_lock(&LockClaim {
            runbook: "web",
            env: "qa",
            run_id: "web-3",
            operator: "bob@host",
            owner: &owner,
            since,
        });
        assert!(matches!(other, Ok(LockOutcome::Taken { taken_over: None })));
        first.release_lock("web", "prod", "web-1").unwrap();
        let taken = second.acquire_lock(&LockClaim {
            runbook: "web",
            env: "prod",
            run_id: "web-2",
            operator: "bob@host",
            owner: &owner,
            since,
        });
        assert!(matches!(taken, Ok(LockOutcome::Taken { taken_over: None })));
        second.release_lock("web", "prod", "web-2").unwrap();
        second.release_lock("web", "qa", "web-3").unwrap();
    });
}

/// PostgreSQL's own promise: a holder whose session ends (its process killed, its network
/// gone) loses the lock at once, and its run shows as interrupted from everywhere.
#[test]
fn on_postgres_a_holder_whose_session_ends_loses_the_lock_and_its_run_is_interrupted() {
    let Some(schema) = Schema::new() else {
        return;
    };
    let open = || PostgresStore::open(&schema.target, true).unwrap().unwrap();
    let owner = Owner::this_process();
    let since = at("2024-05-01T09:30:00.000Z");
    let mut holder = open();
    holder
        .acquire_lock(&LockClaim {
            runbook: "web",
            env: "prod",
            run_id: "web-1",
            operator: "ann@host",
            owner: &owner,
            since,
        })
        .unwrap();
    let mut run = sample_run("web-1", &owner);
    run.steps[0].status = StepStatus::Running;
    holder.insert_run(&run, &owner).unwrap();
    let mut other = open();
    assert_eq!(other.load_run("web-1").unwrap().status, RunStatus::Running);
    drop(holder);
    // The server notices the closed connection a moment later.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let taken = loop {
        match other
            .acquire_lock(&LockClaim {
                runbook: "web",
                env: "prod",
                run_id: "web-2",
                operator: "bob@host",
                owner: &owner,
                since,
            })
            .unwrap()
        {
            LockOutcome::Taken { taken_over } => break taken_over,
            LockOutcome::Held(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            LockOutcome::Held(holder) => panic!("still held by {holder:?}"),
        }
    };
    assert_eq!(taken.map(|holder| holder.run_id).as_deref(), Some("web-1"));
    let loaded = other.load_run("web-1").unwrap();
    assert_eq!(loaded.status, RunStatus::Interrupted);
    assert_eq!(loaded.steps[0].status, StepStatus::Interrupted);
    assert_eq!(
        other.list_runs(None, 1).unwrap()[0].status,
        RunStatus::Interrupted
    );
}
