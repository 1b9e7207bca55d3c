//! The 64-bit keys of PostgreSQL advisory locks, derived from what they stand for.
//!
//! Advisory locks are named by a number, shared by every application on the database. A key
//! made from a hash of the schema and the names keeps shipbook's locks apart from other
//! programs' and from another schema's, on every machine alike.

use sha2::{Digest, Sha256};

/// The key of the lock of one runbook in one environment.
pub(super) fn lock_key(schema: &str, runbook: &str, env: &str) -> i64 {
    key(&["shipbook-run", schema, runbook, env])
}

/// The key that lets one machine at a time create or upgrade a schema.
pub(super) fn migration_key(schema: &str) -> i64 {
    key(&["shipbook-migrate", schema])
}

fn key(parts: &[&str]) -> i64 {
    let mut hasher = Sha256::new();
    for part in parts {
        // A separator that cannot occur in a name, so that ("ab", "c") and ("a", "bc") differ.
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_every_part_and_stay_the_same_across_calls() {
        let key = lock_key("shipbook", "web", "production");
        assert_eq!(key, lock_key("shipbook", "web", "production"));
        assert_ne!(key, lock_key("shipbook", "web", "staging"));
        assert_ne!(key, lock_key("other", "web", "production"));
        assert_ne!(lock_key("s", "ab", "c"), lock_key("s", "a", "bc"));
        assert_ne!(migration_key("shipbook"), migration_key("other"));
    }
}
