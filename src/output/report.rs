//! How an error is shown to a person: the message, then what was expected and whether a retry
//! is safe. Runbook errors show each diagnostic with its `path:line:column` and caret.

use console::style;

use crate::error::Error;
use crate::text::words::plural;

pub fn error(error: &Error) {
    if let Error::Runbook { diagnostics, path } = error {
        for diagnostic in diagnostics {
            let rendered = diagnostic.render();
            let rendered = rendered
                .strip_prefix("error:")
                .map(|rest| format!("{}{rest}", style("error:").red().bold()))
                .unwrap_or(rendered);
            eprintln!("{rendered}");
        }
        eprintln!(
            "{} {} in {}",
            style("error:").red().bold(),
            plural(diagnostics.len(), "error"),
            path.display()
        );
    } else {
        eprintln!("{} {error}", style("error:").red().bold());
    }
    for line in error.advice() {
        eprintln!("  {}", style(line).dim());
    }
}
