//! What a crash or a rough neighbour leaves behind: temporary files of a note whose writer was
//! killed are removed, and a record store deleted during a run stops the run, whose record is
//! kept aside and goes into the next database.

use crate::test::Test;

const RUNBOOK: &str = r#"[runbook]
name = "web"
dir = ".."

[[steps]]
id = "one"
run = "echo one >> journal"

[[steps]]
id = "two"
run = "echo two >> journal"
"#;

/// The pid of a process that has ended (and been reaped), so that nothing owns it now.
fn a_gone_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

/// When a process started, in clock ticks since boot, as `/proc/PID/stat` gives it.
fn start_of(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    after_name.split(' ').nth(19).unwrap().parse().unwrap()
}

#[test]
fn temporary_files_of_a_killed_note_writer_are_removed() {
    let test = Test::new().runbook("web", RUNBOOK);
    // What `kill -9` during a note's write leaves: the temporary file beside the note, named
    // after the writer's process.
    let leftover = format!(".shipbook/notes/.shipbook-{}-0-a1b2c3.tmp", a_gone_pid());
    test.write(&leftover, "half a note");
    // A file of a writer still at work is not touched.
    let pid = std::process::id();
    let in_flight = format!(
        ".shipbook/notes/.shipbook-{pid}-{}-d4e5f6.tmp",
        start_of(pid)
    );
    test.write(&in_flight, "a note being written");
    test.write(".shipbook/notes/.keep", "not shipbook's");

    test.shipbook(&["run", "runbooks/web.toml"]).success();
    assert!(!test.join(&leftover).exists(), "the leftover is removed");
    assert!(test.join(&in_flight).exists());
    assert!(test.join(".shipbook/notes/.keep").exists());
    let notes: Vec<String> = std::fs::read_dir(test.join(".shipbook/notes"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp") && !name.contains(&std::process::id().to_string()))
        .collect();
    assert!(notes.is_empty(), "no temporary file left: {notes:?}");
}

#[test]
fn a_record_store_deleted_during_a_run_stops_it() {
    let test = Test::new().runbook(
        "web",
        &RUNBOOK.replace(
            "echo one >> journal",
            "echo one >> journal; rm -f .shipbook/shipbook.db .shipbook/shipbook.db-wal .shipbook/shipbook.db-shm",
        ),
    );
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("was deleted or replaced while run")
        .stderr_has("step `one` succeeded")
        .stderr_has("not run: `two`")
        .stderr_has("the run's true record was kept in ");
    assert_eq!(test.read("journal"), "one\n", "no step ran unrecorded");
    // The record kept aside goes into the database the next command opens.
    let record = test.last_run();
    assert_eq!(record["steps"][0]["status"], "succeeded", "{record:#}");
    assert_eq!(record["steps"][1]["status"], "pending", "{record:#}");
}
