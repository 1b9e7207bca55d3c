//! Questions put to the person at the terminal: the `confirm` steps, the re-run of a step that
//! is not idempotent, and what to do after a failure with `on_failure = "ask"`.

use std::io::ErrorKind;

use crate::engine::effects::{Answer, Prompter, Recovery};
use crate::sys::interrupt::Interrupt;

/// Asks on the terminal, or answers "no terminal" when there is none to ask on.
pub struct TerminalPrompter {
    /// Whether stdin and stderr are a terminal.
    pub interactive: bool,
    /// The run's interrupt: Ctrl-C at a question reaches shipbook as a key, not as a signal
    /// (the terminal is in raw mode), so the prompter raises it.
    pub interrupt: Interrupt,
}

impl TerminalPrompter {
    /// The answer that needs no question: no terminal, or a Ctrl-C that came as a signal just
    /// before the question (the prompt's raw mode, which reads Ctrl-C as a key, was not on yet).
    fn before_asking(&self) -> Option<Answer> {
        if !self.interactive {
            Some(Answer::NoTerminal)
        } else if self.interrupt.requested() {
            Some(Answer::Interrupted)
        } else {
            None
        }
    }

    /// The answer for a question that could not be asked to the end.
    fn unanswered(&self, error: &dialoguer::Error) -> Answer {
        let dialoguer::Error::IO(error) = error;
        if error.kind() == ErrorKind::Interrupted {
            self.interrupt.request();
            Answer::Interrupted
        } else {
            Answer::NoTerminal
        }
    }
}

impl Prompter for TerminalPrompter {
    fn can_ask(&self) -> bool {
        self.interactive
    }

    fn confirm(&mut self, prompt: &str) -> Answer {
        if let Some(answer) = self.before_asking() {
            return answer;
        }
        match dialoguer::Confirm::new()
            .with_prompt(prompt)
            .default(false)
            .interact_opt()
        {
            Ok(Some(true)) => Answer::Yes,
            Ok(_) => Answer::No,
            Err(error) => self.unanswered(&error),
        }
    }

    fn after_failure(&mut self, failed_step: &str, offer_rollback: bool) -> Recovery {
        if self.before_asking().is_some() {
            return Recovery::Stop;
        }
        let mut choices = vec![
            (
                Recovery::Undo,
                "Undo: run the undo of this step and of every completed one, newest first",
            ),
            (Recovery::Stop, "Stop: leave everything as it is"),
        ];
        if offer_rollback {
            choices.push((
                Recovery::Rollback,
                "Roll back: run the runbook's [rollback] procedure now",
            ));
        }
        match dialoguer::Select::new()
            .with_prompt(format!("Step `{failed_step}` failed. What now?"))
            .items(choices.iter().map(|(_, text)| *text))
            .default(1)
            .interact_opt()
        {
            Ok(Some(index)) => choices[index].0,
            Ok(None) => Recovery::Stop,
            Err(error) => {
                // Ctrl-C is recorded as the interruption it is; either way nothing more runs.
                self.unanswered(&error);
                Recovery::Stop
            }
        }
    }
}
