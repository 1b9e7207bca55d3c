//! How an error is shown to a person: the message, then what was expected and whether a retry
//! is safe. Runbook errors show each diagnostic with its `path:line:column` and caret.

use console::style;

use crate::error::{Error, errors_counted};
use crate::text::words::grouped;

pub fn error(error: &Error) {
    if let Error::Runbook {
        diagnostics,
        path,
        total,
    } = error
    {
        for diagnostic in diagnostics {
            let rendered = diagnostic.render();
            let rendered = rendered
                .strip_prefix("error:")
                .map(|rest| format!("{}{rest}", style("error:").red().bold()))
                .unwrap_or(rendered);
            eprintln!("{rendered}");
        }
        let not_shown = total.saturating_sub(diagnostics.len());
        let more = if not_shown > 0 {
            format!(
                " ({} shown above, and {} more)",
                diagnostics.len(),
                grouped(not_shown)
            )
        } else {
            String::new()
        };
        eprintln!(
            "{} {} in {}{more}",
            style("error:").red().bold(),
            errors_counted(*total),
            path.display()
        );
    } else {
        eprintln!("{} {error}", style("error:").red().bold());
    }
    for line in error.advice() {
        eprintln!("  {}", style(line).dim());
    }
}
