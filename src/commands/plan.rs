//! `shipbook plan`: the resolved steps of a runbook for one environment; nothing runs.

use std::path::{Path, PathBuf};

use console::style;

use crate::cli::Selection;
use crate::error::Result;
use crate::mask::Masker;
use crate::plan::{Action, Plan, PlannedStep, Work};
use crate::runbook;
use crate::runbook::Mode;
use crate::text::duration::human;
use crate::text::words::plural;

pub fn plan(path: &Path, selection: &Selection, json: bool) -> Result<()> {
    let runbook = runbook::load(path)?;
    let plan = Plan::for_selection(
        &runbook,
        &selection.clone().into(),
        Mode::Run,
        None,
        "<run id>".into(),
        false,
    )?;
    let masker = Masker::new(&plan.secrets);
    if json {
        // Masked before encoding: a secret with a `"` or a `\` in it is escaped once encoded,
        // and would no longer be found.
        let text = masker.to_json_pretty(&plan).expect("a plan serializes");
        println!("{text}");
    } else {
        print!("{}", masker.text(&render(&plan)));
    }
    Ok(())
}

/// The plan as text for people.
pub fn render(plan: &Plan) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let env = plan
        .env
        .as_ref()
        .map(|e| format!(" in {}", style(e).bold()))
        .unwrap_or_else(|| " (no --env)".into());
    // Writing into a String cannot fail, so the results of `writeln!` are ignored.
    let _ = writeln!(
        out,
        "{} {}{env}: {}, on failure: {}",
        style("plan").bold(),
        style(&plan.runbook).bold(),
        plural(plan.steps.len(), "step"),
        plan.on_failure
    );
    if let (Some(required), Some(env)) = (&plan.requires_rehearsal, &plan.env) {
        let _ = writeln!(
            out,
            "       {}",
            style(format!(
                "`run` in {env} requires a succeeded rehearsal in {required} of this commit and runbook, rollback included (--skip-rehearsal REASON overrides)"
            ))
            .dim()
        );
    }
    let graph = !plan.is_chain();
    if graph {
        let _ = writeln!(
            out,
            "       {}",
            style(format!(
                "steps start as soon as what they need has succeeded, up to {} at once; after a failure no step starts, and those running {}",
                plan.jobs,
                match plan.fail_fast {
                    crate::runbook::FailFast::Wait => "finish",
                    crate::runbook::FailFast::Cancel => "are cancelled",
                }
            ))
            .dim()
        );
    }
    out.push_str(&render_metrics(plan));
    // A step's directory is shown only where it differs from the first step's, which is
    // where most runbooks run everything.
    let first_dir = plan.steps.first().map(|step| &step.dir);
    for (index, step) in plan.steps.iter().enumerate() {
        out.push_str(&render_step(index + 1, step, first_dir));
        if graph {
            let waits = if step.needs.is_empty() {
                "starts at once".to_string()
            } else {
                format!("after {}", step.needs.join(", "))
            };
            let _ = writeln!(out, "       {}", style(waits).cyan());
        }
    }
    if graph {
        out.push_str(&render_levels(plan));
    }
    if let Some(rollback) = &plan.rollback {
        let _ = writeln!(out, "{}", style("rollback").bold());
        if let Some(note) = &rollback.note {
            let _ = writeln!(out, "       {note}");
        }
        for line in rollback.commands().lines() {
            let _ = writeln!(out, "       run: {line}");
        }
    }
    out
}

/// The steps by level: those of one level wait for nothing of their own level and may run at
/// the same time.
fn render_levels(plan: &Plan) -> String {
    let needs: Vec<Vec<usize>> = plan
        .steps
        .iter()
        .map(|step| {
            step.needs
                .iter()
                .filter_map(|id| plan.steps.iter().position(|s| &s.id == id))
                .collect()
        })
        .collect();
    let levels = crate::runbook::graph::levels(&needs);
    let deepest = levels.iter().copied().max().unwrap_or(0);
    let mut out = format!(
        "{} {}\n",
        style("levels").bold(),
        style("(the steps of one line may run at the same time)").dim()
    );
    for level in 0..=deepest {
        let ids: Vec<&str> = plan
            .steps
            .iter()
            .zip(&levels)
            .filter(|(_, l)| **l == level)
            .map(|(step, _)| step.id.as_str())
            .collect();
        out.push_str(&format!("  {:>3}. {}\n", level + 1, ids.join(", ")));
    }
    out
}

/// The metrics, sampled before the first step and after the last: each command, the direction
/// that is better, and the guard and timeout when there are.
fn render_metrics(plan: &Plan) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if plan.metrics.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "{} {}",
        style("metrics").bold(),
        style("(sampled before the first step and after the last)").dim()
    );
    for metric in &plan.metrics {
        let _ = writeln!(out, "     {}", style(&metric.name).bold());
        let _ = writeln!(out, "       run: {}", metric.command.display);
        let mut facts = vec![format!("{} is better", metric.better)];
        if let Some(allowed) = metric.max_regression {
            facts.push(format!("guard: more than {allowed}% worse fails the run"));
        }
        if let Some(timeout) = metric.timeout {
            facts.push(format!("timeout {}", human(timeout)));
        }
        let _ = writeln!(out, "       {}", style(facts.join(" · ")).dim());
    }
    let _ = writeln!(out, "{}", style("steps").bold());
    out
}

/// One numbered step: its heading (or why it is skipped), description, action, settings,
/// environment and directory, each on its own indented line.
fn render_step(number: usize, step: &PlannedStep, first_dir: Option<&PathBuf>) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let heading = if step.name == step.id {
        style(&step.id).bold().to_string()
    } else {
        format!("{} {}", style(&step.id).bold(), step.name)
    };
    match &step.skip {
        Some(reason) => {
            let _ = writeln!(
                out,
                "{number:>3}. {heading} {}",
                style(format!("[skipped: {reason}]")).yellow()
            );
        }
        None => {
            let _ = writeln!(out, "{number:>3}. {heading}");
        }
    }
    if let Some(description) = &step.description {
        let _ = writeln!(out, "       {}", style(description).italic());
    }
    let action = match &step.action {
        Action::Work(Work::Run { command }) => format!("run: {}", command.display),
        other => other.describe(),
    };
    for (line_number, line) in action.lines().enumerate() {
        let lead = if line_number == 0 { "" } else { "  " };
        let _ = writeln!(out, "       {lead}{line}");
    }
    let facts = settings(step);
    if !facts.is_empty() {
        let _ = writeln!(out, "       {}", style(facts.join(" · ")).dim());
    }
    if !step.env.is_empty() {
        let env: Vec<String> = step.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            out,
            "       {}",
            style(format!("env: {}", env.join(" "))).dim()
        );
    }
    if first_dir.is_some_and(|dir| *dir != step.dir) {
        let _ = writeln!(
            out,
            "       {}",
            style(format!("dir: {}", step.dir.display())).dim()
        );
    }
    out
}

/// The settings of a step that change how it runs, in a few words each.
fn settings(step: &PlannedStep) -> Vec<String> {
    let mut facts = Vec::new();
    if let Some(timeout) = step.timeout {
        facts.push(format!("timeout {}", human(timeout)));
    }
    if step.retries > 0 {
        facts.push(format!(
            "retries {} (delay {}, doubling)",
            step.retries,
            human(step.retry_delay)
        ));
    }
    if step.continue_on_error {
        facts.push("continue on error".into());
    }
    if !step.idempotent {
        facts.push("not idempotent".into());
    }
    if let Some(undo) = &step.undo {
        facts.push(format!("undo: {}", undo.display));
    }
    facts
}
