//! shipbook: a release runbook executor.
//!
//! The pipeline is short: parse the command line, set up colour, dispatch to the command, and
//! turn any error into its message and exit code (DESIGN.md section 2).

mod actions;
mod cli;
mod commands;
mod diagnostic;
mod duration;
mod error;
mod event;
mod executor;
mod git;
mod interrupt;
mod json_events;
mod mask;
mod note;
mod operator;
mod plan;
mod preconditions;
mod process;
mod record;
mod recorder;
mod report;
mod reporter;
mod run_id;
mod runbook;
mod state;
mod store;
mod template;
mod variables;

use clap::Parser;

use cli::{Arguments, ColorChoice};

fn main() {
    let arguments = Arguments::parse();
    match arguments.color {
        ColorChoice::Always => console::set_colors_enabled_stderr(true),
        ColorChoice::Never => console::set_colors_enabled_stderr(false),
        // console already honours NO_COLOR, CLICOLOR and whether stderr is a terminal.
        ColorChoice::Auto => {}
    }
    match arguments.color {
        ColorChoice::Always => console::set_colors_enabled(true),
        ColorChoice::Never => console::set_colors_enabled(false),
        ColorChoice::Auto => {}
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
