//! Running one command: its own process group, its output into a log, its end made certain.
//!
//! This is the mechanism under every step, undo, rollback and metric; the policy (retries, what a
//! failure means) lives in the executor. The command is spawned through duct with stdin closed
//! and stdout and stderr sharing one pipe, so the log interleaves them as they arrive. A reader
//! thread copies the pipe to the log file through the secret masker in fixed-size chunks, which
//! keeps memory flat whatever the volume. When the command's own process exits, whatever it left
//! running is ended, in its group or not (`containment`): no process of a step outlives the step
//! unless it started a session of its own, and a background process cannot hold the pipe (and so
//! shipbook) open.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::mask::Masker;
use crate::sys::containment;
use crate::sys::log::{LazyLog, spawn_copier};

pub use crate::sys::log::{Echo, LogCut, LogWriter};
// The executor asks this module for the tail of a step's log; the reading is shared with
// the other readers of logs.
pub use crate::sys::fs::log_tail;
use crate::sys::interrupt::{GRACE_PERIOD, Interrupt, Signal, signal_group};
use crate::text::words::one_line_folded;

/// What to run.
pub struct CommandSpec<'a> {
    pub argv: &'a [String],
    pub dir: &'a Path,
    pub env: &'a BTreeMap<String, String>,
    pub timeout: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    /// The program could not be started; the message says why.
    SpawnFailed {
        code: i32,
        message: String,
    },
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub exit: Exit,
    pub timed_out: bool,
    pub interrupted: bool,
    /// Where the log stopped taking the command's output, when it had to.
    pub log_cut: Option<LogCut>,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.exit == Exit::Code(0) && !self.timed_out && !self.interrupted
    }

    /// The exit code as a shell would report it: 128 + signal for a signal, 127 for a program
    /// that does not exist.
    pub fn exit_code(&self) -> i32 {
        match &self.exit {
            Exit::Code(code) => *code,
            Exit::Signal(signal) => 128 + signal,
            Exit::SpawnFailed { code, .. } => *code,
        }
    }
}

/// Runs `spec`, appending its masked output to `log`. Returns once the command and everything
/// it started are gone, but for a process that started a session of its own (`setsid`).
pub fn run(
    spec: &CommandSpec<'_>,
    log: &Path,
    masker: &Masker,
    echo: Echo,
    interrupt: &Interrupt,
) -> io::Result<Outcome> {
    run_to(spec, log, masker, echo, None, interrupt)
}

/// Runs `spec` with stderr (masked) into `log`, and stdout into `stdout` when given (else into
/// the log too).
fn run_to(
    spec: &CommandSpec<'_>,
    log: &Path,
    masker: &Masker,
    echo: Echo,
    stdout: Option<io::PipeWriter>,
    interrupt: &Interrupt,
) -> io::Result<Outcome> {
    let started = Instant::now();
    let (reader, writer) = io::pipe()?;
    let (program, args) = spec
        .argv
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
    let path_variable = spec
        .env
        .get("PATH")
        .cloned()
        .or_else(|| std::env::var("PATH").ok());
    let expression = duct::cmd(resolve(program, path_variable.as_deref()), args)
        .dir(spec.dir)
        .stdin_null();
    let mut expression = match stdout {
        Some(file) => expression.stdout_file(file),
        None => expression.stdout_file(writer.try_clone()?),
    }
    .stderr_file(writer)
    .unchecked()
    .before_spawn(|command| {
        command.process_group(0);
        Ok(())
    });
    for (name, value) in spec.env {
        expression = expression.env(name, value);
    }

    let mut log = LazyLog::new(log);
    let handle = match expression.start() {
        Ok(handle) => handle,
        Err(error) => {
            drop(expression);
            let (code, message) = spawn_failure(program, spec.dir, &error);
            let _ = writeln!(log, "shipbook: {message}");
            let _ = log.flush();
            if echo == Echo::Stderr {
                eprintln!("shipbook: {message}");
            }
            return Ok(Outcome {
                exit: Exit::SpawnFailed { code, message },
                timed_out: false,
                interrupted: false,
                log_cut: None,
            });
        }
    };
    // The expression holds the write end of the pipe; the child has its own copy now, and
    // ours must be closed or the reader would never see the end of the output.
    drop(expression);
    let group = handle.pids().first().copied().unwrap_or(0) as i32;
    interrupt.set_group(group);
    if interrupt.requested() {
        signal_group(group, Signal::TERM);
    }

    let copier = spawn_copier(reader, log, masker, echo);

    let mut timed_out = false;
    let status = match spec.timeout {
        Some(timeout) => match handle.wait_deadline(started + timeout)? {
            Some(output) => output.status,
            None => {
                timed_out = true;
                terminate(group, &handle)?
            }
        },
        None => handle.wait()?.status,
    };
    // The command has exited; end whatever it left behind, in its group or not, then let the
    // copier drain what is still in the pipe.
    containment::end_leftovers(group);
    interrupt.set_group(0);
    // Only a process that detached itself (setsid) can still hold the pipe now; its output after
    // the grace period is not waited for.
    let log_cut = copier.done.recv_timeout(GRACE_PERIOD).ok().flatten();

    let exit = match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(signal)) => Exit::Signal(signal),
        (None, None) => Exit::Code(1),
    };
    Ok(Outcome {
        exit,
        timed_out,
        interrupted: interrupt.requested(),
        log_cut,
    })
}

/// Runs a metric command: its stdout is read for the first number, its stderr goes to the log.
/// Returns the value, or why there is none. The command obeys the same timeout and process
/// group rules as a step.
pub fn sample(
    spec: &CommandSpec<'_>,
    log: &Path,
    masker: &Masker,
    interrupt: &Interrupt,
) -> io::Result<Result<f64, String>> {
    // The value is read from a pipe into memory, never through a file: a metric may print a
    // secret, and a file would hold it raw on disk, and keep it there after a kill -9.
    let (reader, writer) = io::pipe()?;
    let stdout = StdoutReader::start(reader);
    let outcome = run_to(spec, log, masker, Echo::None, Some(writer), interrupt)?;
    let raw_stdout = stdout.finish();
    // What the failure messages quote is masked before it is cut to length, so that no part of
    // a secret survives the cut.
    let stdout = masker.text(&raw_stdout);
    {
        let mut log = crate::sys::fs::open_private_append(log)?;
        let _ = writeln!(log, "stdout: {}", stdout.trim_end());
    }
    if outcome.timed_out {
        return Ok(Err(format!(
            "timed out after {}",
            crate::text::duration::human(spec.timeout.unwrap_or_default())
        )));
    }
    if let Exit::SpawnFailed { message, .. } = &outcome.exit {
        return Ok(Err(message.clone()));
    }
    if !outcome.success() {
        // What it said on stderr is usually the reason ("No such file or directory").
        let errors: Vec<String> = log_tail(log, 4)
            .lines()
            .filter(|line| !line.starts_with("stdout: "))
            .map(str::to_string)
            .collect();
        return Ok(Err(format!(
            "the command exited with {}; its output: {}{}",
            outcome.exit_code(),
            quoted_output(&stdout),
            if errors.is_empty() {
                String::new()
            } else {
                format!("; its errors: {}", quoted_output(&errors.join(" ")))
            }
        )));
    }
    match crate::text::number::first_number(&raw_stdout) {
        Ok(value) => Ok(Ok(value)),
        Err(problem) => Ok(Err(format!(
            "{problem}; it printed: {}",
            quoted_output(&stdout)
        ))),
    }
}

/// How much of a metric command's stdout is kept: far more than a number needs.
const MAX_METRIC_STDOUT: usize = 64 * 1024;

/// Reads a metric command's stdout on a thread of its own, keeping the first
/// `MAX_METRIC_STDOUT` bytes and draining the rest, so that a talkative command never blocks on
/// a full pipe.
struct StdoutReader {
    kept: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    done: std::sync::mpsc::Receiver<()>,
}

impl StdoutReader {
    fn start(mut reader: io::PipeReader) -> StdoutReader {
        let kept = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (sender, done) = std::sync::mpsc::channel();
        let shared = std::sync::Arc::clone(&kept);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 8192];
            while let Ok(read) = reader.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                if let Ok(mut kept) = shared.lock() {
                    let room = MAX_METRIC_STDOUT.saturating_sub(kept.len());
                    kept.extend_from_slice(&buffer[..read.min(room)]);
                }
            }
            let _ = sender.send(());
        });
        StdoutReader { kept, done }
    }

    /// What the command printed, once the pipe is closed. The command's group has been ended
    /// by then; a process that left the group and holds the pipe is not waited for long.
    fn finish(self) -> String {
        let _ = self.done.recv_timeout(Duration::from_secs(1));
        let kept = self
            .kept
            .lock()
            .map(|kept| kept.clone())
            .unwrap_or_default();
        String::from_utf8_lossy(&kept).into_owned()
    }
}

/// How many characters of a metric command's output its failure message quotes.
const QUOTED_OUTPUT_CHARS: usize = 200;

/// What a metric command printed, in one line for its failure message, or "(nothing)".
fn quoted_output(text: &str) -> String {
    let line = one_line_folded(text, QUOTED_OUTPUT_CHARS);
    if line.is_empty() {
        "(nothing)".into()
    } else {
        line
    }
}

/// The program's path, found through PATH as the shell would find it. duct sets the child's
/// whole environment, PATH included, and then the standard library can only start a bare
/// program name with fork and exec; given a path it uses posix_spawn, which costs a fraction
/// of a fork of shipbook's address space on every step. A name that is not found is left as it
/// is, so that spawning it fails with the usual "not found".
fn resolve(program: &str, path_variable: Option<&str>) -> std::path::PathBuf {
    use std::collections::HashMap;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;
    // A runbook runs the same few programs over and over: each is looked up once per PATH.
    static FOUND: std::sync::Mutex<Option<HashMap<(String, String), PathBuf>>> =
        std::sync::Mutex::new(None);
    if program.contains('/') {
        return program.into();
    }
    let path_variable = path_variable.unwrap_or_default();
    let key = (program.to_string(), path_variable.to_string());
    if let Some(found) = FOUND
        .lock()
        .ok()
        .and_then(|found| found.as_ref()?.get(&key).cloned())
    {
        return found;
    }
    for dir in path_variable.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = Path::new(dir).join(program);
        if let Ok(metadata) = std::fs::metadata(&candidate)
            && metadata.is_file()
            && metadata.permissions().mode() & 0o111 != 0
        {
            if let Ok(mut found) = FOUND.lock() {
                found
                    .get_or_insert_with(HashMap::new)
                    .insert(key, candidate.clone());
            }
            return candidate;
        }
    }
    program.into()
}

/// TERM to the group, KILL after the grace period; returns the leader's status.
fn terminate(group: i32, handle: &duct::Handle) -> io::Result<std::process::ExitStatus> {
    signal_group(group, Signal::TERM);
    if let Some(output) = handle.wait_timeout(GRACE_PERIOD)? {
        return Ok(output.status);
    }
    signal_group(group, Signal::KILL);
    Ok(handle.wait()?.status)
}

fn spawn_failure(program: &str, dir: &Path, error: &io::Error) -> (i32, String) {
    match error.kind() {
        io::ErrorKind::NotFound if !dir.is_dir() => (
            127,
            format!("working directory {} does not exist", dir.display()),
        ),
        io::ErrorKind::NotFound => (
            127,
            format!("command not found: `{program}` (not on PATH, or no such file)"),
        ),
        io::ErrorKind::PermissionDenied => (
            126,
            format!("permission denied running `{program}` (is it executable?)"),
        ),
        _ => (126, format!("cannot start `{program}`: {error}")),
    }
}
