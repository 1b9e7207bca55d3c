//! The record store refuses what it cannot trust, and touches nothing when it does.

use crate::test::Test;

const RUNBOOK: &str =
    "[runbook]\nname = \"web\"\ndir = \"..\"\n\n[[steps]]\nid = \"a\"\nrun = \"touch ran\"\n";

#[test]
fn a_corrupt_database_is_refused_untouched() {
    let mut test = Test::new().runbook("web", RUNBOOK);
    let garbage = "this is not a database, it is a text file that got in the way\n".repeat(100);
    test.write(".shipbook/shipbook.db", &garbage);
    test = test.args(&["run", "runbooks/web.toml"]);
    test.run()
        .code(1)
        .stderr_has("not a shipbook record database, or a corrupt one")
        .stderr_has("the record store was left as it was");
    assert_eq!(test.read(".shipbook/shipbook.db"), garbage);
    assert!(!test.join("ran").exists());
}

#[test]
fn a_database_from_a_newer_shipbook_is_refused() {
    let mut test = Test::new().runbook("web", RUNBOOK);
    std::fs::create_dir_all(test.join(".shipbook")).unwrap();
    let connection = rusqlite::Connection::open(test.join(".shipbook/shipbook.db")).unwrap();
    connection
        .execute_batch("PRAGMA user_version = 999;")
        .unwrap();
    drop(connection);
    test = test.args(&["run", "runbooks/web.toml"]);
    test.run()
        .code(1)
        .stderr_has("written by a newer shipbook (schema version 999");
    assert!(!test.join("ran").exists());
    test = test.args(&["history"]);
    test.run().code(1).stderr_has("newer shipbook");
}

#[test]
fn a_state_directory_that_cannot_be_created_is_reported() {
    let mut test = Test::new().runbook("web", RUNBOOK);
    test.write("blocker", "a file where a directory should be\n");
    test = test.args(&["--state-dir", "blocker/state", "run", "runbooks/web.toml"]);
    test.run()
        .code(1)
        .stderr_has("cannot use the state directory blocker/state")
        .stderr_has("--state-dir or SHIPBOOK_STATE_DIR");
    assert!(!test.join("ran").exists());
}

#[test]
fn the_state_directory_can_be_chosen() {
    let mut test = Test::new()
        .runbook("web", RUNBOOK)
        .env("SHIPBOOK_STATE_DIR", "elsewhere")
        .args(&["run", "runbooks/web.toml"]);
    test.run().success();
    assert!(test.join("elsewhere/shipbook.db").exists());
    assert!(!test.join(".shipbook").exists());
    test = test.args(&["history", "--json"]);
    assert_eq!(test.run().success().json().as_array().unwrap().len(), 1);
}

#[test]
fn outside_a_git_repository_the_state_lives_beside_the_runbook() {
    let mut test = Test::bare()
        .runbook("web", RUNBOOK)
        .args(&["run", "runbooks/web.toml"]);
    test.run().success();
    assert!(test.join("runbooks/.shipbook/shipbook.db").exists());
}

/// A state directory path that is a file is refused by every command with a clear message
/// (exit 2), not read as an empty record ("no runs recorded yet").
#[test]
fn a_state_directory_that_is_a_file_is_refused_by_every_command() {
    let test = Test::new().runbook(
        "web",
        &format!("{RUNBOOK}\n[rollback]\nrun = \"touch rolled-back\"\n"),
    );
    test.write(".shipbook", "a file where the state directory should be\n");
    for args in [
        &["history"][..],
        &["show", "last"],
        &["note", "last"],
        &["resume", "last"],
        &["run", "runbooks/web.toml"],
        &["rehearse", "runbooks/web.toml"],
        &["rollback", "runbooks/web.toml", "--yes"],
    ] {
        test.shipbook(args)
            .code(2)
            .stderr_has("the state directory")
            .stderr_has("is not a directory")
            .stderr_has("safe to retry with another state directory");
    }
    assert!(!test.join("ran").exists());
    assert!(!test.join("rolled-back").exists());
}
