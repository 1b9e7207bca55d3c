//! Durations as runbooks write them: "500ms", "30s", "10m", "1h30m".
//!
//! The grammar is deliberately narrow (a sequence of number-and-unit pairs, units from hours down
//! to milliseconds, each at most once and in that order) so that a typo such as "10 min" or "1.5h"
//! is an error with the accepted forms rather than a silently different timeout. humantime
//! accepts a much wider language, which is why it is not used here.

use std::time::Duration;

pub const ACCEPTED_FORMS: &str = "a number with a unit, such as \"500ms\", \"30s\", \"10m\", \"2h\" or \"1h30m\" (units: h, m, s, ms)";

/// Parses a duration, or says what is wrong with it.
pub fn parse(text: &str) -> Result<Duration, String> {
    const UNITS: [(&str, u64); 4] = [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)];
    if text.is_empty() {
        return Err("empty duration".into());
    }
    let mut rest = text;
    let mut total_ms: u64 = 0;
    let mut last_unit = None;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("`{text}` is not a duration"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{text}` is too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let Some(position) = UNITS.iter().position(|(name, _)| *name == unit) else {
            return Err(if unit.is_empty() && rest.starts_with(' ') {
                format!("`{text}` has a space; write the unit right after the number (\"10m\")")
            } else if unit.is_empty() && rest.starts_with('.') {
                format!("`{text}` has a fraction; use a smaller unit (\"1500ms\", not \"1.5s\")")
            } else if unit.is_empty() {
                format!("`{text}` has a number without a unit")
            } else {
                format!("`{text}` has an unknown unit `{unit}`")
            });
        };
        if last_unit.is_some_and(|last| position <= last) {
            return Err(format!("`{text}` repeats a unit or has them out of order"));
        }
        last_unit = Some(position);
        total_ms = number
            .checked_mul(UNITS[position].1)
            .and_then(|ms| total_ms.checked_add(ms))
            .ok_or_else(|| format!("`{text}` is too large"))?;
    }
    Ok(Duration::from_millis(total_ms))
}

/// A duration from a runbook value that validation already accepted, or `default` when the key
/// is absent.
pub fn parse_or(value: Option<&toml::Spanned<String>>, default: Duration) -> Duration {
    parse_optional(value).unwrap_or(default)
}

/// A duration from an optional runbook value that validation already accepted.
pub fn parse_optional(value: Option<&toml::Spanned<String>>) -> Option<Duration> {
    value.and_then(|text| parse(text.get_ref()).ok())
}

/// Serializes a duration as whole milliseconds, the unit of every `*_ms` key of the JSON output.
pub fn serialize_millis<S: serde::Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

/// Serializes an optional duration as whole milliseconds (or null).
pub fn serialize_optional_millis<S: serde::Serializer>(
    duration: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => {
            serializer.serialize_some(&u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
        }
        None => serializer.serialize_none(),
    }
}

/// Formats a duration for people: "812ms", "4.2s", "3m05s", "1h02m".
pub fn human(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        if ms.is_multiple_of(1_000) {
            format!("{}s", ms / 1_000)
        } else {
            format!("{:.1}s", duration.as_secs_f64())
        }
    } else if ms < 3_600_000 {
        let secs = duration.as_secs();
        match secs % 60 {
            0 => format!("{}m", secs / 60),
            rest => format!("{}m{rest:02}s", secs / 60),
        }
    } else {
        let mins = duration.as_secs() / 60;
        match mins % 60 {
            0 => format!("{}h", mins / 60),
            rest => format!("{}h{rest:02}m", mins / 60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1m30s250ms"), Ok(Duration::from_millis(90_250)));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "", "10", "10 min", "1.5h", "s", "30s1m", "5s5s", "1d", "-1s",
        ] {
            assert!(parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn formats_for_people() {
        assert_eq!(human(Duration::from_millis(812)), "812ms");
        assert_eq!(human(Duration::from_millis(4_240)), "4.2s");
        assert_eq!(human(Duration::from_secs(185)), "3m05s");
        assert_eq!(human(Duration::from_secs(3720)), "1h02m");
        assert_eq!(human(Duration::from_secs(30)), "30s");
        assert_eq!(human(Duration::from_secs(600)), "10m");
    }
}
