//! The team store: two state directories in two clones of one repository (and, where the system
//! lets a test name a host, two host names) pointed at one real PostgreSQL behave as two
//! machines of a team: one lock, one history, one rehearsal gate, and nothing lost when the
//! database goes away.
//!
//! The server is the one `SHIPBOOK_TEST_POSTGRES` names (`.ci/test-postgres start` starts one
//! and prints it). Without it these tests say so and pass; with it, a server that cannot be
//! reached fails them. Each test has a database of its own, dropped at its end.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::test::{Run, Test, git, kill, wait_for_pid};

const SERVER: &str = "SHIPBOOK_TEST_POSTGRES";

/// A database of one test's own on the test server.
struct TeamDb {
    admin_url: String,
    name: String,
    url: String,
}

impl TeamDb {
    /// A fresh database, or `None` (the test then passes, saying why) without a test server.
    fn new() -> Option<TeamDb> {
        let Ok(admin_url) = std::env::var(SERVER) else {
            eprintln!(
                "skipped: {SERVER} names no PostgreSQL server (`eval $(.ci/test-postgres start)`)"
            );
            return None;
        };
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "shipbook_t{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls)
            .unwrap_or_else(|error| panic!("{SERVER}={admin_url} cannot be reached: {error}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("a test database");
        let url = with_database(&admin_url, &name);
        Some(TeamDb {
            admin_url,
            name,
            url,
        })
    }

    fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("the test database")
    }

    fn admin(&self) -> postgres::Client {
        postgres::Client::connect(&self.admin_url, postgres::NoTls).expect("the test server")
    }

    /// Ends every session on the database and lets no new one in (`allow` false), or lets
    /// them in again: the team store "goes away" for shipbook.
    fn allow_connections(&self, allow: bool) {
        let mut admin = self.admin();
        admin
            .batch_execute(&format!(
                "ALTER DATABASE {} ALLOW_CONNECTIONS {allow}",
                self.name
            ))
            .unwrap();
        if !allow {
            admin
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE datname = $1 AND pid <> pg_backend_pid()",
                    &[&self.name],
                )
                .unwrap();
        }
    }

    fn count(&self, sql: &str) -> i64 {
        self.client().query_one(sql, &[]).unwrap().get(0)
    }
}

impl Drop for TeamDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let server = match base.rsplit_once('/') {
        Some((server, _)) if server.matches('/').count() >= 2 => server,
        _ => base,
    };
    format!("{server}/{name}{query}")
}

/// Whether this system lets a test give a process a host name of its own (a UTS namespace).
fn can_name_hosts() -> bool {
    static CAN: OnceLock<bool> = OnceLock::new();
    *CAN.get_or_init(|| {
        Command::new("unshare")
            .args(["--uts", "sh", "-c", "hostname shipbook-probe"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

/// One machine of the team: a clone of the repository, a state directory, a host name.
struct Machine {
    host: &'static str,
    repo: PathBuf,
    state: tempfile::TempDir,
    store: String,
    patience: &'static str,
    _clone: Option<tempfile::TempDir>,
}

impl Machine {
    /// The machine working in `test`'s own repository.
    fn first(test: &Test, db: &TeamDb, host: &'static str) -> Machine {
        Machine {
            host,
            repo: test.path().to_path_buf(),
            state: tempfile::tempdir().unwrap(),
            store: db.url.clone(),
            patience: "2s",
            _clone: None,
        }
    }

    /// Another machine, working in a clone of `test`'s repository.
    fn clone_of(test: &Test, db: &TeamDb, host: &'static str) -> Machine {
        let clone = tempfile::tempdir().unwrap();
        let repo = clone.path().join("repo");
        git(
            test.path(),
            &["clone", "-q", ".", repo.to_str().expect("a UTF-8 path")],
        );
        Machine {
            repo,
            _clone: Some(clone),
            ..Machine::first(test, db, host)
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let binary = env!("CARGO_BIN_EXE_shipbook");
        let mut command = if can_name_hosts() {
            let mut command = Command::new("unshare");
            command.args([
                "--uts",
                "sh",
                "-c",
                "hostname \"$0\" && exec \"$@\"",
                self.host,
                binary,
            ]);
            command
        } else {
            Command::new(binary)
        };
        command
            .args(args)
            .current_dir(&self.repo)
            .env("SHIPBOOK_STATE_DIR", self.state.path())
            .env("SHIPBOOK_STORE", &self.store)
            .env("SHIPBOOK_STORE_PATIENCE", self.patience)
            .env("NO_COLOR", "1")
            .env_remove("SHIPBOOK_STORE_SCHEMA")
            .env_remove("GITHUB_ACTIONS")
            .stdin(Stdio::null());
        command
    }

    fn shipbook(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("shipbook runs"))
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("shipbook starts")
    }

    fn join(&self, relative: &str) -> PathBuf {
        self.repo.join(relative)
    }

    fn pending(&self) -> PathBuf {
        self.state.path().join("pending")
    }
}

/// The output of a finished background shipbook.
fn finished(child: Child) -> Run {
    Run::from(child.wait_with_output().expect("shipbook ends"))
}

const LOCKED: &str = r#"[runbook]
name = "web"
dir = ".."

[environments.production]

[[steps]]
id = "build"
run = "echo build"

[[steps]]
id = "deploy"
run = "echo $$ > deploy.pid; while [ ! -f go ]; do sleep 0.05; done; echo deployed >> journal"

[[steps]]
id = "verify"
run = "echo verified >> journal"

[rollback]
run = "echo rolled-back >> journal"
"#;

fn project(runbook: &str) -> Test {
    let test = Test::new().runbook("web", runbook);
    test.write(".gitignore", "journal\ndeploy.pid\ngo\n");
    test.commit("runbook");
    test
}

/// Starts a production run on `machine` and waits until its deploy step is under way.
fn deploying(machine: &Machine) -> Child {
    let child = machine.spawn(&["run", "runbooks/web.toml", "--env", "production"]);
    wait_for_pid("the deploy step to start", &machine.join("deploy.pid"));
    child
}

fn run_id_of(run: &Run) -> String {
    let marker = "(run ";
    let start = run.stderr.find(marker).expect("a run id in the output") + marker.len();
    run.stderr[start..]
        .split(')')
        .next()
        .expect("a run id")
        .to_string()
}

#[test]
fn a_run_on_one_machine_locks_the_other_out_and_names_its_host() {
    let Some(db) = TeamDb::new() else { return };
    let test = project(LOCKED);
    let a = Machine::first(&test, &db, "machine-a");
    let b = Machine::clone_of(&test, &db, "machine-b");
    let holder = deploying(&a);
    let refused = b
        .shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .code(4)
        .stderr_has("is locked by run");
    if can_name_hosts() {
        assert!(refused.stderr.contains("machine-a"), "{}", refused.stderr);
    }
    assert!(!b.join("journal").exists(), "machine B ran a step");
    std::fs::write(a.join("go"), "").unwrap();
    let done = finished(holder);
    assert_eq!(done.code, 0, "{}", done.stderr);
    // Once the holder is done, the lock is free for the other machine.
    std::fs::write(b.join("go"), "").unwrap();
    b.shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .success();
}

#[test]
fn a_holder_killed_with_9_frees_the_lock_and_shows_interrupted_everywhere() {
    let Some(db) = TeamDb::new() else { return };
    let test = project(LOCKED);
    let a = Machine::first(&test, &db, "machine-a");
    let b = Machine::clone_of(&test, &db, "machine-b");
    let mut holder = deploying(&a);
    let step = std::fs::read_to_string(a.join("deploy.pid")).unwrap();
    kill(holder.id(), "KILL");
    holder.wait().unwrap();
    // What the killed run's step left is no business of the next run.
    let _ = Command::new("kill").args(["-KILL", step.trim()]).status();
    let history = b.shipbook(&["history", "--json"]).success();
    let runs: serde_json::Value = serde_json::from_str(&history.stdout).unwrap();
    assert_eq!(runs[0]["status"], "interrupted", "{}", history.stdout);
    std::fs::write(b.join("go"), "").unwrap();
    b.shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .success()
        .stderr_has("took over the lock of run");
}

const GATED: &str = r#"[runbook]
name = "web"
dir = ".."

[environments.staging]
[environments.production]
requires_rehearsal = "staging"

[[steps]]
id = "build"
run = "echo build-{{ env }} >> journal"

[[steps]]
id = "deploy"
run = "echo deploy-{{ env }} >> journal"

[rollback]
run = "echo rollback-{{ env }} >> journal"
"#;

#[test]
fn a_rehearsal_on_one_machine_lets_production_run_on_another() {
    let Some(db) = TeamDb::new() else { return };
    let test = project(GATED);
    let ci = Machine::first(&test, &db, "ci-runner");
    let laptop = Machine::clone_of(&test, &db, "laptop");
    laptop
        .shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .code(1)
        .stderr_has("rehearsal");
    ci.shipbook(&["rehearse", "runbooks/web.toml", "--env", "staging"])
        .success();
    laptop
        .shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .success();
    assert!(
        std::fs::read_to_string(laptop.join("journal"))
            .unwrap()
            .contains("deploy-production")
    );
}

#[test]
fn a_rehearsal_of_another_commit_on_another_machine_does_not_count() {
    let Some(db) = TeamDb::new() else { return };
    let test = project(GATED);
    let laptop = Machine::clone_of(&test, &db, "laptop");
    test.write("src.txt", "a change the laptop does not have\n");
    test.commit("a newer commit");
    let ci = Machine::first(&test, &db, "ci-runner");
    ci.shipbook(&["rehearse", "runbooks/web.toml", "--env", "staging"])
        .success();
    laptop
        .shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .code(1)
        .stderr_has("commit");
    assert!(!laptop.join("journal").exists());
}

#[test]
fn history_show_and_note_on_one_machine_show_the_others_runs() {
    let Some(db) = TeamDb::new() else { return };
    let test = project(LOCKED);
    let a = Machine::first(&test, &db, "machine-a");
    let b = Machine::clone_of(&test, &db, "machine-b");
    std::fs::write(a.join("go"), "").unwrap();
    let run = a
        .shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .success();
    let run_id = run_id_of(&run);
    b.shipbook(&["history"]).success().stdout_has(&run_id);
    let shown = b.shipbook(&["show", &run_id, "--json"]).success();
    let record: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(record["status"], "succeeded");
    assert_eq!(record["steps"].as_array().unwrap().len(), 3);
    // Where the full log is: the host and the path there; the tail travels with the record.
    if can_name_hosts() {
        assert_eq!(record["host"], "machine-a");
    }
    let log = record["steps"][0]["log"].as_str().unwrap();
    assert!(log.starts_with(a.state.path().to_str().unwrap()), "{log}");
    assert_eq!(record["steps"][0]["log_tail"], "build");
    b.shipbook(&["note", &run_id])
        .success()
        .stdout_has(&run_id)
        .stdout_has("echo verified >> journal");
}

const SLOW_MIDDLE: &str = r#"[runbook]
name = "web"
dir = ".."

[[steps]]
id = "first"
run = "echo first >> journal"

[[steps]]
id = "middle"
run = "echo $$ > middle.pid; while [ ! -f go ]; do sleep 0.05; done; echo middle >> journal"

[[steps]]
id = "last"
run = "echo last >> journal"
"#;

#[test]
fn a_store_lost_mid_step_keeps_the_record_in_the_journal_and_sync_writes_it_once() {
    let Some(db) = TeamDb::new() else { return };
    let test = project(SLOW_MIDDLE);
    let a = Machine::first(&test, &db, "machine-a");
    let child = a.spawn(&["run", "runbooks/web.toml"]);
    wait_for_pid("the middle step to start", &a.join("middle.pid"));
    db.allow_connections(false);
    std::fs::write(a.join("go"), "").unwrap();
    let stopped = finished(child);
    assert_ne!(stopped.code, 0, "{}", stopped.stderr);
    assert!(stopped.stderr.contains("pending"), "{}", stopped.stderr);
    assert!(stopped.stderr.contains("store sync"), "{}", stopped.stderr);
    // The step in flight ran to its end; the run stopped before the next one.
    assert_eq!(a_journal(&a), "first\nmiddle\n");
    assert!(a.pending().read_dir().unwrap().count() == 1);

    db.allow_connections(true);
    a.shipbook(&["store", "status"])
        .success()
        .stdout_has("1 record waiting");
    a.shipbook(&["store", "sync"])
        .success()
        .stderr_has("journal synced: 1 record");
    a.shipbook(&["store", "sync"])
        .success()
        .stderr_has("nothing waits");
    assert_eq!(db.count("SELECT count(*) FROM shipbook.runs"), 1);
    let b = Machine::clone_of(&test, &db, "machine-b");
    let shown = b.shipbook(&["show", "last", "--json"]).success();
    let record: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(
        record["steps"][1]["status"], "succeeded",
        "{}",
        shown.stdout
    );
    assert_eq!(record["steps"][2]["status"], "pending", "{}", shown.stdout);
    assert_ne!(record["status"], "running");
}

fn a_journal(machine: &Machine) -> String {
    std::fs::read_to_string(machine.join("journal")).unwrap_or_default()
}

#[test]
fn an_emergency_rollback_runs_without_the_store_and_syncs_later() {
    let Some(db) = TeamDb::new() else { return };
    let test = project(LOCKED);
    let a = Machine::first(&test, &db, "on-call");
    db.allow_connections(false);
    a.shipbook(&["rollback", "runbooks/web.toml", "--env", "production"])
        .code(3)
        .stderr_has("cannot use the team store");
    let rolled = a
        .shipbook(&[
            "rollback",
            "runbooks/web.toml",
            "--env",
            "production",
            "--yes",
        ])
        .success()
        .stderr_has("cannot use the team store")
        .stderr_has("store sync");
    assert_eq!(a_journal(&a), "rolled-back\n");
    let run_id = run_id_of(&rolled);
    db.allow_connections(true);
    a.shipbook(&["store", "sync"]).success().stderr_has(&run_id);
    let b = Machine::clone_of(&test, &db, "machine-b");
    let shown = b.shipbook(&["show", &run_id, "--json"]).success();
    let record: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(record["mode"], "rollback");
    assert_eq!(record["status"], "succeeded");
}

#[test]
fn force_lock_from_another_machine_ends_the_holders_session() {
    let Some(db) = TeamDb::new() else { return };
    let test = project(LOCKED);
    let a = Machine::first(&test, &db, "machine-a");
    let b = Machine::clone_of(&test, &db, "machine-b");
    let holder = deploying(&a);
    let mut args = vec!["rollback", "runbooks/web.toml", "--env", "production"];
    args.extend(["--force-lock", "--yes"]);
    let forced = b.shipbook(&args).success();
    if can_name_hosts() {
        forced.stderr_has("ended the team-store session of run");
    }
    assert_eq!(a_journal(&b), "rolled-back\n");
    // The holder's step in flight finishes; then it cannot record, and stops.
    std::fs::write(a.join("go"), "").unwrap();
    let stopped = finished(holder);
    assert_ne!(stopped.code, 0, "{}", stopped.stderr);
    assert_eq!(a_journal(&a), "deployed\n", "{}", stopped.stderr);
}

#[test]
fn machines_starting_at_once_on_a_new_database_migrate_it_once() {
    let Some(db) = TeamDb::new() else { return };
    let mut test = Test::new();
    for index in 0..4 {
        test = test.runbook(
            &format!("r{index}"),
            &format!("[runbook]\nname = \"r{index}\"\n\n[[steps]]\nid = \"s\"\nrun = \"true\"\n"),
        );
    }
    test.commit("runbooks");
    let machines: Vec<Machine> = (0..4)
        .map(|_| Machine::clone_of(&test, &db, "machine"))
        .collect();
    let children: Vec<Child> = machines
        .iter()
        .enumerate()
        .map(|(index, machine)| machine.spawn(&["run", &format!("runbooks/r{index}.toml")]))
        .collect();
    for child in children {
        let run = finished(child);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert_eq!(db.count("SELECT count(*) FROM shipbook.schema_version"), 1);
    assert_eq!(db.count("SELECT count(*) FROM shipbook.runs"), 4);
}

#[test]
fn importing_a_local_history_twice_adds_it_once() {
    let Some(db) = TeamDb::new() else { return };
    let test = project(LOCKED);
    std::fs::write(test.join("go"), "").unwrap();
    test.shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .success();
    test.shipbook(&[
        "rollback",
        "runbooks/web.toml",
        "--env",
        "production",
        "--yes",
    ])
    .success();
    let local_state = test.join(".shipbook");
    let from = local_state.to_str().unwrap();
    let a = Machine::first(&test, &db, "machine-a");
    a.shipbook(&["store", "import", "--from", from])
        .success()
        .stderr_has("imported 2 runs");
    a.shipbook(&["store", "import", "--from", from])
        .success()
        .stderr_has("imported 0 runs")
        .stderr_has("2 already there");
    let b = Machine::clone_of(&test, &db, "machine-b");
    let history = b.shipbook(&["history", "--json"]).success();
    let runs: serde_json::Value = serde_json::from_str(&history.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 2);
    let shown = b.shipbook(&["show", "last", "--json"]).success();
    assert!(shown.stdout.contains("rolled-back"), "{}", shown.stdout);
}

#[test]
fn a_schema_of_a_newer_shipbook_is_refused_untouched() {
    let Some(db) = TeamDb::new() else { return };
    let test = project(LOCKED);
    let a = Machine::first(&test, &db, "machine-a");
    std::fs::write(a.join("go"), "").unwrap();
    a.shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .success();
    db.client()
        .batch_execute("UPDATE shipbook.schema_version SET version = 99")
        .unwrap();
    a.shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .code(1)
        .stderr_has("newer shipbook");
    a.shipbook(&["history"])
        .code(1)
        .stderr_has("newer shipbook");
    assert_eq!(db.count("SELECT count(*) FROM shipbook.runs"), 1);
    assert_eq!(
        db.count("SELECT version::bigint FROM shipbook.schema_version"),
        99
    );
}

#[test]
fn a_store_schema_of_its_own_keeps_two_teams_apart() {
    let Some(db) = TeamDb::new() else { return };
    let test = project(LOCKED);
    let a = Machine::first(&test, &db, "machine-a");
    std::fs::write(a.join("go"), "").unwrap();
    a.shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .success();
    let other = a
        .shipbook(&["history", "--store-schema", "payments"])
        .success();
    assert!(
        other.stderr.contains("no runs recorded yet"),
        "{}",
        other.stderr
    );
    assert_eq!(
        db.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'payments'"),
        0,
        "a reading command created a schema"
    );
}

#[test]
fn a_store_that_is_not_postgres_is_refused_naming_the_accepted_forms() {
    let test = project(LOCKED);
    let run = test.shipbook(&["history", "--store", "mysql://ann:hunter2@db/releases"]);
    let run = run.code(2).stderr_has("postgres://");
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
}

#[test]
fn a_password_is_never_printed_nor_recorded() {
    let Some(db) = TeamDb::new() else { return };
    let test = project(LOCKED);
    let mut a = Machine::first(&test, &db, "machine-a");
    // The test server trusts local connections, so any password is accepted and ignored.
    a.store = db.url.replacen("postgres@", "postgres:hunter2@", 1);
    std::fs::write(a.join("go"), "").unwrap();
    let run = a
        .shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .success();
    let status = a.shipbook(&["store", "status"]).success();
    let shown = a.shipbook(&["show", "last", "--json"]).success();
    for text in [&run.stderr, &status.stdout, &shown.stdout] {
        assert!(!text.contains("hunter2"), "{text}");
    }
    // Nor when the server does not answer.
    a.store = "postgres://ann:hunter2@127.0.0.1:1/none".into();
    let unreachable = a.shipbook(&["history"]).code(1);
    assert!(
        !unreachable.stderr.contains("hunter2"),
        "{}",
        unreachable.stderr
    );
    assert_eq!(
        db.count("SELECT count(*) FROM shipbook.runs WHERE record::text LIKE '%hunter2%'"),
        0
    );
    let files = crate::test::files_containing(a.state.path(), b"hunter2");
    assert!(files.is_empty(), "{files:?}");
}

#[test]
fn a_server_that_does_not_answer_is_a_clear_error() {
    let test = project(LOCKED);
    let run = test.shipbook(&[
        "history",
        "--store",
        "postgres://release@127.0.0.1:1/releases",
    ]);
    run.code(1)
        .stderr_has("team store postgres://release@127.0.0.1:1/releases")
        .stderr_has("safe to retry once it answers");
}

#[test]
fn tls_is_used_and_verified_as_sslmode_says() {
    let Some(db) = TeamDb::new() else { return };
    let Ok(authority) = std::env::var("SHIPBOOK_TEST_POSTGRES_CA") else {
        eprintln!("skipped: the test server does not speak TLS (no SHIPBOOK_TEST_POSTGRES_CA)");
        return;
    };
    let test = project(LOCKED);
    let mut a = Machine::first(&test, &db, "machine-a");
    a.store = format!("{}?sslmode=verify-full&sslrootcert={authority}", db.url);
    let holder = deploying(&a);
    let encrypted = db.count(
        "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
         WHERE a.application_name = 'shipbook' AND a.datname = current_database() AND s.ssl",
    );
    assert!(encrypted >= 1, "shipbook's session is not encrypted");
    std::fs::write(a.join("go"), "").unwrap();
    let done = finished(holder);
    assert_eq!(done.code, 0, "{}", done.stderr);

    // Roots that did not sign the server's certificate: refused, and said why.
    a.store = format!("{}?sslmode=verify-full&sslrootcert=system", db.url);
    a.shipbook(&["history"]).code(1).stderr_has("certificate");
    // `require` encrypts without verifying; a root certificate given makes it verify the chain.
    a.store = format!("{}?sslmode=require", db.url);
    a.shipbook(&["history"]).success();
    a.store = format!("{}?sslmode=require&sslrootcert=system", db.url);
    a.shipbook(&["history"]).code(1).stderr_has("certificate");
}

const FAILS_ONCE: &str = r#"[runbook]
name = "web"
dir = ".."

[[steps]]
id = "build"
run = "echo build >> journal"

[[steps]]
id = "deploy"
run = "test -f fixed && echo deploy >> journal"
"#;

#[test]
fn a_run_that_failed_on_one_machine_is_resumed_on_another() {
    let Some(db) = TeamDb::new() else { return };
    let test = Test::new().runbook("web", FAILS_ONCE);
    test.write(".gitignore", "journal\nfixed\n");
    test.commit("runbook");
    let ci = Machine::clone_of(&test, &db, "ci-runner");
    let failed = ci.shipbook(&["run", "runbooks/web.toml"]).code(1);
    let run_id = run_id_of(&failed);
    // The CI runner's workspace is gone: its path means nothing on the laptop.
    std::fs::remove_dir_all(&ci.repo).unwrap();
    let laptop = Machine::clone_of(&test, &db, "laptop");
    std::fs::write(laptop.join("fixed"), "").unwrap();
    laptop
        .shipbook(&["resume", &run_id])
        .success()
        .stderr_has("its runbook here is");
    // Only what did not succeed ran again, here.
    assert_eq!(a_journal(&laptop), "deploy\n");
    let shown = laptop.shipbook(&["show", &run_id, "--json"]).success();
    let record: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(record["status"], "succeeded");
}
