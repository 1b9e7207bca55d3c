//! No process a step starts outlives the step, whatever its process group; a process that
//! started a session of its own (`setsid`) is the one way to leave a service running.

use crate::test::{Test, alive, kill, read_pid};

fn runbook(steps: &str) -> String {
    format!("[runbook]\nname = \"web\"\ndir = \"..\"\n\n{steps}")
}

/// A step that starts `background` and waits until it has written its pid to `pid_file`, so
/// that the step ends only once the process is set up as it means to be.
fn step_leaving(id: &str, background: &str, pid_file: &str) -> String {
    format!(
        "[[steps]]\nid = \"{id}\"\nrun = \"\"\"{background} & while ! test -s {pid_file}; do sleep 0.05; done\"\"\"\n\n"
    )
}

#[test]
fn a_job_that_shell_job_control_put_in_a_group_of_its_own_does_not_outlive_the_step() {
    let mut test = Test::new()
        .runbook(
            "web",
            &runbook(
                "[[steps]]\nid = \"monitor\"\nrun = [\"bash\", \"-c\", \"set -m; sleep 300 & echo $! > job.pid\"]\n",
            ),
        )
        .args(&["run", "runbooks/web.toml"]);
    test.run().success();
    let job = read_pid(&test.join("job.pid"));
    assert!(!alive(job), "the job {job} outlived its step");
}

#[test]
fn a_helper_that_makes_its_own_group_does_not_outlive_the_step() {
    // coreutils `timeout` puts itself and its command in a new process group.
    let mut test = Test::new()
        .runbook(
            "web",
            &runbook(&step_leaving(
                "helper",
                "timeout 300 sh -c 'echo $$ > inner.pid; exec sleep 300' > /dev/null 2>&1",
                "inner.pid",
            )),
        )
        .args(&["run", "runbooks/web.toml"]);
    test.run().success();
    let inner = read_pid(&test.join("inner.pid"));
    assert!(
        !alive(inner),
        "the command under `timeout` ({inner}) outlived its step"
    );
}

#[test]
fn a_process_that_ignores_term_with_its_output_redirected_is_killed_before_the_next_step() {
    let steps = step_leaving(
        "stubborn",
        "sh -c 'trap \"\" TERM; echo $$ > stubborn.pid; exec sleep 300' > /dev/null 2>&1",
        "stubborn.pid",
    ) + "[[steps]]\nid = \"after\"\nrun = \"if kill -0 $(cat stubborn.pid) 2>/dev/null; then echo alive; else echo gone; fi > verdict\"\n";
    let mut test = Test::new()
        .runbook("web", &runbook(&steps))
        .args(&["run", "runbooks/web.toml"]);
    test.run().success();
    let stubborn = read_pid(&test.join("stubborn.pid"));
    assert_eq!(test.read("verdict"), "gone\n", "seen by the next step");
    assert!(!alive(stubborn), "the process {stubborn} outlived its step");
}

#[test]
fn a_process_that_started_its_own_session_is_left_running() {
    let mut test = Test::new()
        .runbook(
            "web",
            &runbook(&step_leaving(
                "service",
                "setsid sh -c 'echo $$ > service.pid; exec sleep 300' > /dev/null 2>&1",
                "service.pid",
            )),
        )
        .args(&["run", "runbooks/web.toml"]);
    test.run().success();
    let service = read_pid(&test.join("service.pid"));
    let detached = alive(service);
    // The test leaves nothing behind.
    if detached {
        kill(service as u32, "KILL");
    }
    assert!(
        detached,
        "the detached process {service} was ended with its step"
    );
}

/// In a pid namespace whose session leader is outside it (how containers and some CI runners
/// start a job), the kernel says the session of every process in it is 0. shipbook once took
/// that for a pid and panicked when a step left anything behind.
#[test]
fn in_a_pid_namespace_whose_session_leader_is_outside_leftovers_are_still_ended() {
    let namespace_works = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !namespace_works {
        eprintln!("skipped: `unshare --pid` is not permitted here");
        return;
    }
    let steps = step_leaving(
        "leaves",
        "sh -c 'echo $$ > left.pid; exec sleep 300' > /dev/null 2>&1",
        "left.pid",
    ) + "[[steps]]\nid = \"after\"\nrun = \"if kill -0 $(cat left.pid) 2>/dev/null; then echo alive; else echo gone; fi > verdict\"\n";
    let test = Test::new().runbook("web", &runbook(&steps));
    let output = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(env!("CARGO_BIN_EXE_shipbook"))
        .args(["run", "runbooks/web.toml"])
        .current_dir(test.path())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("unshare runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(test.read("verdict"), "gone\n", "seen by the next step");
}

#[test]
fn a_leftover_that_writes_as_it_shuts_down_is_read_to_its_last_line() {
    // The leftover answers TERM with 300 kB of output and a last line: its output is read while
    // it shuts down, so it is neither blocked on a full pipe nor cut off.
    let test = Test::new().runbook(
        "web",
        &runbook(
            r#"[[steps]]
id = "chatty"
run = "sh -c 'trap \"head -c 300000 /dev/zero | tr \\\\\\\\0 x; echo; echo bye; exit 0\" TERM; while :; do sleep 0.05; done' & sleep 0.3"
"#,
        ),
    );
    test.shipbook(&["run", "runbooks/web.toml", "--yes"])
        .success();
    let log_path = test.last_run()["steps"][0]["log"]
        .as_str()
        .unwrap()
        .to_string();
    let log = std::fs::read_to_string(log_path).unwrap();
    assert!(
        log.ends_with("bye\n"),
        "the log ends: {:?}",
        &log[log.len().saturating_sub(40)..]
    );
    assert_eq!(log.matches('x').count(), 300_000);
}
