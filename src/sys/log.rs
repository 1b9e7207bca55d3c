//! Where a step's output goes: its log file (created on the first byte), through the secret
//! masker, and to the terminal with `-v`; copied from the step's pipe on a reused thread, or
//! written by an action as it goes.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::mpsc;

use crate::mask::Masker;

/// The size of one read from a step's pipe and of the log's write buffer.
const CHUNK: usize = 64 * 1024;

/// Where the output goes besides the log.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// Only into the log.
    None,
    /// Also to shipbook's stderr, as it arrives (`-v`).
    Stderr,
}

/// A step's log file, created on the first byte written: a step that prints nothing costs no
/// file (creating files is the dearest part of a step of `true` on some file systems).
pub(super) struct LazyLog {
    path: std::path::PathBuf,
    file: Option<io::BufWriter<File>>,
}

impl LazyLog {
    pub(super) fn new(path: &Path) -> LazyLog {
        LazyLog {
            path: path.to_path_buf(),
            file: None,
        }
    }
}

impl Write for LazyLog {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.file.is_none() {
            // A log holds what a command printed: private to the user (0600).
            let file = crate::sys::fs::open_private_append(&self.path)?;
            self.file = Some(io::BufWriter::with_capacity(CHUNK, file));
        }
        self.file.as_mut().expect("just opened").write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

/// A step's log as a writer for what an action finds out: masked as it is written, echoed with
/// `-v`, and on disk line by line, so that a long http poll shows in the log and the terminal
/// while it runs.
pub struct LogWriter {
    log: LazyLog,
    stream: crate::mask::StreamMasker,
    echo: Echo,
    masked: Vec<u8>,
}

impl LogWriter {
    pub fn new(path: &Path, masker: &Masker, echo: Echo) -> LogWriter {
        LogWriter {
            log: LazyLog::new(path),
            stream: masker.stream(),
            echo,
            masked: Vec::new(),
        }
    }
}

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.masked.clear();
        self.stream.push(bytes, &mut self.masked);
        write_out(&mut self.log, &self.masked, self.echo);
        // A whole line cannot hold half a secret that the next write completes: let it out.
        if bytes.ends_with(b"\n") {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    /// Writes out what the masker held back, so that a command run next appends after it.
    fn flush(&mut self) -> io::Result<()> {
        self.masked.clear();
        self.stream.finish(&mut self.masked);
        write_out(&mut self.log, &self.masked, self.echo);
        self.log.flush()
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

pub(super) struct Copier {
    pub(super) done: mpsc::Receiver<()>,
}

/// One output copy for a copier thread to do.
struct CopyJob {
    reader: io::PipeReader,
    log: LazyLog,
    stream: crate::mask::StreamMasker,
    echo: Echo,
    done: mpsc::Sender<()>,
}

/// Copier threads waiting for their next job. A thread is reused from step to step (starting
/// one per step costs a stack mapping and fresh buffers every time); one still stuck on a pipe
/// that a detached process holds open is simply not idle, and the next step gets a new one.
static IDLE_COPIERS: std::sync::Mutex<Vec<mpsc::Sender<CopyJob>>> =
    std::sync::Mutex::new(Vec::new());

/// Copies the pipe into the log (and the terminal with `-v`) on a copier thread.
pub(super) fn spawn_copier(
    reader: io::PipeReader,
    log: LazyLog,
    masker: &Masker,
    echo: Echo,
) -> Copier {
    let (done_tx, done) = mpsc::channel();
    let mut job = CopyJob {
        reader,
        log,
        stream: masker.stream(),
        echo,
        done: done_tx,
    };
    loop {
        let idle = IDLE_COPIERS.lock().ok().and_then(|mut idle| idle.pop());
        let Some(worker) = idle else { break };
        match worker.send(job) {
            Ok(()) => return Copier { done },
            // That thread is gone; take the job back and try the next one.
            Err(mpsc::SendError(returned)) => job = returned,
        }
    }
    let (jobs_tx, jobs) = mpsc::channel::<CopyJob>();
    jobs_tx.send(job).expect("the receiver is alive");
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; CHUNK];
        let mut masked = Vec::with_capacity(CHUNK + 1024);
        while let Ok(job) = jobs.recv() {
            let done = copy(job, &mut buffer, &mut masked);
            // Idle again before saying so, so that the next step finds this thread.
            if let Ok(mut idle) = IDLE_COPIERS.lock() {
                idle.push(jobs_tx.clone());
            }
            let _ = done.send(());
        }
    });
    Copier { done }
}

/// Copies until the end of the output; returns the channel on which to say it is done.
fn copy(job: CopyJob, buffer: &mut [u8], masked: &mut Vec<u8>) -> mpsc::Sender<()> {
    let CopyJob {
        mut reader,
        mut log,
        mut stream,
        echo,
        done,
    } = job;
    loop {
        let read = match reader.read(buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        masked.clear();
        stream.push(&buffer[..read], masked);
        write_out(&mut log, masked, echo);
    }
    masked.clear();
    stream.finish(masked);
    write_out(&mut log, masked, echo);
    let _ = log.flush();
    done
}

fn write_out(log: &mut impl Write, bytes: &[u8], echo: Echo) {
    if bytes.is_empty() {
        return;
    }
    // A full disk must not stop the step: its output is lost from the log, not the run.
    let _ = log.write_all(bytes);
    if echo == Echo::Stderr {
        let _ = io::stderr().write_all(bytes);
    }
}
