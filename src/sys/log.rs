//! Where a step's output goes: its log file (created on the first byte), through the secret
//! masker, and to the terminal with `-v`; pumped from the step's pipe by the process runner, or
//! written by an action as it goes.
//!
//! A log is the one thing a run writes that may be huge, and a full disk must not cost the run
//! its record: a log stops taking output when it cannot be written, or when writing it would
//! leave less than [`RESERVE`] free on its disk, which the record and the change note keep for
//! themselves. The step goes on, its output is still read (and echoed), and the cut is told
//! ([`LogCut`]), so that the record and the terminal say what the log lacks.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use crate::mask::Masker;

/// The size of one read from a step's pipe and of the log's write buffer.
const CHUNK: usize = 64 * 1024;

/// Where the output goes besides the log.
#[derive(Clone, PartialEq, Eq)]
pub enum Echo {
    /// Only into the log.
    None,
    /// Also to shipbook's stderr, as it arrives (`-v`).
    Stderr,
    /// Also to stderr, each line after this label (the step's id), for steps that run beside
    /// each other: their lines interleave, and each still says whose it is.
    Labelled(std::sync::Arc<str>),
}

/// The longest line a labelled echo holds back waiting for its end; a longer one is shown in
/// pieces, each on a line of its own.
const LONGEST_HELD_LINE: usize = 16 * 1024;

/// Echoes output to stderr, a label before each line when there is one.
#[derive(Default)]
struct Echoer {
    /// A labelled echo's line not ended yet: held back, so that a line of one step is never
    /// shown joined to another's.
    partial: Vec<u8>,
    labelled: Vec<u8>,
}

impl Echoer {
    fn echo(&mut self, bytes: &[u8], echo: &Echo) {
        let label = match echo {
            Echo::None => return,
            Echo::Stderr => {
                let _ = io::stderr().write_all(bytes);
                return;
            }
            Echo::Labelled(label) => label,
        };
        self.partial.extend_from_slice(bytes);
        let whole = match self.partial.iter().rposition(|&byte| byte == b'\n') {
            Some(end) => end + 1,
            None if self.partial.len() > LONGEST_HELD_LINE => self.partial.len(),
            None => return,
        };
        let lines: Vec<u8> = self.partial.drain(..whole).collect();
        self.write_labelled(&lines, label);
    }

    /// Shows what is held back of a labelled echo's last line, ended, when the output ends.
    fn end(&mut self, echo: &Echo) {
        if let Echo::Labelled(label) = echo
            && !self.partial.is_empty()
        {
            let rest = std::mem::take(&mut self.partial);
            self.write_labelled(&rest, label);
        }
    }

    /// Writes `lines` with the label before each, every line ended, in one write: stderr is
    /// unbuffered, and a line written in one call is not cut by another step's.
    fn write_labelled(&mut self, lines: &[u8], label: &str) {
        self.labelled.clear();
        for line in lines.split_inclusive(|&byte| byte == b'\n') {
            self.labelled.push(b'[');
            self.labelled.extend_from_slice(label.as_bytes());
            self.labelled.extend_from_slice(b"] ");
            self.labelled.extend_from_slice(line);
            if !line.ends_with(b"\n") {
                self.labelled.push(b'\n');
            }
        }
        let _ = io::stderr().write_all(&self.labelled);
    }
}

/// How much free space a log leaves on its disk: enough for the record of many more steps and
/// for the change note, which are worth more than the rest of one step's output.
pub const RESERVE: u64 = 1024 * 1024;

/// A log that stopped taking output before the output ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCut {
    /// The bytes of this output the log holds: the first ones.
    pub kept: u64,
    /// The bytes that came after them and are not in the log.
    pub lost: u64,
    /// Why the log stopped.
    pub reason: String,
}

impl LogCut {
    /// The cut in one clause, for a step's detail: "log cut after 4096 bytes, 1000 bytes of
    /// output not written: No space left on device (os error 28)".
    pub fn describe(&self) -> String {
        format!(
            "log cut after {} bytes, {} bytes of output not written: {}",
            self.kept, self.lost, self.reason
        )
    }
}

/// A step's log file, created on the first byte written: a step that prints nothing costs no
/// file (creating files is the dearest part of a step of `true` on some file systems). Writing
/// to it never fails: once the file cannot take more, the rest is counted, not written.
pub(super) struct LazyLog {
    path: std::path::PathBuf,
    file: Option<io::BufWriter<File>>,
    /// The file's length when this output began: what an earlier attempt wrote is not counted.
    start: u64,
    /// The bytes of output given to the log so far.
    given: u64,
    /// Once the log stopped taking output: how many bytes it kept, and why it stopped.
    cut: Option<(u64, String)>,
}

impl LazyLog {
    pub(super) fn new(path: &Path) -> LazyLog {
        LazyLog {
            path: path.to_path_buf(),
            file: None,
            start: 0,
            given: 0,
            cut: None,
        }
    }

    /// Whether (and where) the log stopped taking this output.
    pub(super) fn cut(&self) -> Option<LogCut> {
        self.cut.as_ref().map(|(kept, reason)| LogCut {
            kept: *kept,
            lost: self.given.saturating_sub(*kept),
            reason: reason.clone(),
        })
    }

    /// Writes `bytes` to the file, opening it first if need be, unless that would leave less
    /// than the reserve free on its disk.
    fn take(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.file.is_none() {
            // A log holds what a command printed: private to the user (0600).
            let file = crate::sys::fs::open_private_append(&self.path)?;
            self.start = file.metadata().map_or(0, |metadata| metadata.len());
            self.file = Some(io::BufWriter::with_capacity(CHUNK, file));
        }
        let file = self.file.as_mut().expect("just opened");
        let needed = RESERVE + bytes.len() as u64;
        if free_space(file.get_ref()).is_some_and(|free| free < needed) {
            return Err(io::Error::other(format!(
                "its disk has less than {} MiB free, kept for the record and the change note",
                RESERVE / (1024 * 1024)
            )));
        }
        file.write_all(bytes)
    }

    /// Stops taking output: what is in the file stays, a line at its end says why it stops (if
    /// there is room for it), and the rest is counted, not written.
    fn stop(&mut self, reason: &io::Error) {
        let Some(mut buffered) = self.file.take() else {
            self.cut = Some((
                0,
                format!("cannot create {}: {reason}", self.path.display()),
            ));
            return;
        };
        // What is buffered goes out if it can; what cannot is dropped, so that the file is the
        // output's beginning without a gap.
        let _ = buffered.flush();
        let (mut file, _) = buffered.into_parts();
        let length = file
            .metadata()
            .map_or(self.start, |metadata| metadata.len());
        let kept = length.saturating_sub(self.start);
        let _ = write!(file, "\n[shipbook: the log stops here: {reason}]\n");
        self.cut = Some((kept, reason.to_string()));
    }
}

impl Write for LazyLog {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.given += bytes.len() as u64;
        if self.cut.is_none()
            && let Err(error) = self.take(bytes)
        {
            self.stop(&error);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(file) = &mut self.file
            && let Err(error) = file.flush()
        {
            self.stop(&error);
        }
        Ok(())
    }
}

/// The bytes free for this user on the disk holding `file`; `None` when the system does not say.
fn free_space(file: &File) -> Option<u64> {
    let stat = rustix::fs::fstatvfs(file).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// A step's log as a writer for what an action finds out: masked as it is written, echoed with
/// `-v`, and on disk line by line, so that a long http poll shows in the log and the terminal
/// while it runs.
pub struct LogWriter {
    log: LazyLog,
    stream: crate::mask::StreamMasker,
    echo: Echo,
    echoer: Echoer,
    masked: Vec<u8>,
}

impl LogWriter {
    pub fn new(path: &Path, masker: &Masker, echo: Echo) -> LogWriter {
        LogWriter {
            log: LazyLog::new(path),
            stream: masker.stream(),
            echo,
            echoer: Echoer::default(),
            masked: Vec::new(),
        }
    }

    /// Whether (and where) the log stopped taking what was written to it.
    pub fn cut(&self) -> Option<LogCut> {
        self.log.cut()
    }
}

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.masked.clear();
        self.stream.push(bytes, &mut self.masked);
        write_out(&mut self.log, &self.masked, &self.echo, &mut self.echoer);
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
        write_out(&mut self.log, &self.masked, &self.echo, &mut self.echoer);
        self.log.flush()
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        let _ = self.flush();
        self.echoer.end(&self.echo);
    }
}

/// Copies a step's output from its pipe into the log (and the terminal with `-v`), masked, a
/// chunk at a time: the process runner calls [`OutputPump::pump`] whenever its poll says the
/// pipe is readable, on the thread that also waits for the step.
pub(super) struct OutputPump {
    log: LazyLog,
    stream: crate::mask::StreamMasker,
    echo: Echo,
    echoer: Echoer,
    buffer: Vec<u8>,
    masked: Vec<u8>,
}

thread_local! {
    /// The buffers of the last pump on this thread, for the next one: allocating and zeroing
    /// 64 KiB for every step, and giving it back to the allocator after, is a measurable part
    /// of a short step.
    static SPARE_BUFFERS: std::cell::Cell<Option<(Vec<u8>, Vec<u8>)>> =
        const { std::cell::Cell::new(None) };
}

impl OutputPump {
    pub(super) fn new(log: LazyLog, masker: &Masker, echo: Echo) -> OutputPump {
        let (buffer, masked) = SPARE_BUFFERS
            .take()
            .unwrap_or_else(|| (vec![0u8; CHUNK], Vec::with_capacity(CHUNK + 1024)));
        OutputPump {
            log,
            stream: masker.stream(),
            echo,
            echoer: Echoer::default(),
            buffer,
            masked,
        }
    }

    /// Reads once from `reader` (which the caller's poll found readable) and writes what came.
    /// Returns false at the end of the output (or when the pipe cannot be read any more).
    pub(super) fn pump(&mut self, reader: &mut impl Read) -> bool {
        let read = loop {
            match reader.read(&mut self.buffer) {
                Ok(read) => break read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return true,
                Err(_) => return false,
            }
        };
        if read == 0 {
            return false;
        }
        self.masked.clear();
        self.stream.push(&self.buffer[..read], &mut self.masked);
        write_out(&mut self.log, &self.masked, &self.echo, &mut self.echoer);
        true
    }

    /// Writes out what the masker held back and flushes the log; says whether (and where) the
    /// log had to stop taking the output.
    pub(super) fn finish(mut self) -> Option<LogCut> {
        self.masked.clear();
        self.stream.finish(&mut self.masked);
        write_out(&mut self.log, &self.masked, &self.echo, &mut self.echoer);
        self.echoer.end(&self.echo);
        let _ = self.log.flush();
        let cut = self.log.cut();
        SPARE_BUFFERS.set(Some((
            std::mem::take(&mut self.buffer),
            std::mem::take(&mut self.masked),
        )));
        cut
    }
}

fn write_out(log: &mut impl Write, bytes: &[u8], echo: &Echo, echoer: &mut Echoer) {
    if bytes.is_empty() {
        return;
    }
    // A full disk must not stop the step: the log says where it stopped (see `LazyLog`).
    let _ = log.write_all(bytes);
    echoer.echo(bytes, echo);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_that_cannot_be_written_says_how_much_it_kept_and_lost() {
        // Every write to /dev/full fails as on a full disk.
        let mut log = LazyLog::new(Path::new("/dev/full"));
        log.write_all(&[b'x'; 100]).unwrap();
        log.write_all(&[b'y'; 50]).unwrap();
        log.flush().unwrap();
        let cut = log.cut().expect("the log was cut");
        assert_eq!((cut.kept, cut.lost), (0, 150));
        assert!(
            cut.describe()
                .starts_with("log cut after 0 bytes, 150 bytes of output not written: "),
            "{}",
            cut.describe()
        );
    }

    #[test]
    fn a_log_that_takes_everything_is_not_cut() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("step.log");
        std::fs::write(&path, "an earlier attempt\n").unwrap();
        let mut log = LazyLog::new(&path);
        log.write_all(b"this attempt\n").unwrap();
        log.flush().unwrap();
        assert_eq!(log.cut(), None);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "an earlier attempt\nthis attempt\n"
        );
    }
}
