//! What a rollback goes back to, and how the way back is written: the note's rollback command
//! is the one `shipbook rollback` runs after that release, and every command shipbook prints
//! for the way back runs as printed.

use crate::test::{Test, git, wait_for_pid};

const TAGGED: &str = r#"[runbook]
name = "web"
dir = ".."

[vars]
version = "0.1.2"

[environments.production]

[[steps]]
id = "deploy"
run = "echo deploy-{{ version }} >> journal"

[[steps]]
id = "tag"
tag = { name = "v{{ version }}", message = "web {{ version }}" }

[rollback]
run = "echo redeploy-{{ git.previous_tag }} >> journal"
"#;

fn released_before() -> Test {
    let test = Test::new().runbook("web", TAGGED);
    test.write(".gitignore", "journal\n");
    test.commit("runbook");
    git(test.path(), &["tag", "-a", "v0.1.1", "-m", "web 0.1.1"]);
    test.write("feature.txt", "0.1.2\n");
    test.commit("0.1.2");
    test
}

#[test]
fn the_rollback_after_a_release_goes_to_the_release_before_it() {
    let test = released_before();
    test.shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .success();
    assert_eq!(git(test.path(), &["tag", "--points-at", "HEAD"]), "v0.1.2");
    let note = test.shipbook(&["note", "last"]).success().stdout;
    assert!(
        note.contains("echo redeploy-v0.1.1 >> journal"),
        "the note's rollback command:\n{note}"
    );
    let runbook = test.join("runbooks/web.toml").display().to_string();
    assert!(
        note.contains(&format!("shipbook rollback {runbook} --env production")),
        "the note gives the shipbook command:\n{note}"
    );

    test.shipbook(&[
        "rollback",
        "runbooks/web.toml",
        "--env",
        "production",
        "--yes",
    ])
    .success();
    assert_eq!(
        test.read("journal"),
        "deploy-0.1.2\nredeploy-v0.1.1\n",
        "the rollback redeploys the release before, not the one it undoes"
    );
    let rollback = test.last_run();
    assert_eq!(
        rollback["rollback_command"], "echo redeploy-v0.1.1 >> journal",
        "what ran is what the release's note printed"
    );

    // Running the release again, its tag already at HEAD, means the same.
    test.shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .success();
    let again = test.shipbook(&["note", "last"]).success().stdout;
    assert!(again.contains("echo redeploy-v0.1.1 >> journal"), "{again}");
    assert!(again.contains("since `v0.1.1`"), "{again}");
}

#[test]
fn a_failed_rehearsal_does_not_say_how_long_a_rollback_took_that_never_ran() {
    let test = Test::new().runbook(
        "web",
        &TAGGED.replace("echo deploy-{{ version }} >> journal", "exit 3"),
    );
    test.shipbook(&["rehearse", "runbooks/web.toml", "--env", "production"])
        .code(1);
    let note = test.shipbook(&["note", "last"]).success().stdout;
    assert!(!note.contains("the rollback took"), "{note}");
    assert!(note.contains("the rollback did not run"), "{note}");
}

#[test]
fn the_lock_hint_runs_as_printed() {
    let test = Test::new().runbook(
        "web",
        &TAGGED.replace(
            "echo deploy-{{ version }} >> journal",
            "echo $$ > deploy.pid; sleep 300",
        ),
    );
    let mut holder_process = test.spawn(&["run", "runbooks/web.toml", "--env", "production"]);
    wait_for_pid("the deploy step to start", &test.join("deploy.pid"));
    // Reaped as soon as it ends, as the shell that started it would: `--force-lock` waits for
    // the holder to be gone, and a zombie is not gone.
    let holder = std::thread::spawn(move || holder_process.wait().unwrap());
    let locked = test
        .shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .code(4);
    let hint = locked
        .stderr
        .lines()
        .find(|line| line.contains("--force-lock"))
        .and_then(|line| line.split('`').nth(1))
        .unwrap_or_else(|| panic!("no --force-lock command in:\n{}", locked.stderr))
        .to_string();
    assert_eq!(
        hint,
        format!(
            "shipbook rollback {} --env production --force-lock",
            test.join("runbooks/web.toml").display()
        )
    );
    // As printed (with --yes, as there is no terminal here to confirm on).
    let mut args: Vec<&str> = hint.split(' ').skip(1).collect();
    args.push("--yes");
    test.shipbook(&args)
        .success()
        .stderr_has("--force-lock: stopping run");
    assert_eq!(holder.join().unwrap().code(), Some(130));
    assert!(test.read("journal").contains("redeploy-"));
}
