//! `shipbook plan`: the resolved steps of a runbook for one environment; nothing runs.

use std::path::Path;

use console::style;

use crate::cli::Selection;
use crate::error::Result;
use crate::mask::Masker;
use crate::plan::{Action, Plan, Work};
use crate::runbook;
use crate::runbook::Mode;
use crate::text::duration::human;

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
        let text = serde_json::to_string_pretty(&plan).expect("a plan serializes");
        println!("{}", masker.text(&text));
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
    let _ = writeln!(
        out,
        "{} {}{env}: {} step{}, on failure: {}",
        style("plan").bold(),
        style(&plan.runbook).bold(),
        plan.steps.len(),
        if plan.steps.len() == 1 { "" } else { "s" },
        plan.on_failure
    );
    for (index, step) in plan.steps.iter().enumerate() {
        let heading = if step.name == step.id {
            style(&step.id).bold().to_string()
        } else {
            format!("{} {}", style(&step.id).bold(), step.name)
        };
        match &step.skip {
            Some(reason) => {
                let _ = writeln!(
                    out,
                    "{:>3}. {heading} {}",
                    index + 1,
                    style(format!("[skipped: {reason}]")).yellow()
                );
            }
            None => {
                let _ = writeln!(out, "{:>3}. {heading}", index + 1);
            }
        }
        if let Some(description) = &step.description {
            let _ = writeln!(out, "       {}", style(description).italic());
        }
        let action = match &step.action {
            Action::Work(Work::Run { command }) => format!("run: {}", command.display),
            other => other.describe(),
        };
        for (number, line) in action.lines().enumerate() {
            let lead = if number == 0 { "" } else { "  " };
            let _ = writeln!(out, "       {lead}{line}");
        }
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
        if step.dir
            != plan
                .steps
                .first()
                .map_or(step.dir.clone(), |s| s.dir.clone())
        {
            let _ = writeln!(
                out,
                "       {}",
                style(format!("dir: {}", step.dir.display())).dim()
            );
        }
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
