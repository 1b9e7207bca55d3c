//! Files: reading the end of one whatever its size, and writing one atomically.
//!
//! A step's log may be gigabytes, and what people need of it is its end: the last lines in the
//! terminal, the note and the record, the last MiB in a CI group. Seeking to the end first
//! makes that cost the same for a huge log as for a small one.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

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
}

/// What to do when the file to write already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Replace,
    /// Keep it and fail with `AlreadyExists`, even for a file created since the caller looked.
    Keep,
}

/// Writes a file through a temporary file beside it and a rename, so that no reader (and no
/// crash) ever sees half of it. Creates the directory when needed.
pub fn write_atomically(path: &Path, text: &str, existing: Existing) -> io::Result<()> {
    use std::io::Write as _;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    // tempfile names its random file in the error; the caller knows only the file asked for.
    let mut file =
        tempfile::NamedTempFile::new_in(dir).map_err(|error| io::Error::from(error.kind()))?;
    file.write_all(text.as_bytes())?;
    file.as_file().sync_all()?;
    let persisted = match existing {
        Existing::Replace => file.persist(path),
        Existing::Keep => file.persist_noclobber(path),
    };
    persisted.map(drop).map_err(|error| error.error)
}
