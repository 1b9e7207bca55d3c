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
