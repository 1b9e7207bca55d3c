//! `cargo xtask man`: the manual pages of shipbook, generated into `target/man/`.
//!
//! Packagers install man pages; generating them from the clap definition that parses the
//! command line keeps them true to the binary, flag for flag. `shipbook.1` covers the command
//! and lists the subcommands, and `shipbook-<subcommand>.1` describes each one. They are build
//! output, not kept in the repository.

use std::path::PathBuf;

use clap::CommandFactory;

pub fn run(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err(format!(
            "unexpected arguments {args:?}\nusage: cargo xtask man"
        ));
    }
    let out_dir = target_dir().join("man");
    std::fs::create_dir_all(&out_dir)
        .map_err(|error| format!("cannot create {}: {error}", out_dir.display()))?;
    clap_mangen::generate_to(shipbook::cli::Arguments::command(), &out_dir).map_err(|error| {
        format!(
            "cannot write the man pages into {}: {error} (safe to retry)",
            out_dir.display()
        )
    })?;
    eprintln!("wrote {}", out_dir.join("shipbook.1").display());
    Ok(())
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set, else `target/` in the workspace.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => crate::schema::workspace_root().join("target"),
    }
}
