//! `shipbook history`, `show` and `note`: reading the record store.
//!
//! These commands only read, so they open the store only when it exists, and a store with no
//! runs is an empty history rather than an error.

use std::time::Duration;

use console::style;

use super::Globals;
use crate::cli::NoteFormat;
use crate::error::{Error, Result};
use crate::runbook::Mode;
use crate::store::record::{RunRecord, RunStatus, StepRecord, StepStatus};
use crate::store::{Backend, Store};
use crate::sys::state;
use crate::text::controls::escape_controls;
use crate::text::duration::human;
use crate::text::timestamp::Timestamp;

fn open(globals: &Globals) -> Result<Option<Box<dyn Store>>> {
    crate::store::open_existing(
        &state::for_current_dir(globals.state_dir.as_deref()),
        &globals.backend,
    )
}

fn load(query: &str, globals: &Globals) -> Result<RunRecord> {
    let Some(mut store) = open(globals)? else {
        return Err(Error::UnknownRun {
            query: query.to_string(),
        });
    };
    let run_id = store.resolve_run_id(query)?;
    store.load_run(&run_id)
}

fn status_style(status: RunStatus) -> console::StyledObject<&'static str> {
    match status {
        RunStatus::Succeeded => style(status.as_str()).green(),
        RunStatus::Running => style(status.as_str()).cyan(),
        _ => style(status.as_str()).red(),
    }
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).expect("records serialize")
}

pub fn history(
    runbook: Option<&str>,
    limit: usize,
    as_json: bool,
    globals: &Globals,
) -> Result<()> {
    let runs = match open(globals)? {
        Some(mut store) => store.list_runs(runbook, limit)?,
        None => Vec::new(),
    };
    if as_json {
        println!("{}", json(&runs));
        return Ok(());
    }
    if runs.is_empty() {
        let place = match &globals.backend {
            Backend::Local => state::for_current_dir(globals.state_dir.as_deref())
                .display()
                .to_string(),
            Backend::Team(target) => format!("the team store {}", target.display()),
        };
        match runbook {
            Some(name) => eprintln!("no runs of runbook `{name}` recorded in {place}"),
            None => eprintln!("no runs recorded yet in {place}"),
        }
        return Ok(());
    }
    println!(
        "{:<40} {:<11} {:<9} {:<12} {:>9}  STARTED",
        "RUN", "STATUS", "MODE", "ENV", "DURATION"
    );
    for run in &runs {
        let duration = run
            .duration_ms()
            .map(|ms| human(Duration::from_millis(ms)))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<40} {:<11} {:<9} {:<12} {:>9}  {}",
            run.run_id,
            status_style(run.status),
            run.mode,
            run.env.as_deref().unwrap_or("-"),
            duration,
            run.started_at
        );
    }
    if runbook.is_some() {
        let trends = trends(&runs);
        if !trends.is_empty() {
            println!();
        }
        for trend in trends {
            println!("{trend}");
        }
    }
    Ok(())
}

pub fn show(query: &str, as_json: bool, globals: &Globals) -> Result<()> {
    let run = load(query, globals)?;
    if as_json {
        println!("{}", json(&with_finish_times(&run)));
        return Ok(());
    }
    print_run_facts(&run);
    println!();
    print!("{}", timeline(&run));
    println!();
    // A run recorded in a team store may have run elsewhere: its logs are on that host.
    let elsewhere = (run.host != crate::sys::operator::hostname()).then_some(run.host.as_str());
    for step in &run.steps {
        print_step(step, elsewhere);
    }
    Ok(())
}

/// The record as JSON with each step's `finished_at` beside its `started_at` (the record keeps
/// the start and the duration), so that steps that ran beside each other show their overlap.
fn with_finish_times(run: &RunRecord) -> serde_json::Value {
    let mut value = serde_json::to_value(run).expect("records serialize");
    if let Some(steps) = value
        .get_mut("steps")
        .and_then(serde_json::Value::as_array_mut)
    {
        for (step, record) in steps.iter_mut().zip(&run.steps) {
            if let (Some(object), Some(finished)) = (step.as_object_mut(), record.finished_at()) {
                object.insert("finished_at".into(), finished.to_string().into());
            }
        }
    }
    value
}

/// The run's status and reason, then what it ran, where, by whom, from which commit and when.
fn print_run_facts(run: &RunRecord) {
    let duration = run
        .duration_ms()
        .map(|ms| format!(" in {}", human(Duration::from_millis(ms))))
        .unwrap_or_default();
    println!(
        "run {} {}{duration}",
        style(&run.run_id).bold(),
        status_style(run.status)
    );
    // Texts that may quote what a step printed are shown with control characters escaped.
    if let Some(reason) = &run.status_reason {
        println!("  {}", escape_controls(reason));
    }
    println!("  runbook   {} ({})", run.runbook, run.runbook_path);
    println!("  mode      {}", run.mode);
    println!("  env       {}", run.env.as_deref().unwrap_or("-"));
    println!("  operator  {}", run.operator);
    if let Some(reason) = &run.reason {
        println!("  reason    {}", escape_controls(reason));
    }
    if !run.git_sha.is_empty() {
        println!(
            "  commit    {} on {}{}",
            run.git_sha,
            if run.git_branch.is_empty() {
                "detached HEAD"
            } else {
                &run.git_branch
            },
            if run.git_dirty {
                " (uncommitted changes)"
            } else {
                ""
            }
        );
    }
    println!("  started   {}", run.started_at);
    if let Some(finished) = &run.finished_at {
        println!("  finished  {finished}");
    }
    if let Some(note) = &run.note {
        println!("  note      {note}");
    }
}

/// One step: a mark and its facts, its command, its detail, and, when the step did not
/// succeed, the last lines of its log and where the log is (on `elsewhere` when the run ran on
/// another host).
fn print_step(step: &StepRecord, elsewhere: Option<&str>) {
    let mark = match step.status {
        StepStatus::Succeeded => style("✓").green(),
        StepStatus::Skipped | StepStatus::Pending => style("-").dim(),
        StepStatus::Running => style("…").cyan(),
        _ => style("✗").red(),
    };
    let mut facts = vec![step.status.to_string()];
    if step.attempts > 1 {
        facts.push(format!("{} attempts", step.attempts));
    }
    if let Some(code) = step.exit_code {
        facts.push(format!("exit {code}"));
    }
    if let Some(ms) = step.duration_ms {
        facts.push(human(Duration::from_millis(ms)));
    }
    println!(
        "{mark} {} {}",
        style(&step.id).bold(),
        style(facts.join(", ")).dim()
    );
    println!("    {}", escape_controls(&step.command));
    if let Some(detail) = &step.detail {
        println!("    {}", style(escape_controls(detail)).dim());
    }
    if !step.samples.is_empty() {
        print_samples(step);
    }
    if step.status.is_success() {
        return;
    }
    // The log keeps what the step printed; shown here, its control characters are escaped.
    if let Some(tail) = step.log_tail.as_deref().filter(|t| !t.is_empty()) {
        for line in tail.lines() {
            println!("    {} {}", style("│").dim(), escape_controls(line));
        }
    }
    if let Some(log) = &step.log {
        match elsewhere {
            Some(host) => println!("    log: {log} (on {host})"),
            None => println!("    log: {log}"),
        }
    }
}

/// A watch's samples: a mark each (the newest 60), and the metric's series as a sparkline.
fn print_samples(step: &StepRecord) {
    let shown = &step.samples[step.samples.len().saturating_sub(60)..];
    let marks: String = shown
        .iter()
        .map(|s| if s.passed { '✓' } else { '✗' })
        .collect();
    let failed = step.samples.iter().filter(|s| !s.passed).count();
    println!(
        "    samples {marks} ({} taken, {failed} failed)",
        step.samples.len()
    );
    let values: Vec<f64> = shown.iter().filter_map(|s| s.value).collect();
    if let (Some(low), Some(high)) = (
        values.iter().copied().reduce(f64::min),
        values.iter().copied().reduce(f64::max),
    ) {
        println!(
            "    series  {} ({low} to {high})",
            crate::text::sparkline::of(&values)
        );
    }
}

/// Width of the longest timeline bar, in characters.
const BAR_WIDTH: usize = 40;

/// One bar per step, scaled to its duration, so that the slow step stands out at a glance.
/// Retries show as a mark per extra attempt.
fn timeline(run: &RunRecord) -> String {
    use std::fmt::Write as _;
    let ran: Vec<_> = run
        .steps
        .iter()
        .filter(|s| s.duration_ms.is_some())
        .collect();
    let longest = ran.iter().filter_map(|s| s.duration_ms).max().unwrap_or(0);
    if ran.is_empty() || longest == 0 {
        return String::new();
    }
    let width = ran.iter().map(|s| s.id.chars().count()).max().unwrap_or(0);
    let total: u64 = ran.iter().filter_map(|s| s.duration_ms).sum();
    // Steps that ran beside each other are drawn on one time axis, each bar where its step
    // began, so that the overlap shows; otherwise each bar is scaled to its step's duration.
    let axis = overlap_axis(&ran);
    let mut out = match &axis {
        Some((_, span)) => format!(
            "timeline ({} of steps in {}, steps beside each other)\n",
            human(Duration::from_millis(total)),
            human(Duration::from_millis(*span))
        ),
        None => format!(
            "timeline ({} of steps)\n",
            human(Duration::from_millis(total))
        ),
    };
    for step in ran {
        let ms = step.duration_ms.unwrap_or(0);
        let (offset, cells) = match (&axis, step.started_at) {
            (Some((first, span)), Some(started)) => {
                let scale = BAR_WIDTH as f64 / (*span).max(1) as f64;
                let since = started.millis_since(*first).max(0) as f64;
                let offset = ((since * scale).floor() as usize).min(BAR_WIDTH - 1);
                let cells = ((ms as f64 * scale).ceil() as usize).clamp(1, BAR_WIDTH - offset);
                (offset, cells)
            }
            _ => (
                0,
                ((ms as f64 / longest as f64) * BAR_WIDTH as f64).ceil() as usize,
            ),
        };
        let bar = format!("{}{}", " ".repeat(offset), "█".repeat(cells.max(1)));
        let cells = cells.max(1) + offset;
        let painted = match step.status {
            StepStatus::Succeeded => style(bar).green(),
            StepStatus::Skipped | StepStatus::Pending => style(bar).dim(),
            StepStatus::Undone => style(bar).yellow(),
            _ => style(bar).red(),
        };
        let retries = if step.attempts > 1 {
            format!(" {}", style(format!("↻×{}", step.attempts - 1)).yellow())
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  {:<width$}  {painted}{} {}{retries}",
            step.id,
            " ".repeat(BAR_WIDTH.saturating_sub(cells.max(1))),
            human(Duration::from_millis(ms)),
        );
    }
    out
}

/// When some steps of a run overlapped in time: the first start and the span from it to the
/// last end, in milliseconds, to draw the bars on.
fn overlap_axis(ran: &[&StepRecord]) -> Option<(Timestamp, u64)> {
    let mut spans: Vec<(Timestamp, Timestamp)> = ran
        .iter()
        .filter_map(|step| Some((step.started_at?, step.finished_at()?)))
        .collect();
    spans.sort();
    let mut latest_end: Option<Timestamp> = None;
    let mut overlapped = false;
    for (start, end) in &spans {
        overlapped |= latest_end.is_some_and(|latest| *start < latest);
        latest_end = Some(latest_end.map_or(*end, |latest| latest.max(*end)));
    }
    let first = spans.first()?.0;
    let span = latest_end?.millis_since(first).max(1) as u64;
    overlapped.then_some((first, span))
}

/// One trend of total durations for each mode and environment, the one with the newest run
/// first: a rehearsal in staging, a release to production and a rollback take different times,
/// and one line across them would show their mix rather than a change.
fn trends(runs: &[RunRecord]) -> Vec<String> {
    let mut kinds: Vec<(Mode, Option<&str>)> = Vec::new();
    for run in runs {
        let kind = (run.mode, run.env.as_deref());
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
        .into_iter()
        .filter_map(|(mode, env)| {
            let alike: Vec<&RunRecord> = runs
                .iter()
                .filter(|run| run.mode == mode && run.env.as_deref() == env)
                .collect();
            let place = env.map_or_else(|| "without --env".to_string(), |env| format!("in {env}"));
            trend(&alike, &format!("{mode} {place}"))
        })
        .collect()
}

/// The trend of the total durations of `runs` (newest first), oldest to newest, as a
/// sparkline; nothing for fewer than two.
fn trend(runs: &[&RunRecord], what: &str) -> Option<String> {
    const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let durations: Vec<u64> = runs
        .iter()
        .rev()
        .filter_map(|run| run.duration_ms())
        .collect();
    if durations.len() < 2 {
        return None;
    }
    let (low, high) = (
        *durations.iter().min().expect("not empty"),
        *durations.iter().max().expect("not empty"),
    );
    let spark: String = durations
        .iter()
        .map(|&d| {
            let level = if high == low {
                0
            } else {
                ((d - low) as f64 / (high - low) as f64 * 7.0).round() as usize
            };
            LEVELS[level]
        })
        .collect();
    let mut sorted = durations.clone();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2];
    let last = *durations.last().expect("not empty");
    Some(format!(
        "trend of total duration, {what}, oldest to newest: {spark}  (median {}, last {})",
        human(Duration::from_millis(median)),
        human(Duration::from_millis(last))
    ))
}

pub fn note(query: &str, format: NoteFormat, globals: &Globals) -> Result<()> {
    let run = load(query, globals)?;
    match format {
        NoteFormat::Md => print!("{}", crate::output::note::render(&run)),
        NoteFormat::Json => {
            let markdown = crate::output::note::render(&run);
            println!(
                "{}",
                json(&serde_json::json!({
                    "run": run,
                    "front_matter": crate::output::note::front_matter::object(&run),
                    "markdown": markdown,
                }))
            );
        }
    }
    Ok(())
}
