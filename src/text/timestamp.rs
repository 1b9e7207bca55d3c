//! The one form of a moment in time that shipbook records and prints.
//!
//! Every timestamp of a run (when it started and finished, when a step started, since when a
//! lock is held) is written as RFC 3339 in UTC with milliseconds and a `Z`, such as
//! `2024-05-01T09:30:00.123Z`. The JSON output, the change note and the record store all carry
//! that exact text, so it is part of what users and their scripts rely on. A `Timestamp` keeps
//! the instant typed inside the program and turns it into that text, and only that text, at
//! the edges: `Display` and serde here, the record store's own conversions in its backend.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant, kept to the millisecond, as every record holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The current time.
    pub fn now() -> Timestamp {
        Timestamp::from(Utc::now())
    }

    /// Milliseconds from `earlier` to this instant (negative when `earlier` is later).
    pub fn millis_since(self, earlier: Timestamp) -> i64 {
        (self.0 - earlier.0).num_milliseconds()
    }

    /// The instant `millis` milliseconds later.
    pub fn plus_millis(self, millis: u64) -> Timestamp {
        let millis = i64::try_from(millis).unwrap_or(i64::MAX);
        Timestamp(self.0 + chrono::TimeDelta::milliseconds(millis))
    }

    /// Reads the recorded form back. Any RFC 3339 offset is accepted and turned into UTC.
    pub fn parse(text: &str) -> Result<Timestamp, chrono::ParseError> {
        DateTime::parse_from_rfc3339(text).map(|instant| Timestamp::from(instant.to_utc()))
    }
}

impl From<DateTime<Utc>> for Timestamp {
    /// Keeps the instant to the millisecond: what is printed is then exactly what is held, so a
    /// duration computed from two timestamps agrees with the text of both.
    fn from(instant: DateTime<Utc>) -> Timestamp {
        Timestamp(instant.trunc_subsecs(3))
    }
}

impl FromStr for Timestamp {
    type Err = chrono::ParseError;

    fn from_str(text: &str) -> Result<Timestamp, chrono::ParseError> {
        Timestamp::parse(text)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that a column width in a format string applies as it did to the text.
        f.pad(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(|error| {
            serde::de::Error::custom(format!("`{text}` is not an RFC 3339 timestamp: {error}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_prints_as_rfc_3339_in_utc_with_milliseconds() {
        let instant = Timestamp::parse("2024-05-01T11:30:00.123456+02:00").unwrap();
        assert_eq!(instant.to_string(), "2024-05-01T09:30:00.123Z");
        assert_eq!(format!("{instant:<26}|"), "2024-05-01T09:30:00.123Z  |");
        let whole = Timestamp::parse("2024-05-01T09:30:00Z").unwrap();
        assert_eq!(whole.to_string(), "2024-05-01T09:30:00.000Z");
    }

    #[test]
    fn now_prints_as_the_records_always_did() {
        let now = Timestamp::now();
        let text = now.to_string();
        assert_eq!(text.len(), "2024-05-01T09:30:00.123Z".len(), "{text}");
        assert!(text.ends_with('Z'), "{text}");
        assert_eq!(
            Timestamp::parse(&text).unwrap(),
            now,
            "what is printed is what is held"
        );
    }

    #[test]
    fn serde_carries_the_same_text() {
        let instant = Timestamp::parse("2024-05-01T09:30:00.123Z").unwrap();
        let json = serde_json::to_string(&instant).unwrap();
        assert_eq!(json, "\"2024-05-01T09:30:00.123Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), instant);
        let error = serde_json::from_str::<Timestamp>("\"yesterday\"").unwrap_err();
        assert!(error.to_string().contains("`yesterday`"), "{error}");
    }

    #[test]
    fn durations_are_in_whole_milliseconds() {
        let start = Timestamp::parse("2024-05-01T09:30:00.999Z").unwrap();
        let end = Timestamp::parse("2024-05-01T09:30:01.000Z").unwrap();
        assert_eq!(end.millis_since(start), 1);
        assert_eq!(start.millis_since(end), -1);
    }
}
