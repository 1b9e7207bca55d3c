//! Measuring whole processes: wall time from spawn to reap, and peak memory from `wait4`.
//!
//! Each sample is one fresh process. The wall time is an `Instant` taken just before the spawn
//! and just after the process is reaped. The peak memory is the `ru_maxrss` that `wait4` returns
//! for that one child: on Linux it is `getrusage(RUSAGE_BOTH)` of the child, the largest
//! resident set of the child and of every process the child itself waited for (the maximum, not
//! the sum). That is the number a wrapper process would print from `getrusage(RUSAGE_CHILDREN)`,
//! without the wrapper: the benchmark's own `RUSAGE_CHILDREN`, which only ever grows, is never
//! used.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// One command to measure: always run with stdin and stdout on /dev/null and stderr in a file
/// that is shown when the command fails.
#[derive(Debug, Clone)]
pub struct Job {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub dir: PathBuf,
}

/// What one run of a job measured.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub wall: Duration,
    /// Peak resident set of the process and of the processes it waited for, in KiB.
    pub max_rss_kib: u64,
    /// The wall-clock time just before the spawn, for latencies measured by the command itself.
    pub spawned_at: SystemTime,
}

impl Sample {
    pub fn millis(&self) -> f64 {
        self.wall.as_secs_f64() * 1e3
    }

    pub fn max_rss_mib(&self) -> f64 {
        self.max_rss_kib as f64 / 1024.0
    }
}

impl Job {
    pub fn new(program: impl Into<PathBuf>, dir: &Path) -> Job {
        Job {
            program: program.into(),
            args: Vec::new(),
            dir: dir.to_path_buf(),
        }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Job {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Job
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// The command line, for messages.
    pub fn display(&self) -> String {
        let mut text = self.program.display().to_string();
        for arg in &self.args {
            text.push(' ');
            let arg = arg.to_string_lossy();
            if arg.is_empty() || arg.contains([' ', '\'', '"', '|', '>', '$']) {
                text.push('\'');
                text.push_str(&arg.replace('\'', r"'\''"));
                text.push('\'');
            } else {
                text.push_str(&arg);
            }
        }
        text
    }

    /// Runs the job once; an exit other than 0 is an error that quotes the end of its stderr.
    pub fn run(&self, stderr_path: &Path) -> Result<Sample, String> {
        let stderr = File::create(stderr_path).map_err(|e| {
            format!(
                "cannot create {} (for the stderr of `{}`): {e}",
                stderr_path.display(),
                self.display()
            )
        })?;
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            // A make run under cargo must not join a jobserver it did not ask for.
            .env_remove("MAKEFLAGS")
            .env_remove("MFLAGS")
            .env_remove("MAKELEVEL");
        clean_environment().apply(&mut command);
        let spawned_at = SystemTime::now();
        let start = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start `{}`: {e}", self.display()))?;
        let (status, usage) =
            wait4(child.id()).map_err(|e| format!("cannot wait for `{}`: {e}", self.display()))?;
        let wall = start.elapsed();
        // The child is reaped: dropping its handle neither waits nor kills.
        drop(child);
        if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
            return Ok(Sample {
                wall,
                max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
                spawned_at,
            });
        }
        let how = if libc::WIFSIGNALED(status) {
            format!("was killed by signal {}", libc::WTERMSIG(status))
        } else {
            format!("exited with {}", libc::WEXITSTATUS(status))
        };
        let tail = tail(stderr_path, 2000);
        Err(if tail.trim().is_empty() {
            format!("`{}` {how} (nothing on stderr)", self.display())
        } else {
            format!(
                "`{}` {how}; the end of its stderr:\n{}",
                self.display(),
                tail.trim_end()
            )
        })
    }
}

/// The environment of the measured commands: the user's, without what `cargo run` added for
/// the xtask program itself. Its LD_LIBRARY_PATH in particular lists seven directories of build
/// outputs and toolchain libraries, which the dynamic loader of every process started (sh, true,
/// shipbook) would search before the system's, slowing every spawn of every workload.
pub struct CleanEnvironment {
    /// Variables to remove.
    pub remove: Vec<OsString>,
    /// LD_LIBRARY_PATH without cargo's entries; `None` when nothing of the user's is left.
    pub library_path: Option<OsString>,
}

impl CleanEnvironment {
    /// Takes out of `command`'s environment what `cargo run` added.
    pub fn apply(&self, command: &mut Command) {
        for name in &self.remove {
            command.env_remove(name);
        }
        match &self.library_path {
            Some(path) => command.env("LD_LIBRARY_PATH", path),
            None => command.env_remove("LD_LIBRARY_PATH"),
        };
    }
}

pub fn clean_environment() -> &'static CleanEnvironment {
    static CLEAN: std::sync::OnceLock<CleanEnvironment> = std::sync::OnceLock::new();
    CLEAN.get_or_init(|| {
        const CARGO_RUN: [&str; 5] = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_NAME",
            "CARGO_BIN_NAME",
            "CARGO_PRIMARY_PACKAGE",
        ];
        let remove = std::env::vars_os()
            .map(|(name, _)| name)
            .filter(|name| {
                let name = name.to_string_lossy();
                CARGO_RUN.iter().any(|prefix| name.starts_with(prefix))
                    || name == "RUST_RECURSION_COUNT"
            })
            .collect();
        // The target directory of this program (…/target/debug/xtask → …/target), and the
        // toolchains of rustup.
        let exe = std::env::current_exe().ok();
        let target = exe
            .as_deref()
            .and_then(Path::parent)
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        let rustup = std::env::var_os("RUSTUP_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".rustup")))
            .map(|home| home.join("toolchains"));
        let library_path = std::env::var_os("LD_LIBRARY_PATH").and_then(|paths| {
            let kept: Vec<PathBuf> = std::env::split_paths(&paths)
                .filter(|dir| {
                    !target.as_ref().is_some_and(|t| dir.starts_with(t))
                        && !rustup.as_ref().is_some_and(|r| dir.starts_with(r))
                })
                .collect();
            if kept.is_empty() {
                None
            } else {
                std::env::join_paths(kept).ok()
            }
        });
        CleanEnvironment {
            remove,
            library_path,
        }
    })
}

/// Waits for one child and returns its wait status and resource usage.
pub fn wait4(pid: u32) -> io::Result<(i32, libc::rusage)> {
    let pid = i32::try_from(pid).map_err(|_| io::Error::other("pid out of range"))?;
    let mut status = 0;
    // SAFETY: rusage is plain old data; all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: wait4 writes only to the two out-parameters it is given.
        let result = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if result == pid {
            return Ok((status, usage));
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// The last `limit` bytes of a file, as text; empty when it cannot be read.
fn tail(path: &Path, limit: u64) -> String {
    shipbook::sys::fs::read_tail(path, limit)
        .map(|tail| String::from_utf8_lossy(&tail.bytes).into_owned())
        .unwrap_or_default()
}

/// Something measured once per round: usually a job, with work to do before or after it that
/// is not timed.
pub type Measure<'a> = Box<dyn FnMut() -> Result<Sample, String> + 'a>;

/// Runs the measures alternately, A B C A B C …, `warmup` rounds unrecorded and then `rounds`
/// recorded ones, so that a drift of the machine touches every measure alike and a ratio of two
/// samples of one round compares neighbours in time. Returns the samples of each measure.
pub fn alternate(
    name: &str,
    warmup: usize,
    rounds: usize,
    measures: &mut [Measure<'_>],
) -> Result<Vec<Vec<Sample>>, String> {
    let mut samples = vec![Vec::with_capacity(rounds); measures.len()];
    eprint!("  {name}: ");
    for round in 0..warmup + rounds {
        for (index, measure) in measures.iter_mut().enumerate() {
            let sample = measure().inspect_err(|_| eprintln!())?;
            if round >= warmup {
                samples[index].push(sample);
            }
        }
        eprint!("{}", if round < warmup { "w" } else { "." });
    }
    eprintln!();
    Ok(samples)
}

/// The median, minimum and maximum of some values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

pub fn summarize(values: &[f64]) -> Summary {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return Summary {
            median: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
        };
    }
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    Summary {
        median,
        min: sorted[0],
        max: sorted[n - 1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(summarize(&[3.0, 1.0, 2.0]).median, 2.0);
        let even = summarize(&[4.0, 1.0, 3.0, 2.0]);
        assert_eq!((even.median, even.min, even.max), (2.5, 1.0, 4.0));
    }

    #[test]
    fn measured_commands_do_not_get_cargos_library_path() {
        let dir = tempfile::tempdir().unwrap();
        let seen = dir.path().join("seen");
        Job::new("sh", dir.path())
            .arg("-c")
            .arg(format!("echo \"$LD_LIBRARY_PATH\" > {}", seen.display()))
            .run(&dir.path().join("stderr"))
            .unwrap();
        let seen = std::fs::read_to_string(seen).unwrap();
        assert!(!seen.contains("/target/"), "{seen}");
        assert!(!seen.contains("/toolchains/"), "{seen}");
    }

    #[test]
    fn a_failing_command_says_what_failed() {
        let dir = std::env::temp_dir();
        let stderr = dir.join(format!("xtask-measure-test-{}", std::process::id()));
        let error = Job::new("sh", &dir)
            .args(["-c", "echo broken >&2; exit 3"])
            .run(&stderr)
            .unwrap_err();
        let _ = std::fs::remove_file(&stderr);
        assert!(error.contains("exited with 3"), "{error}");
        assert!(error.contains("broken"), "{error}");
    }
}
