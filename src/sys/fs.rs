//! Files: reading the end of one whatever its size, writing one atomically (removing what a
//! killed writer left), and creating the private files and directories of the state directory.
//!
//! A step's log may be gigabytes, and what people need of it is its end: the last lines in the
//! terminal, the note and the record, the last MiB in a CI group. Seeking to the end first
//! makes that cost the same for a huge log as for a small one.
//!
//! The state directory holds the output of release commands, so what shipbook creates in it is
//! private: directories 0700, files 0600. The modes are set explicitly after creating, because
//! the mode given at creation only ever loses bits to the umask, and a umask can also take the
//! owner's own bits.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::sys::liveness;
use crate::sys::operator::hostname;

/// The mode of every directory shipbook creates in the state directory.
pub const PRIVATE_DIR: u32 = 0o700;
/// The mode of every file shipbook creates in the state directory.
pub const PRIVATE_FILE: u32 = 0o600;

/// Creates `dir` and its missing parents, each private (0700); an existing directory is left
/// as it is.
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir_all(parent)?;
    }
    match std::fs::DirBuilder::new().mode(PRIVATE_DIR).create(dir) {
        Ok(()) => make_private(dir, PRIVATE_DIR),
        // Another process made it in the meantime.
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(error) => Err(error),
    }
}

/// Sets `path` to `mode` (0700 or 0600), whatever the umask made of it.
pub fn make_private(path: &Path, mode: u32) -> io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Opens `path` for appending, creating it private (0600) when it does not exist, and its
/// directory (0700) when that does not exist either: a run's log directory is made by the first
/// log written into it, so that a run whose steps print nothing creates no directory.
pub fn open_private_append(path: &Path) -> io::Result<File> {
    let open = || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(PRIVATE_FILE)
            .open(path)
    };
    let file = match open() {
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            match path
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
            {
                Some(parent) => {
                    create_private_dir_all(parent)?;
                    open()?
                }
                None => return Err(error),
            }
        }
        opened => opened?,
    };
    if file.metadata()?.permissions().mode() & 0o777 != PRIVATE_FILE {
        file.set_permissions(std::fs::Permissions::from_mode(PRIVATE_FILE))?;
    }
    Ok(file)
}

/// The end of a file, as read by `read_tail`.
pub struct Tail {
    /// The last bytes of the file, at most as many as asked for.
    pub bytes: Vec<u8>,
    /// Whether the file had more before them.
    pub cut: bool,
}

/// Reads the last `max_bytes` bytes of the file at `path`.
pub fn read_tail(path: &Path, max_bytes: u64) -> io::Result<Tail> {
    let mut file = File::open(path)?;
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = length.saturating_sub(max_bytes);
    if start > 0 {
        file.seek(SeekFrom::Start(start))?;
    }
    let mut bytes = Vec::new();
    file.take(max_bytes).read_to_end(&mut bytes)?;
    Ok(Tail {
        bytes,
        cut: start > 0,
    })
}

/// The last `lines` lines of a log file, read from its end so that a huge log costs nothing;
/// empty when the file cannot be read.
pub fn log_tail(path: &Path, lines: usize) -> String {
    /// How much of the end is read: far more than the few lines ever asked for.
    const WINDOW: u64 = 64 * 1024;
    let Ok(tail) = read_tail(path, WINDOW) else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&tail.bytes);
    let text = text.trim_end_matches('\n');
    let all: Vec<&str> = text.split('\n').collect();
    // When the window cut a line in half, drop the partial first line.
    let skip_partial = usize::from(tail.cut && all.len() > 1);
    let from = all.len().saturating_sub(lines).max(skip_partial);
    all[from..].join("\n")
}

/// What to do when the file to write already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Replace,
    /// Keep it and fail with `AlreadyExists`, even for a file created since the caller looked.
    Keep,
}

/// Writes a file through a temporary file beside it and a rename, so that no reader (and no
/// crash) ever sees half of it. Creates the directory when needed. The temporary files that
/// killed writers left in the directory are removed first. The file is private (0600), as
/// tempfile has always made it. Its content is flushed to the disk before the rename, so that
/// not even a power cut leaves it empty.
pub fn write_atomically(path: &Path, text: &str, existing: Existing) -> io::Result<()> {
    write_through_rename(path, text, existing, true)
}

/// [`write_atomically`] without the flush to the disk, for a file that can be written again from
/// the record (a change note): no process ever sees half of it, but a power cut right after the
/// rename may leave it empty. An fsync is the dearest part of writing a small file.
pub fn write_rebuildable(path: &Path, text: &str) -> io::Result<()> {
    write_through_rename(path, text, Existing::Replace, false)
}

fn write_through_rename(path: &Path, text: &str, existing: Existing, sync: bool) -> io::Result<()> {
    use std::io::Write as _;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    remove_leftovers(dir);
    // tempfile names its random file in the error; the caller knows only the file asked for.
    let mut file = tempfile::Builder::new()
        .prefix(temporary_prefix())
        .suffix(TEMPORARY_SUFFIX)
        .tempfile_in(dir)
        .map_err(|error| io::Error::from(error.kind()))?;
    // tempfile creates it 0600 less the umask; a note in the state directory is exactly 0600.
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(PRIVATE_FILE))?;
    file.write_all(text.as_bytes())?;
    if sync {
        file.as_file().sync_all()?;
    }
    let persisted = match existing {
        Existing::Replace => file.persist(path),
        Existing::Keep => file.persist_noclobber(path),
    };
    persisted.map(drop).map_err(|error| error.error)
}

/// Temporary files are named `.shipbook-PID-START-RANDOM.tmp` after the process writing them
/// (its pid and start time, as `liveness` tells processes apart). A writer killed between
/// creating one and renaming it (`kill -9`, power loss) cannot remove it; the name lets the next
/// writer in the directory tell such a leftover from the file of a writer still at work.
const TEMPORARY_PREFIX: &str = ".shipbook-";
const TEMPORARY_SUFFIX: &str = ".tmp";

fn temporary_prefix() -> &'static str {
    // This process's pid and start time do not change: read `/proc` once.
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PREFIX.get_or_init(|| {
        let pid = std::process::id();
        let start = liveness::process_start(pid).unwrap_or(0);
        format!("{TEMPORARY_PREFIX}{pid}-{start}-")
    })
}

/// The writer a temporary file was named after: its pid, and its start time when known.
fn writer_of(name: &str) -> Option<(u32, Option<u64>)> {
    let rest = name
        .strip_prefix(TEMPORARY_PREFIX)?
        .strip_suffix(TEMPORARY_SUFFIX)?;
    let mut parts = rest.splitn(3, '-');
    let pid = parts.next()?.parse().ok()?;
    let start: u64 = parts.next()?.parse().ok()?;
    parts.next()?;
    Some((pid, (start != 0).then_some(start)))
}

/// Removes the temporary files in `dir` whose writer is gone. Best-effort: a file that cannot be
/// removed now is tried again by the next write.
fn remove_leftovers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let host = hostname();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((pid, start)) = name.to_str().and_then(writer_of) else {
            continue;
        };
        if liveness::is_gone(&host, pid, start) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_the_last_bytes_and_says_whether_there_was_more() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("log");
        std::fs::write(&path, "0123456789").unwrap();
        let tail = read_tail(&path, 4).unwrap();
        assert_eq!(tail.bytes, b"6789");
        assert!(tail.cut);
        let whole = read_tail(&path, 100).unwrap();
        assert_eq!(whole.bytes, b"0123456789");
        assert!(!whole.cut);
        assert!(read_tail(&dir.path().join("missing"), 4).is_err());
    }

    #[test]
    fn log_tails_are_whole_lines() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("log");
        std::fs::write(&path, "one\ntwo\nthree\n").unwrap();
        assert_eq!(log_tail(&path, 2), "two\nthree");
        assert_eq!(log_tail(&path, 10), "one\ntwo\nthree");
        assert_eq!(log_tail(&dir.path().join("missing"), 2), "");

        let long = format!("{}\nlast\n", "x".repeat(70 * 1024));
        std::fs::write(&path, long).unwrap();
        assert_eq!(log_tail(&path, 5), "last");
    }

    #[test]
    fn temporary_files_name_their_writer() {
        let prefix = temporary_prefix();
        let (pid, start) = writer_of(&format!("{prefix}Ab3xYz{TEMPORARY_SUFFIX}")).unwrap();
        assert_eq!(pid, std::process::id());
        assert_eq!(start, liveness::process_start(pid));
        assert_eq!(writer_of(".shipbook-12-0-x.tmp"), Some((12, None)));
        for foreign in [
            ".tmpAb3xYz",
            ".shipbook-x-1-a.tmp",
            ".shipbook-12-1.tmp",
            "note.md",
        ] {
            assert_eq!(writer_of(foreign), None, "{foreign}");
        }
    }
}
