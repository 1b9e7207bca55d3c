//! Running a job with a pseudo-terminal as its stdin, stdout and stderr, as a person at a
//! terminal runs shipbook: its live line draws, and what it writes is read by this process as a
//! terminal emulator would read it.
//!
//! The job stays in the benchmark's own process group and session (no `setsid`, no `script`):
//! a wrapper that starts a session may land the job in another scheduling group (autogroup),
//! where it competes with the rest of the machine differently from the commands it is compared
//! with. The terminal is not the job's controlling terminal, which changes nothing for output.

use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime};

use super::measure::{Job, Sample, clean_environment, wait4};

/// Runs `job` once on a new pseudo-terminal of 100 columns; what it prints is read and dropped,
/// its last 2000 bytes kept for the message when it fails.
pub fn run_in_pty(job: &Job, transcript: &Path) -> Result<Sample, String> {
    let (master, slave) = open_pty().map_err(|e| format!("cannot open a pseudo-terminal: {e}"))?;
    let reader = std::thread::spawn(move || {
        let mut master = master;
        let mut kept = Vec::new();
        let mut buffer = [0u8; 16 * 1024];
        // The read ends with EIO once every process has closed the terminal.
        while let Ok(read) = master.read(&mut buffer) {
            if read == 0 {
                break;
            }
            kept.extend_from_slice(&buffer[..read]);
            let excess = kept.len().saturating_sub(2000);
            kept.drain(..excess);
        }
        kept
    });
    let stdio = |fd: &OwnedFd| -> Result<Stdio, String> {
        fd.try_clone()
            .map(Stdio::from)
            .map_err(|e| format!("cannot share the pseudo-terminal: {e}"))
    };
    let mut command = Command::new(&job.program);
    command
        .args(&job.args)
        .current_dir(&job.dir)
        .stdin(stdio(&slave)?)
        .stdout(stdio(&slave)?)
        .stderr(stdio(&slave)?)
        .env("TERM", "xterm-256color");
    clean_environment().apply(&mut command);
    let spawned_at = SystemTime::now();
    let start = Instant::now();
    let child = command
        .spawn()
        .map_err(|e| format!("cannot start `{}`: {e}", job.display()))?;
    // Only the job holds the terminal now, so that the reader sees its end with the job's.
    drop(command);
    drop(slave);
    let (status, usage) =
        wait4(child.id()).map_err(|e| format!("cannot wait for `{}`: {e}", job.display()))?;
    let wall = start.elapsed();
    drop(child);
    let shown = reader.join().unwrap_or_default();
    let _ = std::fs::write(transcript, &shown);
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        return Ok(Sample {
            wall,
            max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
            spawned_at,
        });
    }
    Err(format!(
        "`{}` failed at a terminal; the end of what it showed:\n{}",
        job.display(),
        String::from_utf8_lossy(&shown).trim_end()
    ))
}

/// A new pseudo-terminal: its master (to read) and its slave (for the job), both close-on-exec.
fn open_pty() -> std::io::Result<(File, OwnedFd)> {
    let mut master: libc::c_int = -1;
    let mut slave: libc::c_int = -1;
    let size = libc::winsize {
        ws_row: 40,
        ws_col: 100,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors into the integers given; the name buffer and the
    // terminal settings may be null, and the window size is a valid struct for the call.
    let result = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    if result != 0 {
        return Err(std::io::Error::last_os_error());
    }
    for fd in [master, slave] {
        // SAFETY: setting FD_CLOEXEC on a descriptor this function owns.
        unsafe {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
    // SAFETY: both descriptors were just opened and are owned by nothing else.
    Ok(unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) })
}
