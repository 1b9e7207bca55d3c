//! The inputs of the benchmark: runbooks, the same work for the peer tools, a git repository to
//! hold them, and a record store filled with history through shipbook's own store API.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use shipbook::runbook::{Mode, StepKind};
use shipbook::store::Owner;
use shipbook::store::record::{Invocation, Phase, RunRecord, RunStatus, StepRecord, StepStatus};
use shipbook::text::timestamp::Timestamp;

/// The line a step prints over and over in the output workloads (77 bytes with its newline).
pub const OUTPUT_LINE: &str =
    "shipbook bench: a line of step output, as a build or a test would print it";

/// How a runbook states its command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `run = "true"` with `shell_always = true`: through the runbook's shell, `sh -c true`.
    Shell,
    /// `run = "true"`: plain words, which shipbook runs without the shell.
    PlainWords,
    /// `run = ["true"]`: the program itself, no shell.
    Argv,
    /// `run = "true"` with `needs = []`: no step waits for another, so they may run at once.
    Independent,
}

/// A 20-step runbook using most of the runbook format, for `check`: variables, two
/// environments, timeouts, retries, undos, a confirmation and a rollback.
pub fn check_runbook(steps: usize) -> String {
    let mut text = String::from(
        r#"[runbook]
name = "bench-check"
description = "A runbook of the usual size, for the start-up figure"
owner = "release team"
expected = "p95 of /admin below 200 ms, error rate unchanged"
reason = "Benchmark shipbook's start-up"
on_failure = "stop"

[vars]
version = "1.4.3"
service = "billing-api"
url = "http://127.0.0.1:8080"

[environments.staging]
vars = { url = "http://127.0.0.1:8080" }
env = { DEPLOY_ENV = "staging" }

[environments.production]
vars = { url = "https://billing.example.test" }
env = { DEPLOY_ENV = "production" }
"#,
    );
    for index in 1..=steps {
        text.push_str("\n[[steps]]\n");
        let _ = writeln!(text, "id = \"step-{index:02}\"");
        if index == steps / 2 {
            text.push_str("confirm = \"Deploy {{ service }} {{ version }} to {{ env }}?\"\n");
            continue;
        }
        let _ = writeln!(text, "name = \"Step {index} of {{{{ service }}}}\"");
        if index % 4 == 0 {
            let _ = writeln!(
                text,
                "run = [\"echo\", \"{{{{ service }}}}\", \"{{{{ version }}}}\", \"{index}\"]"
            );
        } else {
            let _ = writeln!(
                text,
                "run = \"echo {{{{ service }}}} {{{{ version }}}} {{{{ url }}}} step {index}\""
            );
        }
        text.push_str("timeout = \"10m\"\n");
        if index % 3 == 0 {
            text.push_str("retries = 2\nretry_delay = \"5s\"\n");
        }
        if index % 5 == 0 {
            let _ = writeln!(text, "undo = \"echo undo step {index}\"");
        }
    }
    text.push_str(
        "\n[rollback]\nnote = \"Redeploy the previous tag.\"\nrun = \"echo rollback {{ service }}\"\n",
    );
    text
}

/// A runbook of `steps` steps of `true`.
pub fn true_runbook(name: &str, steps: usize, form: Form) -> String {
    let command = match form {
        Form::Shell | Form::PlainWords | Form::Independent => r#""true""#,
        Form::Argv => r#"["true"]"#,
    };
    let needs = if form == Form::Independent {
        "needs = []\n"
    } else {
        ""
    };
    let mut text = format!("[runbook]\nname = \"{name}\"\n");
    if form == Form::Shell {
        text.push_str("shell_always = true\n");
    }
    for index in 1..=steps {
        let _ = write!(
            text,
            "\n[[steps]]\nid = \"s{index}\"\n{needs}run = {command}\n"
        );
    }
    text
}

/// A runbook of `steps` steps that each sleep `seconds` and need nothing: steps that spend
/// their time in themselves, as a test suite or a build does, to run beside each other.
pub fn sleeping_runbook(name: &str, steps: usize, seconds: &str) -> String {
    let mut text = format!("[runbook]\nname = \"{name}\"\n");
    for index in 1..=steps {
        let _ = write!(
            text,
            "\n[[steps]]\nid = \"s{index}\"\nneeds = []\nrun = \"sleep {seconds}\"\n"
        );
    }
    text
}

/// The shell command that prints `bytes` bytes of output lines.
pub fn output_command(bytes: u64) -> String {
    format!("yes '{OUTPUT_LINE}' | head -c {bytes}")
}

/// A runbook of one step printing `bytes` bytes.
pub fn output_runbook(name: &str, bytes: u64) -> String {
    format!(
        "[runbook]\nname = \"{name}\"\n\n[[steps]]\nid = \"print\"\nrun = \"{}\"\n",
        output_command(bytes)
    )
}

/// A runbook whose rollback writes the time it ran, in nanoseconds since the epoch, to `stamp`.
pub fn rollback_runbook(name: &str, stamp: &Path) -> String {
    format!(
        "[runbook]\nname = \"{name}\"\n\n[[steps]]\nid = \"deploy\"\nrun = \"true\"\n\n\
         [rollback]\nnote = \"Benchmark: the rollback only writes the time it started.\"\n\
         run = \"{}\"\n",
        stamp_command(stamp)
    )
}

/// The command that writes a high-resolution timestamp to `stamp`.
pub fn stamp_command(stamp: &Path) -> String {
    format!("date +%s%N > {}", stamp.display())
}

/// A justfile whose default recipe has `lines` lines of `true` (just runs each with `sh -cu`).
pub fn justfile(lines: usize) -> String {
    let mut text = String::from("default:\n");
    for _ in 0..lines {
        text.push_str("    true\n");
    }
    text
}

/// A justfile of `recipes` recipes of one line each, for `just --list` against `check`.
pub fn justfile_of_recipes(recipes: usize) -> String {
    let mut text = String::new();
    for index in 1..=recipes {
        let _ = write!(
            text,
            "# Step {index} of the release\ns{index}:\n    true\n\n"
        );
    }
    text
}

/// A Taskfile whose default task has `lines` commands `true`.
pub fn taskfile(lines: usize) -> String {
    let mut text = String::from("version: '3'\n\ntasks:\n  default:\n    cmds:\n");
    for _ in 0..lines {
        text.push_str("      - \"true\"\n");
    }
    text
}

/// A Makefile whose default target has `lines` recipe lines of `true`.
pub fn makefile(lines: usize) -> String {
    let mut text = String::from(".PHONY: all\nall:\n");
    for _ in 0..lines {
        text.push_str("\ttrue\n");
    }
    text
}

/// A shell script that runs `sh -c true` `lines` times, one after another.
pub fn shell_script(lines: usize) -> String {
    let mut text = String::from("#!/bin/bash\nset -e\n");
    for _ in 0..lines {
        text.push_str("sh -c true\n");
    }
    text
}

/// Makes `dir` a git repository with one commit of everything in it, as a release repository
/// would be: shipbook reads the commit, branch, tags and whether the tree is clean.
pub fn git_repo(dir: &Path) -> Result<(), String> {
    let steps: [&[&str]; 7] = [
        &["init", "-q"],
        &["config", "user.name", "shipbook bench"],
        &["config", "user.email", "bench@example.invalid"],
        &["config", "commit.gpgsign", "false"],
        &["add", "-A"],
        &["commit", "-q", "-m", "Benchmark workloads"],
        &["tag", "-a", "v0.0.1", "-m", "a previous release"],
    ];
    for args in steps {
        let output = Command::new("git")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run `git {}`: {e}", args.join(" ")))?;
        if !output.status.success() {
            return Err(format!(
                "`git {}` in {} failed: {}",
                args.join(" "),
                dir.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
    }
    Ok(())
}

/// Fills the record store of `state_dir` (or the team store `backend` names) with `runs`
/// finished runs of four steps each, through shipbook's own store API (`insert_run`, then
/// `finish_run`), the newest started now.
pub fn fill_history(
    state_dir: &Path,
    backend: &shipbook::store::Backend,
    runs: usize,
) -> Result<Duration, String> {
    let start = Instant::now();
    let mut store = shipbook::store::open(state_dir, backend).map_err(|e| {
        format!(
            "cannot open the record store in {}: {e}",
            state_dir.display()
        )
    })?;
    let owner = Owner::this_process();
    let now = Utc::now();
    for index in 0..runs {
        // Half an hour apart, oldest first, so that the last one inserted is `last`.
        let started = now - chrono::Duration::minutes(30 * (runs - 1 - index) as i64);
        let mut run = history_run(index, started, state_dir, &owner);
        let finished = run.clone();
        run.status = RunStatus::Running;
        run.finished_at = None;
        let failed =
            |e: shipbook::error::Error| format!("cannot record run {} of {runs}: {e}", index + 1);
        store.insert_run(&run, &owner).map_err(failed)?;
        store.finish_run(&finished).map_err(failed)?;
    }
    Ok(start.elapsed())
}

/// One plausible finished run: most succeed, some fail at the deploy, a few are rehearsals or
/// rollbacks.
fn history_run(index: usize, started: DateTime<Utc>, state_dir: &Path, owner: &Owner) -> RunRecord {
    const RUNBOOKS: [&str; 3] = ["billing-api", "search", "frontend"];
    let runbook = RUNBOOKS[index % RUNBOOKS.len()];
    let run_id = shipbook::engine::run_id::new(runbook, started);
    let mode = match index % 50 {
        0 => Mode::Rollback,
        n if n % 10 == 5 => Mode::Rehearsal,
        _ => Mode::Run,
    };
    let env = if mode == Mode::Rehearsal || index.is_multiple_of(2) {
        "staging"
    } else {
        "production"
    };
    let failed = index % 17 == 3;
    let time =
        |offset_ms: i64| Timestamp::from(started + chrono::Duration::milliseconds(offset_ms));
    let log = |step: &str| {
        Some(
            state_dir
                .join("logs")
                .join(&run_id)
                .join(format!("{step}.log"))
                .display()
                .to_string(),
        )
    };
    let plan: [(&str, &str, u64); 4] = [
        ("lint", "cargo clippy --all-targets -- -D warnings", 41_200),
        ("unit-tests", "cargo test --lib", 73_900),
        ("deploy", "./deploy.sh {env} v1.{index}.0", 12_450),
        ("health", "GET https://example.test/health", 2_100),
    ];
    let mut offset = 0;
    let mut steps = Vec::new();
    for (position, (id, command, duration)) in plan.into_iter().enumerate() {
        let deploy_failed = failed && id == "deploy";
        let not_reached = failed && id == "health";
        let status = if deploy_failed {
            StepStatus::Failed
        } else if not_reached {
            StepStatus::Pending
        } else {
            StepStatus::Succeeded
        };
        let duration = duration + (index as u64 * 37) % 900;
        steps.push(StepRecord {
            position: position as u32,
            id: id.to_string(),
            name: id.replace('-', " "),
            kind: if id == "health" {
                StepKind::Http
            } else {
                StepKind::Run
            },
            command: command
                .replace("{env}", env)
                .replace("{index}", &index.to_string()),
            status,
            attempts: if not_reached {
                0
            } else {
                1 + u32::from(deploy_failed)
            },
            exit_code: match status {
                StepStatus::Succeeded if id != "health" => Some(0),
                StepStatus::Failed => Some(1),
                _ => None,
            },
            started_at: (!not_reached).then(|| time(offset)),
            duration_ms: (!not_reached).then_some(duration),
            log: (!not_reached).then(|| log(id)).flatten(),
            log_tail: deploy_failed.then(|| {
                "deploying billing-api\nuploading release bundle\nerror: the health endpoint \
                 answered 503\n"
                    .to_string()
            }),
            detail: None,
            phase: if mode == Mode::Rollback {
                Phase::Rollback
            } else {
                Phase::Steps
            },
            tag: None,
            approved_by: None,
            samples: Vec::new(),
        });
        offset += duration as i64;
    }
    RunRecord {
        run_id: run_id.clone(),
        runbook: runbook.to_string(),
        runbook_path: format!("/srv/releases/runbooks/{runbook}.toml"),
        content_hash: format!("{:064x}", index % 40),
        mode,
        env: Some(env.to_string()),
        operator: "ann@build-host".to_string(),
        host: owner.host.clone(),
        pid: owner.pid,
        reason: Some(format!("Release 1.{index}.0: speed up the admin pages")),
        owner: Some("payments team".to_string()),
        expected: Some("p95 of /admin below 200 ms, error rate unchanged".to_string()),
        description: Some(format!("Ship {runbook}")),
        git_sha: format!("{:040x}", index * 7919),
        git_branch: "main".to_string(),
        git_dirty: false,
        uncommitted: Vec::new(),
        previous_tag: format!("v1.{}.0", index.saturating_sub(1)),
        files_touched: vec![
            "src/admin.rs".to_string(),
            "src/cache.rs".to_string(),
            "config/production.toml".to_string(),
        ],
        rollback_note: Some("Redeploy the previous tag.".to_string()),
        rollback_command: Some(format!(
            "./deploy.sh {env} v1.{}.0",
            index.saturating_sub(1)
        )),
        started_at: time(0),
        finished_at: Some(time(offset)),
        status: if failed {
            RunStatus::Failed
        } else {
            RunStatus::Succeeded
        },
        status_reason: failed.then(|| "step `deploy` exited with 1".to_string()),
        note: Some(
            state_dir
                .join("notes")
                .join(format!("{run_id}.md"))
                .display()
                .to_string(),
        ),
        metrics: Vec::new(),
        rehearsal: None,
        skip_rehearsal: None,
        resumed: Vec::new(),
        warnings: Vec::new(),
        version: None,
        invocation: Invocation::default(),
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Validates through shipbook's own loader, as `shipbook check` would.
    fn valid(text: String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.toml");
        std::fs::write(&path, &text).unwrap();
        if let Err(error) = shipbook::runbook::load(&path) {
            panic!("invalid runbook: {error}\n{text}");
        }
    }

    #[test]
    fn the_generated_runbooks_are_valid() {
        let check = check_runbook(20);
        assert_eq!(check.matches("[[steps]]").count(), 20);
        valid(check);
        valid(true_runbook("bench-steps", 1000, Form::Shell));
        valid(true_runbook("bench-steps", 3, Form::PlainWords));
        valid(true_runbook("bench-steps", 3, Form::Argv));
        valid(output_runbook("bench-output", 1_000_000_000));
        valid(rollback_runbook("bench-rollback", Path::new("/tmp/stamp")));
    }

    #[test]
    fn the_peer_files_have_one_line_per_step() {
        assert_eq!(justfile(7).matches("    true\n").count(), 7);
        assert_eq!(taskfile(7).matches("- \"true\"").count(), 7);
        assert_eq!(makefile(7).matches("\ttrue\n").count(), 7);
        assert_eq!(shell_script(7).matches("sh -c true\n").count(), 7);
    }

    #[test]
    fn history_goes_in_through_the_store() {
        let dir = tempfile::tempdir().unwrap();
        fill_history(dir.path(), &shipbook::store::Backend::Local, 40).unwrap();
        let mut store =
            shipbook::store::open(dir.path(), &shipbook::store::Backend::Local).unwrap();
        assert_eq!(store.list_runs(None, 100).unwrap().len(), 40);
        let last = store.resolve_run_id("last").unwrap();
        let run = store.load_run(&last).unwrap();
        assert_eq!(run.steps.len(), 4);
        assert_ne!(run.status, RunStatus::Running);
    }
}
