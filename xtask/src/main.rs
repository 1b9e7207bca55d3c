//! Project tasks that are not a plain cargo command: `cargo xtask ci` runs what CI runs.
//!
//! Run through the `.cargo/config.toml` alias, so the only tool needed is cargo itself.

mod bench;
mod layers;
mod man;
mod schema;

use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask TASK

  ci              cargo fmt --check, clippy with warnings denied, schema --check, cargo test
  bench           build shipbook in release mode and measure the README's performance targets
                  (--quick, --json FILE, --keep)
  schema          write runbooks/schema.json; --check fails when it is stale
  layers          check that every import follows the layering of ARCHITECTURE.md
  man             write the man pages into target/man/";

fn main() -> ExitCode {
    let task = std::env::args().nth(1);
    let result = match task.as_deref() {
        Some("ci") => ci(),
        Some("bench") => bench::run(&std::env::args().skip(2).collect::<Vec<_>>()),
        Some("bench-floor") => bench::floor(&std::env::args().skip(2).collect::<Vec<_>>()),
        Some("schema") => schema::run(&std::env::args().skip(2).collect::<Vec<_>>()),
        Some("layers") => layers::run(&std::env::args().skip(2).collect::<Vec<_>>()),
        Some("man") => man::run(&std::env::args().skip(2).collect::<Vec<_>>()),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn cargo(args: &[&str]) -> Result<(), String> {
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(env!("CARGO"))
        .args(args)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed", args.join(" ")))
    }
}

fn ci() -> Result<(), String> {
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    schema::run(&["--check".to_string()])?;
    layers::run(&[])?;
    cargo(&["test", "--workspace"])
}
