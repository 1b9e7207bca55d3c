//! The `Test` builder: a temporary git repository with runbooks in it, and the shipbook binary
//! run inside it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Test {
    dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

/// What a finished shipbook printed and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn code(self, expected: i32) -> Run {
        assert_eq!(
            self.code, expected,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn success(self) -> Run {
        self.code(0)
    }

    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n--- stderr\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_has(self, needle: &str) -> Run {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.test")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.test")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

impl Test {
    /// A new git repository with one commit (a README), so HEAD exists.
    pub fn new() -> Test {
        let test = Test::bare();
        git(test.path(), &["init", "-q", "-b", "main"]);
        git(test.path(), &["config", "user.name", "Test"]);
        git(test.path(), &["config", "user.email", "test@example.test"]);
        git(test.path(), &["config", "commit.gpgsign", "false"]);
        test.write("README.md", "test project\n");
        test.commit("initial commit");
        test
    }

    /// A temporary directory that is not a git repository.
    pub fn bare() -> Test {
        Test {
            dir: tempfile::tempdir().expect("a temporary directory"),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, relative: &str) -> PathBuf {
        self.path().join(relative)
    }

    pub fn write(&self, relative: &str, content: &str) -> &Test {
        let path = self.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        self
    }

    /// Writes `runbooks/NAME.toml`.
    pub fn runbook(self, name: &str, content: &str) -> Test {
        self.write(&format!("runbooks/{name}.toml"), content);
        self
    }

    pub fn commit(&self, message: &str) -> &Test {
        git(self.path(), &["add", "-A"]);
        git(
            self.path(),
            &["commit", "-q", "--allow-empty", "-m", message],
        );
        self
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.join(relative))
            .unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
    }

    pub fn arg(mut self, arg: &str) -> Test {
        self.args.push(arg.to_string());
        self
    }

    pub fn args(mut self, args: &[&str]) -> Test {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Test {
        self.env.push((name.into(), value.into()));
        self
    }

    fn command(&self, args: &[String]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_shipbook"));
        command
            .args(args)
            .current_dir(self.path())
            .env_remove("SHIPBOOK_STATE_DIR")
            .env_remove("SHIPBOOK_STORE")
            .env_remove("SHIPBOOK_STORE_SCHEMA")
            .env_remove("GITHUB_ACTIONS")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }

    /// Runs shipbook with the arguments given so far, and clears them for the next run.
    pub fn run(&mut self) -> Run {
        let args = std::mem::take(&mut self.args);
        Run::from(self.command(&args).output().expect("shipbook runs"))
    }

    /// Runs shipbook with `args` (the builder's own arguments are left alone).
    pub fn shipbook(&self, args: &[&str]) -> Run {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        Run::from(self.command(&args).output().expect("shipbook runs"))
    }

    /// Starts shipbook in the background.
    pub fn spawn(&self, args: &[&str]) -> Child {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        self.command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("shipbook starts")
    }

    /// `show --json last`, parsed.
    pub fn last_run(&self) -> serde_json::Value {
        self.shipbook(&["show", "last", "--json"]).success().json()
    }
}

/// Waits (up to a minute) until `condition` holds; the machine may be slow, so no test relies on
/// how long something takes, only on it happening.
#[track_caller]
pub fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A change note's text after its front matter block.
pub fn note_body(note: &str) -> &str {
    note.strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(note, |(_, body)| body.trim_start_matches('\n'))
}

/// Whether a process with this pid exists (and is not a zombie).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z')
        }
        Err(_) => false,
    }
}

pub fn read_pid(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read pid file {}: {e}", path.display()))
        .trim()
        .parse()
        .expect("a pid")
}

/// Kills the process group that `leader` leads: what a step leaves running (its shell and what
/// it waits for) when shipbook is killed with KILL.
pub fn kill_group(leader: i32) {
    let status = Command::new("kill")
        .args(["-KILL", "--", &format!("-{leader}")])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Sends a signal with the system's `kill`.
pub fn kill(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Replaces what changes from run to run (times, ids, paths, hashes) for snapshots.
pub fn normalize(text: &str, test: &Test) -> String {
    let mut text = text.replace(&test.path().display().to_string(), "[TMP]");
    let patterns = [
        (r"\d{8}T\d{6}Z-([a-z0-9_-]+)-[0-9a-f]{4}", "[RUN_ID:$1]"),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "[TIME]"),
        (r"\b[0-9a-f]{40}\b", "[SHA]"),
        (r"\b\d+(\.\d+)?(ms|s)\b", "[DURATION]"),
        (r"\b\d+m\d{2}s\b", "[DURATION]"),
        (r"[a-zA-Z0-9_.-]+@[a-zA-Z0-9_.-]+", "[OPERATOR]"),
    ];
    for (pattern, replacement) in patterns {
        text = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&text, replacement)
            .into_owned();
    }
    text
}

/// The first step's detail and log, after checking its status.
#[track_caller]
pub fn step_outcome(test: &Test, status: &str) -> (String, String) {
    let record = test.last_run();
    let step = &record["steps"][0];
    assert_eq!(step["status"], status, "{record:#}");
    let detail = step["detail"].as_str().unwrap_or_default().to_string();
    let log_path = step["log"].as_str().expect("the step has a log");
    let log = std::fs::read_to_string(log_path)
        .unwrap_or_else(|e| panic!("cannot read the step's log {log_path}: {e}"));
    (detail, log)
}

#[track_caller]
pub fn assert_has(text: &str, needle: &str) {
    assert!(text.contains(needle), "{needle:?} not in:\n{text}");
}

/// Waits until a step has written its pid, a whole line, to `path`; returns the pid.
#[track_caller]
pub fn wait_for_pid(what: &str, path: &Path) -> i32 {
    wait_for(what, || {
        std::fs::read_to_string(path).is_ok_and(|pid| pid.ends_with('\n'))
    });
    read_pid(path)
}

/// The files under `dir` (at any depth) whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path)
            .is_ok_and(|bytes| bytes.windows(needle.len()).any(|window| window == needle))
        {
            found.push(path);
        }
    }
    found
}
