//! A full disk in the middle of a run: no step's true result is lost, a cut log says so, and the
//! message says which steps ran.
//!
//! The state directory is put on a small tmpfs that the test mounts, which needs root (as the
//! tests and CI run here). A refused mount fails the test, loudly, rather than letting it pass
//! without having checked anything.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::test::{Test, assert_has};

/// A tmpfs mounted for as long as this lives.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    #[track_caller]
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("mount runs");
        assert!(
            output.status.success(),
            "THIS TEST CHECKED NOTHING: it cannot mount a {size} tmpfs at {} to fill up ({}); it needs root, as CI has",
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
        Tmpfs {
            dir: dir.to_path_buf(),
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

const RUNBOOK: &str = r#"[runbook]
name = "web"
dir = ".."

[[steps]]
id = "one"
run = "echo one >> journal"

[[steps]]
id = "big"
run = "BIG"

[[steps]]
id = "three"
run = "echo three >> journal"

[rollback]
run = "echo rollback >> journal"
"#;

#[test]
fn a_step_whose_output_would_fill_the_disk_has_its_log_cut_and_the_run_goes_on() {
    let test = Test::new().runbook(
        "web",
        &RUNBOOK.replace(
            "BIG",
            "head -c 6000000 /dev/zero | tr '\\\\0' x; echo; echo big >> journal",
        ),
    );
    let _disk = Tmpfs::mount(&test.join("state"), "4m");
    let run = test
        .shipbook(&["--state-dir", "state", "run", "runbooks/web.toml"])
        .success();
    assert_has(&run.stderr, "✓ big");
    assert_has(&run.stderr, "log cut after ");
    assert_eq!(test.read("journal"), "one\nbig\nthree\n");

    let record = test
        .shipbook(&["--state-dir", "state", "show", "last", "--json"])
        .success()
        .json();
    let big = &record["steps"][1];
    assert_eq!(big["status"], "succeeded", "{record:#}");
    let detail = big["detail"].as_str().unwrap();
    assert_has(detail, "log cut after ");
    assert_has(detail, "bytes of output not written");
    assert_has(detail, "kept for the record and the change note");
    let log = std::fs::read_to_string(test.join(big["log"].as_str().unwrap())).unwrap();
    assert!(log.len() < 6_000_000, "the log was not cut");
    assert_has(&log, "[shipbook: the log stops here: ");
    assert_eq!(record["steps"][2]["status"], "succeeded");
    assert!(test.join(record["note"].as_str().unwrap()).exists());
}

#[test]
fn a_disk_that_fills_mid_run_loses_no_steps_true_result() {
    let test = Test::new().runbook(
        "web",
        &RUNBOOK.replace(
            "BIG",
            "head -c 10000000 /dev/zero > state/filler; echo big >> journal",
        ),
    );
    let elsewhere = test.join("tmp");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let test = test.env("TMPDIR", elsewhere.to_str().unwrap());
    let _disk = Tmpfs::mount(&test.join("state"), "4m");
    let run = test
        .shipbook(&["--state-dir", "state", "run", "runbooks/web.toml"])
        .code(1);
    let stderr = &run.stderr;
    assert!(!stderr.contains("nothing was run"), "{stderr}");
    assert_has(stderr, "stopped: its record could not be written");
    assert_has(stderr, "database or disk is full");
    assert_has(stderr, "step `one` succeeded, exit 0");
    assert_has(stderr, "step `big` succeeded, exit 0");
    assert_has(stderr, "not run: `three`");
    assert_eq!(test.read("journal"), "one\nbig\n");

    // The state directory is full, so the true record went to the temporary directory.
    let kept = std::fs::read_dir(&elsewhere)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.to_string_lossy().ends_with(".json"))
        .unwrap_or_else(|| panic!("no record kept in {}:\n{stderr}", elsewhere.display()));
    assert_has(stderr, &format!("was kept in {}", kept.display()));
    assert_has(stderr, "move it into state/pending/");

    // Space comes back; the kept record is moved where the message says, and is written in.
    std::fs::remove_file(test.join("state/filler")).unwrap();
    let pending = test.join("state/pending");
    std::fs::create_dir_all(&pending).unwrap();
    // A move across file systems, as `mv` makes it.
    std::fs::copy(&kept, pending.join(kept.file_name().unwrap())).unwrap();
    std::fs::remove_file(&kept).unwrap();
    let record = test
        .shipbook(&["--state-dir", "state", "show", "last", "--json"])
        .success()
        .json();
    assert_eq!(record["status"], "failed", "{record:#}");
    assert_has(
        record["status_reason"].as_str().unwrap(),
        "its record could not be written",
    );
    assert_eq!(record["steps"][1]["status"], "succeeded", "{record:#}");
    assert_eq!(record["steps"][2]["status"], "pending", "{record:#}");
    assert!(
        !pending.exists(),
        "the kept record is written in and removed"
    );

    // Resume carries on after the steps that truly ran.
    test.shipbook(&["--state-dir", "state", "resume", "last"])
        .success();
    assert_eq!(test.read("journal"), "one\nbig\nthree\n");
}
