//! The numbers of metrics: read from what a command printed, and shown to people.
//!
//! A metric command prints its value among other text ("p95=182.5ms"), and shipbook takes the
//! first number in it. Read naively, `1,234.5` is 1 and a guard compares the wrong value, which
//! is worse than no value at all. So a number is read whole: digits grouped by commas in
//! threes are read as the one number they are when nothing else can be meant (`1,234.5`,
//! `12,345,678`), and a comma that may group thousands or mark decimals (`1,234`, `1,5`,
//! `1.234,5`) is refused, naming what was printed, rather than guessed at. An exponent belongs
//! to its number (`1.5e3` is 1500).
//!
//! Shown to people (the terminal, the change note), a value is rounded to five significant
//! digits, never cutting its whole part, so that `0.1 + 0.2` reads `0.3` and a p95 of
//! `182.5333333` reads `182.53`; records and JSON keep the value as it was measured.

use std::fmt;

/// Why no number could be read from a command's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberProblem {
    /// The output holds no number at all.
    Missing,
    /// The first number has a comma that could mean two different values.
    Ambiguous(String),
}

impl fmt::Display for NumberProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberProblem::Missing => f.write_str("no number on stdout"),
            NumberProblem::Ambiguous(number) => write!(
                f,
                "ambiguous number `{number}` on stdout: its comma may group thousands or mark \
                 decimals; print the value without grouping, with `.` for decimals (such as \
                 1234.5)"
            ),
        }
    }
}

/// The first number in `text` ("p95=182.5ms" gives 182.5, "1,234.5 ms" 1234.5). Something
/// that only looks like a number (a version such as 1.2.3) is passed over.
pub fn first_number(text: &str) -> Result<f64, NumberProblem> {
    let bytes = text.as_bytes();
    let digit_at = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    let mut start = 0;
    while start < bytes.len() {
        let begins = digit_at(start)
            || (matches!(bytes[start], b'-' | b'.') && digit_at(start + 1))
            || (bytes[start] == b'-' && bytes.get(start + 1) == Some(&b'.') && digit_at(start + 2));
        // A digit right after a letter or digit is inside a word ("p95"), not a number's start.
        let inside_word = start > 0 && bytes[start - 1].is_ascii_alphanumeric();
        if !begins || inside_word {
            start += 1;
            continue;
        }
        let end = number_end(bytes, start);
        match read(&text[start..end]) {
            Reading::Value(value) => return Ok(value),
            Reading::Ambiguous => {
                return Err(NumberProblem::Ambiguous(text[start..end].to_string()));
            }
            Reading::NotANumber => start = end,
        }
    }
    Err(NumberProblem::Missing)
}

/// Where the number starting at `start` ends: digits, with `.` and `,` between digits, and an
/// exponent.
fn number_end(bytes: &[u8], start: usize) -> usize {
    let digit_at = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    let mut end = start + 1;
    while end < bytes.len() {
        match bytes[end] {
            b'0'..=b'9' => end += 1,
            b'.' | b',' if digit_at(end + 1) => end += 1,
            _ => break,
        }
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
        if digit_at(end + 1 + sign) {
            end += 1 + sign;
            while digit_at(end) {
                end += 1;
            }
        }
    }
    end
}

enum Reading {
    Value(f64),
    Ambiguous,
    NotANumber,
}

/// Reads one number as written, commas and all.
fn read(token: &str) -> Reading {
    if !token.contains(',') {
        return token
            .parse::<f64>()
            .map_or(Reading::NotANumber, Reading::Value);
    }
    let (mantissa, exponent) = match token.find(['e', 'E']) {
        Some(at) => token.split_at(at),
        None => (token, ""),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let unsigned = whole.trim_start_matches('-');
    let mut groups = unsigned.split(',');
    let first_group_ok = groups.next().is_some_and(|g| (1..=3).contains(&g.len()));
    let group_count = unsigned.matches(',').count();
    let grouped_in_threes = first_group_ok && groups.all(|g| g.len() == 3);
    let fraction_plain = fraction.is_none_or(|f| !f.contains([',', '.']));
    // One group of three and no decimals is 1234 in one locale and 1.234 in another.
    let unambiguous =
        grouped_in_threes && fraction_plain && (fraction.is_some() || group_count > 1);
    if !unambiguous {
        return Reading::Ambiguous;
    }
    format!("{}{exponent}", mantissa.replace(',', ""))
        .parse::<f64>()
        .map_or(Reading::Ambiguous, Reading::Value)
}

/// A measured value as people read it: five significant digits, never fewer than the whole
/// part, without trailing zeros ("182.53", "1234.6", "0.3", "0.012346").
pub fn display(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value == 0.0 {
        return "0".into();
    }
    const SIGNIFICANT: i32 = 5;
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (SIGNIFICANT - 1 - magnitude).clamp(0, 15) as usize;
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    if text == "-0" { "0".into() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ambiguous(text: &str) -> Result<f64, NumberProblem> {
        Err(NumberProblem::Ambiguous(text.into()))
    }

    #[test]
    fn the_first_number_is_read_whole() {
        assert_eq!(first_number("p95=182.5ms"), Ok(182.5));
        assert_eq!(first_number("took -3 s"), Ok(-3.0));
        assert_eq!(first_number(".5"), Ok(0.5));
        assert_eq!(first_number("1.5e3 requests"), Ok(1500.0));
        assert_eq!(first_number("2E-2"), Ok(0.02));
        assert_eq!(first_number("5 errors"), Ok(5.0));
        assert_eq!(first_number("version 1.2.3 p95 182"), Ok(182.0));
        assert_eq!(first_number("nothing"), Err(NumberProblem::Missing));
        assert_eq!(first_number("3."), Ok(3.0));
    }

    #[test]
    fn thousands_grouped_in_threes_are_read_when_nothing_else_can_be_meant() {
        assert_eq!(first_number("1,234.5 ms"), Ok(1234.5));
        assert_eq!(first_number("12,345,678"), Ok(12_345_678.0));
        assert_eq!(first_number("-1,234.5"), Ok(-1234.5));
        assert_eq!(first_number("total: 1,234, next"), ambiguous("1,234"));
        assert_eq!(first_number("1,5"), ambiguous("1,5"));
        assert_eq!(first_number("1.234,5"), ambiguous("1.234,5"));
        assert_eq!(first_number("3,4,5"), ambiguous("3,4,5"));
        assert_eq!(first_number("1,2345.0"), ambiguous("1,2345.0"));
        // A comma before a space separates numbers rather than grouping digits.
        assert_eq!(first_number("1, 2"), Ok(1.0));
    }

    #[test]
    fn values_are_shown_to_five_significant_digits() {
        assert_eq!(display(182.533_333), "182.53");
        assert_eq!(display(0.1 + 0.2), "0.3");
        assert_eq!(display(1234.567), "1234.6");
        assert_eq!(display(1234.5), "1234.5");
        assert_eq!(display(1_234_567.8), "1234568");
        assert_eq!(display(0.012_345_6), "0.012346");
        assert_eq!(display(12.0), "12");
        assert_eq!(display(-3.25), "-3.25");
        assert_eq!(display(0.0), "0");
        assert_eq!(display(0.000_000_001), "0.000000001");
        // Below fifteen decimals a value is shown as 0, without a sign.
        assert_eq!(display(-0.000_000_000_000_000_1), "0");
    }
}
