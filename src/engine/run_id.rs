//! Run ids: sortable by time, readable, and unique enough to type a prefix of.
//!
//! `20261122T181503Z-billing-api-3f9a`: the UTC start time, the runbook's name, and four hex
//! digits so that two runs started in the same second differ. Sorting ids sorts runs by start.

use std::hash::{BuildHasher, Hasher};

use chrono::{DateTime, Utc};

pub fn new(runbook: &str, started: DateTime<Utc>) -> String {
    // RandomState is seeded from the operating system's randomness; hashing the time and pid
    // with it gives a suffix that differs between processes and calls.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(started.timestamp_nanos_opt().unwrap_or_default() as u128);
    hasher.write_u32(std::process::id());
    let suffix = hasher.finish() as u16;
    format!(
        "{}-{runbook}-{suffix:04x}",
        started.format("%Y%m%dT%H%M%SZ")
    )
}

/// Whether a file name is that of a change note, `<run-id>.md`, of any runbook.
pub fn is_note_file(name: &str) -> bool {
    let Some(id) = name.strip_suffix(".md") else {
        return false;
    };
    // `YYYYMMDDTHHMMSSZ-`, a runbook name, `-` and four hex digits.
    let bytes = id.as_bytes();
    let stamp_is_digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|digits| digits.iter().all(u8::is_ascii_digit))
    };
    let Some((rest, suffix)) = id.rsplit_once('-') else {
        return false;
    };
    id.len() > 22
        && stamp_is_digits(0..8)
        && bytes[8] == b'T'
        && stamp_is_digits(9..15)
        && &id[15..17] == "Z-"
        && rest.len() > 17
        && suffix.len() == 4
        && suffix.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    #[test]
    fn has_the_documented_shape() {
        let started = chrono::DateTime::parse_from_rfc3339("2026-11-22T18:15:03Z")
            .unwrap()
            .to_utc();
        let id = super::new("billing-api", started);
        assert!(id.starts_with("20261122T181503Z-billing-api-"), "{id}");
        assert_eq!(id.len(), "20261122T181503Z-billing-api-3f9a".len());
        assert!(super::is_note_file(&format!("{id}.md")));
    }

    #[test]
    fn only_note_names_are_notes() {
        assert!(super::is_note_file("20261122T181503Z-web-3f9a.md"));
        for other in [
            "20261122T181503Z-web-3f9a",
            "20261122T181503Z--3f9a.md",
            "README.md",
            "2026112XT181503Z-web-3f9a.md",
            "20261122T181503Z-web-3f9g.md",
            "v1.2.md",
        ] {
            assert!(!super::is_note_file(other), "{other}");
        }
    }
}
