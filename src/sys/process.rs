//! Running one command: its own process group, its output into a log, its end made certain.
//!
//! This is the mechanism under every step, undo, rollback and metric; the policy (retries, what a
//! failure means) lives in the executor. The command is spawned through duct with stdin closed
//! and stdout and stderr sharing one pipe, so the log interleaves them as they arrive. The
//! thread that runs the step copies the pipe to the log file through the secret masker in
//! fixed-size chunks, which keeps memory flat whatever the volume, while it waits for the
//! command's exit in the same poll. When the command's own process exits, whatever it left
//! running is ended, in its group or not (`containment`): no process of a step outlives the step
//! unless it started a session of its own, and a background process cannot hold the pipe (and so
//! shipbook) open.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::mask::Masker;
use crate::sys::containment;
use rustix::event::{PollFd, PollFlags, Timespec, poll};

use crate::sys::log::{LazyLog, OutputPump};

pub use crate::sys::log::{Echo, LogCut, LogWriter};
// The executor asks this module for the tail of a step's log; the reading is shared with
// the other readers of logs.
pub use crate::sys::fs::log_tail;
use crate::sys::interrupt::{GRACE_PERIOD, Interrupt, Signal, signal_group};
use crate::text::words::one_line_folded;

/// What to run.
pub struct CommandSpec<'a> {
    pub argv: &'a [String],
    /// For a command of plain words lifted out of the runbook's shell: how the shell would run
    /// it. A program the kernel cannot execute itself (a script without `#!`) is run that way,
    /// as the shell would, and failures to start are worded as the shell words them.
    pub shell_argv: Option<&'a [String]>,
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
    echo: &Echo,
    interrupt: &Interrupt,
) -> io::Result<Outcome> {
    Ok(run_to(spec, log, masker, echo, false, interrupt)?.0)
}

/// How much of a metric command's stdout is kept: far more than a number needs.
const MAX_METRIC_STDOUT: usize = 64 * 1024;

/// How often the leader is looked at when the kernel offers no pidfd to wait on (before 5.3).
const WITHOUT_PIDFD_TICK: Duration = Duration::from_millis(10);

/// `/dev/null`, opened once: every step's stdin is a copy of it.
fn dev_null() -> io::Result<std::fs::File> {
    static DEV_NULL: std::sync::OnceLock<Option<std::fs::File>> = std::sync::OnceLock::new();
    match DEV_NULL.get_or_init(|| std::fs::File::open("/dev/null").ok()) {
        Some(file) => file.try_clone(),
        None => std::fs::File::open("/dev/null"),
    }
}

/// Runs `spec` with its output (masked) into `log`. With `capture_stdout`, stdout is kept apart
/// in memory (its first [`MAX_METRIC_STDOUT`] bytes) and returned, and only stderr goes to the
/// log.
///
/// One thread does all of it: a poll on the output pipes and on a pidfd of the command's own
/// process wakes it for output to copy, for the command's exit, and for a timeout's deadline.
/// A thread that copies while another waits costs two hand-overs a step, which is most of what
/// a runner spends on a short step beyond the spawn itself.
fn run_to(
    spec: &CommandSpec<'_>,
    log: &Path,
    masker: &Masker,
    echo: &Echo,
    capture_stdout: bool,
    interrupt: &Interrupt,
) -> io::Result<(Outcome, Vec<u8>)> {
    let started = Instant::now();
    let (reader, writer) = io::pipe()?;
    let (stdout_reader, stdout_writer) = if capture_stdout {
        let (reader, writer) = io::pipe()?;
        (Some(reader), Some(writer))
    } else {
        (None, None)
    };
    let mut log = LazyLog::new(log);
    let registration = interrupt.register()?;
    // The leader is known to containment from its spawn on, so that a step ending beside this
    // one never takes this one's processes for its own leftovers, nor reaps its exit.
    let spawned = containment::spawning(|| start(spec, writer, stdout_writer));
    let handle = match spawned {
        Ok(handle) => handle,
        Err(error) => {
            let (code, message) = spawn_failure(spec, &error);
            let _ = writeln!(log, "shipbook: {message}");
            let _ = log.flush();
            if *echo != Echo::None {
                eprintln!("shipbook: {message}");
            }
            let outcome = Outcome {
                exit: Exit::SpawnFailed { code, message },
                timed_out: false,
                interrupted: false,
                log_cut: None,
            };
            return Ok((outcome, Vec::new()));
        }
    };
    let group = handle.pids().first().copied().unwrap_or(0) as i32;
    registration.set_group(group);
    if interrupt.ending() {
        signal_group(group, Signal::TERM);
    }

    let mut output = Output {
        pump: OutputPump::new(log, masker, echo.clone()),
        log_pipe: Some(reader),
        stdout_pipe: stdout_reader,
        stdout: Vec::new(),
    };
    let waited = wait_copying(
        &handle,
        group,
        spec.timeout.map(|t| started + t),
        &mut output,
        interrupt,
        &registration,
    );
    // The leader has been waited for (or is killed just below): its pid is no longer this
    // step's to guard.
    containment::waited(group);
    // The command has exited (or could not be waited for); end whatever it left behind, in its
    // group or not, copying their output as they go, then copy what is still in the pipes.
    if waited.is_err() {
        signal_group(group, Signal::KILL);
    }
    let step = spec.env.get("SHIPBOOK_STEP").map(String::as_str);
    containment::end_leftovers(group, step, &mut |pause| output.pause_copying(pause));
    drop(registration);
    let (status, timed_out) = waited?;
    // Only a process that detached itself (setsid) can still hold a pipe now; its output after
    // the grace period is not waited for.
    output.drain_until(Instant::now() + GRACE_PERIOD);
    let Output { pump, stdout, .. } = output;
    let log_cut = pump.finish();

    let exit = match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(signal)) => Exit::Signal(signal),
        (None, None) => Exit::Code(1),
    };
    let outcome = Outcome {
        exit,
        timed_out,
        interrupted: interrupt.requested(),
        log_cut,
    };
    Ok((outcome, stdout))
}

/// Starts the command in a process group of its own, stdin on `/dev/null`, stdout and stderr
/// into `log_writer` (stdout into `stdout_writer` when given). The write ends are closed here
/// once the child has its copies, or the output would never end.
fn start(
    spec: &CommandSpec<'_>,
    log_writer: io::PipeWriter,
    stdout_writer: Option<io::PipeWriter>,
) -> io::Result<duct::Handle> {
    let stdout_writer = match stdout_writer {
        Some(writer) => writer,
        None => log_writer.try_clone()?,
    };
    // bash reads the file `BASH_ENV` names before any command (a CI image may set PATH
    // there): a command lifted out of bash then runs through it after all.
    if let Some(shell_argv) = spec.shell_argv
        && reads_a_startup_file(shell_argv, spec.env)
    {
        return start_argv(spec, shell_argv, &log_writer, &stdout_writer);
    }
    let started = start_argv(spec, spec.argv, &log_writer, &stdout_writer);
    match (started, spec.shell_argv) {
        // The shell runs a file the kernel will not (no `#!` line) as a shell script.
        (Err(error), Some(shell_argv)) if error.raw_os_error() == Some(libc::ENOEXEC) => {
            start_argv(spec, shell_argv, &log_writer, &stdout_writer)
        }
        (started, _) => started,
    }
}

/// Whether the shell of `shell_argv` would read a start-up file before a command: bash with
/// `BASH_ENV` set, in the step's environment or shipbook's.
fn reads_a_startup_file(shell_argv: &[String], env: &BTreeMap<String, String>) -> bool {
    let shell = shell_argv
        .first()
        .map_or("", |shell| shell.rsplit('/').next().unwrap_or(shell));
    shell == "bash"
        && env
            .get("BASH_ENV")
            .cloned()
            .or_else(|| std::env::var("BASH_ENV").ok())
            .is_some_and(|file| !file.is_empty())
}

/// Starts `argv` with the rest of `spec`. The expression holds copies of the write ends, and
/// drops them here once the child has its own.
fn start_argv(
    spec: &CommandSpec<'_>,
    argv: &[String],
    log_writer: &io::PipeWriter,
    stdout_writer: &io::PipeWriter,
) -> io::Result<duct::Handle> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
    let path_variable = spec
        .env
        .get("PATH")
        .cloned()
        .or_else(|| std::env::var("PATH").ok());
    let mut expression = duct::cmd(resolve(program, path_variable.as_deref(), spec.dir), args)
        .dir(spec.dir)
        .stdin_file(dev_null()?)
        .stdout_file(stdout_writer.try_clone()?)
        .stderr_file(log_writer.try_clone()?)
        .unchecked()
        .before_spawn({
            let program = program.clone();
            move |command| {
                command.process_group(0);
                // The program sees its name as written (`ps`, `pgrep`, usage messages), as from a
                // shell, not the path it was found at.
                command.arg0(&program);
                Ok(())
            }
        });
    for (name, value) in spec.env {
        expression = expression.env(name, value);
    }
    // The shell would have set PWD to the directory it runs in; a program started without it
    // would see shipbook's own.
    if spec.shell_argv.is_some() && spec.dir.is_absolute() {
        expression = expression.env("PWD", spec.dir);
    }
    expression.start()
}

/// A running command's output: the pipe into its log and, for a metric, its stdout kept apart.
struct Output {
    pump: OutputPump,
    log_pipe: Option<io::PipeReader>,
    stdout_pipe: Option<io::PipeReader>,
    stdout: Vec<u8>,
}

impl Output {
    /// Whether a pipe is still open.
    fn open(&self) -> bool {
        self.log_pipe.is_some() || self.stdout_pipe.is_some()
    }

    /// Polls the open pipes and `extras` (the leader's pidfd, the signal pipe) until something
    /// is ready or `timeout` passes; copies what is ready. Returns which of `extras` are ready.
    fn poll(
        &mut self,
        extras: [Option<BorrowedFd<'_>>; 2],
        timeout: Option<Duration>,
    ) -> io::Result<[bool; 2]> {
        let mut fds = Vec::with_capacity(4);
        for extra in extras.iter().flatten() {
            fds.push(PollFd::from_borrowed_fd(*extra, PollFlags::IN));
        }
        for pipe in [&self.log_pipe, &self.stdout_pipe].into_iter().flatten() {
            fds.push(PollFd::new(pipe, PollFlags::IN));
        }
        let timeout = timeout.map(|timeout| Timespec {
            tv_sec: timeout.as_secs() as i64,
            tv_nsec: i64::from(timeout.subsec_nanos()),
        });
        match poll(&mut fds, timeout.as_ref()) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => return Ok([false; 2]),
            Err(error) => return Err(error.into()),
        }
        let ready: Vec<bool> = fds.iter().map(|fd| !fd.revents().is_empty()).collect();
        drop(fds);
        let mut ready = ready.into_iter();
        let extras_ready = extras.map(|extra| extra.is_some() && ready.next() == Some(true));
        if self.log_pipe.is_some() && ready.next() == Some(true) {
            let pipe = self.log_pipe.as_mut().expect("polled because open");
            if !self.pump.pump(pipe) {
                self.log_pipe = None;
            }
        }
        if self.stdout_pipe.is_some() && ready.next() == Some(true) {
            let pipe = self.stdout_pipe.as_mut().expect("polled because open");
            if !keep_some(pipe, &mut self.stdout) {
                self.stdout_pipe = None;
            }
        }
        Ok(extras_ready)
    }

    /// Copies what comes for `pause`, or sleeps when every pipe is closed.
    fn pause_copying(&mut self, pause: Duration) {
        let until = Instant::now() + pause;
        while self.open() {
            let now = Instant::now();
            if now >= until || self.poll([None, None], Some(until - now)).is_err() {
                return;
            }
        }
        std::thread::sleep(until.saturating_duration_since(Instant::now()));
    }

    /// Copies until every pipe is closed, or until `deadline`.
    fn drain_until(&mut self, deadline: Instant) {
        while self.open() {
            let now = Instant::now();
            if now >= deadline || self.poll([None, None], Some(deadline - now)).is_err() {
                return;
            }
        }
    }
}

/// Reads once from a metric's stdout, keeping what fits in [`MAX_METRIC_STDOUT`] and draining
/// the rest, so that a talkative command never blocks on a full pipe. Returns false at its end.
fn keep_some(pipe: &mut io::PipeReader, kept: &mut Vec<u8>) -> bool {
    let mut buffer = [0u8; 8192];
    match pipe.read(&mut buffer) {
        Ok(0) => false,
        Ok(read) => {
            let room = MAX_METRIC_STDOUT.saturating_sub(kept.len());
            kept.extend_from_slice(&buffer[..read.min(room)]);
            true
        }
        Err(error) => matches!(
            error.kind(),
            io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
        ),
    }
}

/// Copies the output while the command's own process runs, and returns its status once it has
/// exited, with whether it was ended for its timeout: TERM to its group at the deadline, KILL
/// after the grace period. A Ctrl-C or SIGTERM (whose handler has sent TERM already, and wakes
/// this poll) is followed by KILL after the grace period too.
fn wait_copying(
    handle: &duct::Handle,
    group: i32,
    deadline: Option<Instant>,
    output: &mut Output,
    interrupt: &Interrupt,
    registration: &crate::sys::interrupt::Registration,
) -> io::Result<(std::process::ExitStatus, bool)> {
    // A pidfd turns the leader's exit into something poll can wait for along with its output.
    // Without one (a kernel before 5.3, or a sandbox that refuses it) the leader is looked at
    // every few milliseconds instead.
    let pidfd = rustix::process::Pid::from_raw(group)
        .filter(|_| pidfd_allowed())
        .and_then(|pid| {
            rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
        });
    let mut timed_out = false;
    let mut interrupted = false;
    let mut kill_at: Option<Instant> = None;
    let mut look = pidfd.is_none();
    loop {
        if look && let Some(done) = handle.try_wait()? {
            return Ok((done.status, timed_out));
        }
        let now = Instant::now();
        if !timed_out && deadline.is_some_and(|deadline| now >= deadline) {
            timed_out = true;
            signal_group(group, Signal::TERM);
            kill_at = Some(kill_at.map_or(now + GRACE_PERIOD, |at| at.min(now + GRACE_PERIOD)));
        }
        if !interrupted && interrupt.ending() {
            interrupted = true;
            kill_at = Some(kill_at.map_or(now + GRACE_PERIOD, |at| at.min(now + GRACE_PERIOD)));
        }
        if kill_at.is_some_and(|at| now >= at) {
            signal_group(group, Signal::KILL);
            kill_at = None;
        }
        let next = [
            deadline.filter(|_| !timed_out),
            kill_at,
            pidfd.is_none().then(|| now + WITHOUT_PIDFD_TICK),
        ]
        .into_iter()
        .flatten()
        .min();
        let timeout = next.map(|at| at.saturating_duration_since(now));
        let wake = registration.wake_fd();
        if output.open() || pidfd.is_some() || wake.is_some() {
            let [leader_ready, woken] =
                output.poll([pidfd.as_ref().map(AsFd::as_fd), wake], timeout)?;
            if woken {
                registration.drain_wake();
            }
            look = pidfd.is_none() || leader_ready;
        } else {
            // No pipe and no pidfd: nothing to poll but time.
            std::thread::sleep(timeout.unwrap_or(WITHOUT_PIDFD_TICK));
            look = true;
        }
    }
}

/// Whether to wait on a pidfd; the tests turn it off to try the way without.
#[cfg(not(test))]
fn pidfd_allowed() -> bool {
    true
}

#[cfg(test)]
static WITHOUT_PIDFD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[cfg(test)]
fn pidfd_allowed() -> bool {
    !WITHOUT_PIDFD.load(std::sync::atomic::Ordering::SeqCst)
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
    let (outcome, raw_stdout) = run_to(spec, log, masker, &Echo::None, true, interrupt)?;
    let raw_stdout = String::from_utf8_lossy(&raw_stdout).into_owned();
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

/// The program's path, found through PATH as the shell would find it: each time, as a new
/// shell does (a step may install a tool another step then runs), with a relative PATH entry
/// (`node_modules/.bin`, `.`, an empty one) taken from the step's directory. duct sets the
/// child's whole environment, PATH included, and then the standard library can only start a
/// bare program name with fork and exec; given a path it uses posix_spawn, which costs a
/// fraction of a fork of shipbook's address space on every step. A name that is not found is
/// left as it is, so that spawning it fails with the usual "not found".
fn resolve(program: &str, path_variable: Option<&str>, dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    if program.contains('/') {
        return program.into();
    }
    for entry in path_variable.unwrap_or_default().split(':') {
        let candidate = match entry {
            "" => dir.join(program),
            entry if Path::new(entry).is_relative() => dir.join(entry).join(program),
            entry => Path::new(entry).join(program),
        };
        if let Ok(metadata) = std::fs::metadata(&candidate)
            && metadata.is_file()
            && metadata.permissions().mode() & 0o111 != 0
        {
            return candidate;
        }
    }
    program.into()
}

fn spawn_failure(spec: &CommandSpec<'_>, error: &io::Error) -> (i32, String) {
    let program = spec.argv.first().map_or("", String::as_str);
    let dir = spec.dir;
    // A command lifted out of the shell fails in the shell's words.
    let shell = spec
        .shell_argv
        .and_then(|argv| argv.first())
        .map(|shell| shell.rsplit('/').next().unwrap_or(shell));
    match (error.kind(), shell) {
        (io::ErrorKind::NotFound, _) if !dir.is_dir() => (
            127,
            format!("working directory {} does not exist", dir.display()),
        ),
        (io::ErrorKind::NotFound, Some("bash")) => {
            (127, format!("bash: line 1: {program}: command not found"))
        }
        (io::ErrorKind::NotFound, Some(shell)) => {
            (127, format!("{shell}: 1: {program}: not found"))
        }
        (io::ErrorKind::NotFound, None) => (
            127,
            format!("command not found: `{program}` (not on PATH, or no such file)"),
        ),
        (io::ErrorKind::PermissionDenied, Some("bash")) => {
            (126, format!("bash: line 1: {program}: Permission denied"))
        }
        (io::ErrorKind::PermissionDenied, Some(shell)) => {
            (126, format!("{shell}: 1: {program}: Permission denied"))
        }
        (io::ErrorKind::PermissionDenied, None) => (
            126,
            format!("permission denied running `{program}` (is it executable?)"),
        ),
        (_, _) => (126, format!("cannot start `{program}`: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `sh -c SCRIPT` in a temporary directory, with no environment of its own.
    fn with_shell<T>(
        script: &str,
        timeout: Option<Duration>,
        work: impl FnOnce(&CommandSpec<'_>, &Path) -> T,
    ) -> T {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let log = dir.path().join("step.log");
        let argv = vec!["sh".to_string(), "-c".to_string(), script.to_string()];
        let env = BTreeMap::new();
        let spec = CommandSpec {
            argv: &argv,
            shell_argv: None,
            dir: dir.path(),
            env: &env,
            timeout,
        };
        work(&spec, &log)
    }

    fn run_shell(script: &str, timeout: Option<Duration>) -> (Outcome, String) {
        with_shell(script, timeout, |spec, log| {
            let outcome = run(
                spec,
                log,
                &Masker::new(&[]),
                &Echo::None,
                &Interrupt::default(),
            )
            .expect("the command runs");
            (outcome, std::fs::read_to_string(log).unwrap_or_default())
        })
    }

    /// One test for both ways of waiting, so that turning the pidfd off cannot race another
    /// test of this module.
    #[test]
    fn output_exit_and_timeout_with_and_without_a_pidfd() {
        for without in [false, true] {
            WITHOUT_PIDFD.store(without, std::sync::atomic::Ordering::SeqCst);
            let (outcome, log) =
                run_shell("echo out; echo err >&2; sleep 0.2; echo late; exit 3", None);
            assert_eq!(outcome.exit, Exit::Code(3), "without a pidfd: {without}");
            assert_eq!(log, "out\nerr\nlate\n", "without a pidfd: {without}");

            let (outcome, log) =
                run_shell("echo begun; sleep 30", Some(Duration::from_millis(300)));
            assert!(outcome.timed_out, "without a pidfd: {without}");
            assert_eq!(outcome.exit, Exit::Signal(15), "without a pidfd: {without}");
            assert_eq!(log, "begun\n");

            // The leader closes its output long before it exits: the wait goes on without it.
            let (outcome, _) = run_shell("exec >/dev/null 2>&1; sleep 0.2; exit 4", None);
            assert_eq!(outcome.exit, Exit::Code(4), "without a pidfd: {without}");
        }
        WITHOUT_PIDFD.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    #[test]
    fn a_metric_keeps_its_stdout_apart_from_the_log() {
        let script = "echo 'warming up' >&2; echo 42.5; yes filler | head -c 200000";
        let (value, log) = with_shell(script, None, |spec, log| {
            let value = sample(spec, log, &Masker::new(&[]), &Interrupt::default())
                .expect("the command runs");
            (value, std::fs::read_to_string(log).unwrap())
        });
        assert_eq!(value, Ok(42.5));
        assert!(log.starts_with("warming up\nstdout: 42.5"), "{log}");
    }
}
