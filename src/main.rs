//! shipbook: a release runbook executor.
//!
//! The pipeline is short: parse the command line, set up colour, dispatch to the command, and
//! turn any error into its message and exit code (the README's "Exit codes").

use clap::Parser;

use shipbook::cli::{Arguments, ColorChoice};
use shipbook::commands;
use shipbook::output::report;

fn main() {
    let arguments = Arguments::parse();
    // With `auto`, console already honours NO_COLOR, CLICOLOR and whether it is a terminal.
    let colors = match arguments.color {
        ColorChoice::Always => Some(true),
        ColorChoice::Never => Some(false),
        ColorChoice::Auto => None,
    };
    if let Some(enabled) = colors {
        console::set_colors_enabled(enabled);
        console::set_colors_enabled_stderr(enabled);
    }
    let code = match commands::dispatch(arguments) {
        Ok(()) => 0,
        Err(error) => {
            report::error(&error);
            error.code()
        }
    };
    std::process::exit(code);
}
