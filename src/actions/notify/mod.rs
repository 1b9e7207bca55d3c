//! Notifications: telling the team about a run where it already talks, without ever holding
//! the run up.
//!
//! A notification is a webhook POST (a Slack or Teams incoming webhook, or any endpoint taking
//! the event as JSON) or a command that reads the event as JSON on stdin (a pager script). It
//! has a budget, its `timeout` (5 seconds by default): within it, a failed attempt is retried
//! after a short pause, up to three attempts, and when the budget is spent the notification is
//! given up. A failure is returned as one line for the run's warnings; it never fails the run.

pub mod spec;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use spec::NotifyFormat;
use ureq::Agent;

/// The most attempts one notification makes within its budget.
const ATTEMPTS: u32 = 3;

/// The pause between two attempts.
const PAUSE: Duration = Duration::from_millis(200);

/// Sends `event` to a webhook, within `timeout`, retries included.
pub fn post(
    url: &str,
    format: NotifyFormat,
    event: &Value,
    timeout: Duration,
) -> Result<(), String> {
    let body = serde_json::to_vec(&body(format, event)).map_err(|error| error.to_string())?;
    let deadline = Instant::now() + timeout;
    let agent: Agent = Agent::config_builder()
        .http_status_as_error(false)
        .user_agent(concat!("shipbook/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    attempts(deadline, |left| {
        let response = agent
            .post(url)
            .config()
            .timeout_global(Some(left))
            .build()
            .content_type("application/json")
            .send(&body[..])
            .map_err(|error| error.to_string())?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(format!("the webhook answered {status}"))
        }
    })
}

/// Runs `argv` with `event` as JSON on stdin, within `timeout`, retries included. A command that
/// outlives its budget is killed with its process group.
pub fn run(
    argv: &[String],
    dir: &std::path::Path,
    event: &Value,
    timeout: Duration,
) -> Result<(), String> {
    let input = serde_json::to_vec(event).map_err(|error| error.to_string())?;
    let deadline = Instant::now() + timeout;
    attempts(deadline, |left| run_once(argv, dir, &input, left))
}

fn run_once(
    argv: &[String],
    dir: &std::path::Path,
    input: &[u8],
    left: Duration,
) -> Result<(), String> {
    use std::os::unix::process::CommandExt as _;
    let (program, args) = argv.split_first().ok_or("no command")?;
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|error| format!("cannot start `{program}`: {error}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input is its own business.
        let _ = stdin.write_all(input);
    }
    let deadline = Instant::now() + left;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                return Err(match status.code() {
                    Some(code) => format!("the command exited with {code}"),
                    None => "the command was killed by a signal".into(),
                });
            }
            Ok(None) if Instant::now() >= deadline => {
                if let Some(group) = rustix::process::Pid::from_raw(child.id() as i32) {
                    let _ =
                        rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
                }
                let _ = child.wait();
                return Err("the command ran out of time".into());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(error) => return Err(format!("cannot wait for the command: {error}")),
        }
    }
}

/// Tries `attempt` with the time left until `deadline`, pausing between tries, until it works,
/// the attempts run out, or the time does. Returns the last failure.
fn attempts(
    deadline: Instant,
    mut attempt: impl FnMut(Duration) -> Result<(), String>,
) -> Result<(), String> {
    let mut last = String::from("no time to try");
    for number in 1..=ATTEMPTS {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match attempt(left) {
            Ok(()) => return Ok(()),
            Err(why) => last = format!("{why} (attempt {number} of {ATTEMPTS})"),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if number < ATTEMPTS && left > PAUSE {
            std::thread::sleep(PAUSE);
        }
    }
    Err(last)
}

/// A webhook's body for `event` in `format`.
pub fn body(format: NotifyFormat, event: &Value) -> Value {
    match format {
        NotifyFormat::Json => event.clone(),
        NotifyFormat::Slack => json!({ "text": summary(event) }),
        NotifyFormat::Teams => json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": summary(event),
            "text": summary(event),
        }),
    }
}

/// The event in a few lines for people.
pub fn summary(event: &Value) -> String {
    let text = |key: &str| event.get(key).and_then(Value::as_str).unwrap_or("");
    let env = match text("env") {
        "" => String::new(),
        env => format!(" in {env}"),
    };
    let mut lines = vec![format!(
        "shipbook: {} of `{}`{env} {} ({}, run {})",
        text("mode"),
        text("runbook"),
        text("event").replace('_', " "),
        text("operator"),
        text("run_id")
    )];
    for (key, label) in [
        ("reason", "why"),
        ("step", "step"),
        ("log_tail", "last lines"),
        ("rollback_command", "rollback"),
        ("note", "note"),
    ] {
        let value = text(key);
        if !value.is_empty() {
            lines.push(format!("{label}: {value}"));
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_and_teams_get_a_text_and_json_the_event() {
        let event = json!({
            "event": "rolled_back", "mode": "run", "runbook": "web", "env": "production",
            "operator": "ann@host", "run_id": "r1", "step": "bake",
        });
        let slack = body(NotifyFormat::Slack, &event);
        let text = slack["text"].as_str().unwrap();
        assert!(
            text.starts_with("shipbook: run of `web` in production rolled back (ann@host, run r1)"),
            "{text}"
        );
        assert!(text.contains("step: bake"));
        assert_eq!(body(NotifyFormat::Teams, &event)["@type"], "MessageCard");
        assert_eq!(body(NotifyFormat::Json, &event), event);
    }

    #[test]
    fn a_command_that_outlives_its_budget_is_given_up() {
        let result = run(
            &["sh".into(), "-c".into(), "sleep 30".into()],
            std::path::Path::new("."),
            &json!({}),
            Duration::from_millis(300),
        );
        let why = result.unwrap_err();
        assert!(why.starts_with("the command ran out of time"), "{why}");
    }
}
