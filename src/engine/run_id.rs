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
    }
}
