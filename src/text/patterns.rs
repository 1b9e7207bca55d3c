//! The patterns of the runbook format's plain strings, shared by the JSON Schema (through the
//! schemars attributes of the model types) and by anything that documents them.

/// Runbook names and step ids: what the loader's validation accepts.
pub const IDENTIFIER_PATTERN: &str = "^[a-z0-9_-]+$";

/// Durations, such as "500ms", "30s" or "1h30m": the grammar of `crate::text::duration::parse`, a
/// number and a unit for each of hours, minutes, seconds and milliseconds, in that order, each
/// at most once. (The schema also sets a minimum length, since the empty string is no duration.)
pub const DURATION_PATTERN: &str = "^([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$";

/// Names of environment variables in `[secrets] env`.
pub const ENV_NAME_PATTERN: &str = "^[A-Za-z0-9_]+$";
