//! The results: rows of figures, printed as a table and written as JSON.

use serde_json::{Value, json};

use super::measure::{Summary, summarize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Millis,
    Micros,
    Ratio,
    MiB,
    /// How many times something happened (system calls).
    Count,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Millis => "ms",
            Unit::Micros => "us",
            Unit::Ratio => "ratio",
            Unit::MiB => "MiB",
            Unit::Count => "count",
        }
    }

    fn format(self, value: f64) -> String {
        if !value.is_finite() {
            return "-".to_string();
        }
        match self {
            Unit::Millis if value.abs() < 10.0 => format!("{value:.2}"),
            Unit::Millis if value.abs() < 100.0 => format!("{value:.1}"),
            Unit::Millis | Unit::Micros => format!("{value:.0}"),
            Unit::Ratio => format!("{value:.2}"),
            Unit::MiB | Unit::Count => format!("{value:.1}"),
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Unit::Millis => " ms",
            Unit::Micros => " µs",
            Unit::Ratio => "x",
            Unit::MiB => " MiB",
            Unit::Count => "",
        }
    }
}

/// What a figure must be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Reported, with no target.
    Report,
    /// The median must be below this.
    Below(f64),
    /// The median must be at most this.
    AtMost(f64),
}

#[derive(Debug, Clone)]
pub enum Row {
    /// A workload's heading.
    Heading(String),
    Figure {
        figure: String,
        unit: Unit,
        samples: Vec<f64>,
        target: Target,
    },
    /// A figure that was not measured because a tool is missing, and why.
    Skipped { figure: String, reason: String },
    /// A workload that failed, and how.
    Failed { figure: String, reason: String },
}

impl Row {
    pub fn figure(figure: impl Into<String>, unit: Unit, samples: Vec<f64>, target: Target) -> Row {
        Row::Figure {
            figure: figure.into(),
            unit,
            samples,
            target,
        }
    }

    pub fn report(figure: impl Into<String>, unit: Unit, samples: Vec<f64>) -> Row {
        Row::figure(figure, unit, samples, Target::Report)
    }

    /// Whether the target is met: `None` for a row without one.
    pub fn met(&self) -> Option<bool> {
        let Row::Figure {
            samples, target, ..
        } = self
        else {
            return None;
        };
        let median = summarize(samples).median;
        match *target {
            Target::Report => None,
            Target::Below(limit) => Some(median < limit),
            Target::AtMost(limit) => Some(median <= limit),
        }
    }
}

/// Renders the rows as a table of five columns: figure, median, min–max, target, met.
pub fn table(rows: &[Row]) -> String {
    let mut lines: Vec<[String; 5]> = vec![[
        "figure".into(),
        "median".into(),
        "min–max".into(),
        "target".into(),
        "met".into(),
    ]];
    let mut headings = Vec::new();
    for row in rows {
        match row {
            Row::Heading(text) => headings.push((lines.len(), text.clone())),
            Row::Figure {
                figure,
                unit,
                samples,
                target,
            } => {
                let Summary { median, min, max } = summarize(samples);
                let target_text = match *target {
                    Target::Report => "-".to_string(),
                    Target::Below(limit) => format!("< {limit}{}", unit.suffix()),
                    Target::AtMost(limit) => {
                        format!("<= {limit}{}", unit.suffix())
                    }
                };
                let met = match row.met() {
                    None => "-",
                    Some(true) => "yes",
                    Some(false) => "NO",
                };
                let range = if samples.len() > 1 {
                    format!("{}–{}{}", unit.format(min), unit.format(max), unit.suffix())
                } else {
                    String::new()
                };
                lines.push([
                    format!("  {figure}"),
                    format!("{}{}", unit.format(median), unit.suffix()),
                    range,
                    target_text,
                    met.to_string(),
                ]);
            }
            Row::Skipped { figure, reason } => lines.push([
                format!("  {figure}"),
                "skipped".into(),
                reason.clone(),
                String::new(),
                String::new(),
            ]),
            Row::Failed { figure, reason } => lines.push([
                format!("  {figure}"),
                "FAILED".into(),
                reason.clone(),
                String::new(),
                String::new(),
            ]),
        }
    }
    let width = |column: usize| {
        lines
            .iter()
            .filter(|line| column != 2 || !is_note(line))
            .map(|line| line[column].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2), width(3)];
    let mut out = String::new();
    let mut next_heading = headings.iter().peekable();
    for (index, line) in lines.iter().enumerate() {
        while let Some((_, heading)) = next_heading.next_if(|(at, _)| *at == index) {
            out.push_str(heading);
            out.push('\n');
        }
        let mut text = String::new();
        text.push_str(&pad(&line[0], widths[0]));
        text.push_str("  ");
        if is_note(line) {
            text.push_str(&line[1]);
            text.push_str(": ");
            text.push_str(&line[2]);
        } else {
            text.push_str(&pad_left(&line[1], widths[1]));
            text.push_str("  ");
            text.push_str(&pad(&line[2], widths[2]));
            text.push_str("  ");
            text.push_str(&pad(&line[3], widths[3]));
            text.push_str("  ");
            text.push_str(&line[4]);
        }
        out.push_str(text.trim_end());
        out.push('\n');
        if index == 0 {
            let total: usize = widths.iter().sum::<usize>() + 8 + 3;
            out.push_str(&"-".repeat(total));
            out.push('\n');
        }
    }
    for (_, heading) in next_heading {
        out.push_str(heading);
        out.push('\n');
    }
    out
}

/// Whether a line is a skipped or failed figure, whose reason runs across the columns.
fn is_note(line: &[String; 5]) -> bool {
    line[1] == "skipped" || line[1] == "FAILED"
}

fn pad(text: &str, width: usize) -> String {
    let count = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(count)))
}

fn pad_left(text: &str, width: usize) -> String {
    let count = text.chars().count();
    format!("{}{text}", " ".repeat(width.saturating_sub(count)))
}

/// The rows as JSON values, each with its group (the heading above it).
pub fn json_rows(rows: &[Row]) -> Vec<Value> {
    let mut group = String::new();
    let mut values = Vec::new();
    for row in rows {
        match row {
            Row::Heading(text) => group = text.clone(),
            Row::Figure {
                figure,
                unit,
                samples,
                target,
            } => {
                let summary = summarize(samples);
                let finite = |x: f64| if x.is_finite() { json!(x) } else { Value::Null };
                let target = match *target {
                    Target::Report => Value::Null,
                    Target::Below(limit) => json!({ "below": limit }),
                    Target::AtMost(limit) => json!({ "at_most": limit }),
                };
                values.push(json!({
                    "group": group,
                    "figure": figure,
                    "unit": unit.name(),
                    "median": finite(summary.median),
                    "min": finite(summary.min),
                    "max": finite(summary.max),
                    "samples": samples.iter().map(|&x| finite(x)).collect::<Vec<_>>(),
                    "target": target,
                    "met": row.met(),
                }));
            }
            Row::Skipped { figure, reason } => values.push(json!({
                "group": group,
                "figure": figure,
                "skipped": reason,
            })),
            Row::Failed { figure, reason } => values.push(json!({
                "group": group,
                "figure": figure,
                "failed": reason,
            })),
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_shows_median_range_target_and_verdict() {
        let rows = vec![
            Row::Heading("W1 start-up".into()),
            Row::figure(
                "check",
                Unit::Millis,
                vec![3.0, 4.0, 6.0],
                Target::Below(5.0),
            ),
            Row::figure(
                "ratio",
                Unit::Ratio,
                vec![1.3, 1.25, 1.4],
                Target::AtMost(1.2),
            ),
            Row::Skipped {
                figure: "just".into(),
                reason: "not installed".into(),
            },
        ];
        let table = table(&rows);
        assert!(table.contains("W1 start-up\n"), "{table}");
        assert!(
            table.contains("4.00 ms  3.00–6.00 ms  < 5 ms   yes"),
            "{table}"
        );
        assert!(
            table.contains("1.30x  1.25–1.40x    <= 1.2x  NO"),
            "{table}"
        );
        assert!(table.contains("NO"), "{table}");
        assert!(table.contains("skipped: not installed"), "{table}");
    }
}
