//! `cargo xtask schema [--check]`: keeps `runbooks/schema.json` equal to what shipbook generates.
//!
//! The repository keeps the schema as a file so that editors find it through the `#:schema`
//! directive at the top of every bundled runbook, without running shipbook. A kept copy can go
//! stale when the runbook types change; `--check` (run by CI) fails then, and plain
//! `cargo xtask schema` rewrites it. The text comes from the library function that
//! `shipbook schema` prints, so the two are always identical.

use std::path::{Path, PathBuf};

/// Where the schema is kept, relative to the workspace root.
const SCHEMA_FILE: &str = "runbooks/schema.json";

pub fn run(args: &[String]) -> Result<(), String> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => {
            return Err(format!(
                "unexpected arguments {args:?}\nusage: cargo xtask schema [--check]"
            ));
        }
    };
    let path = workspace_root().join(SCHEMA_FILE);
    let generated = shipbook::runbook::schema::json();
    let kept = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
    };
    if check {
        return match kept {
            Some(text) if text == generated => {
                eprintln!("{SCHEMA_FILE} is up to date");
                Ok(())
            }
            Some(_) => Err(format!(
                "{SCHEMA_FILE} is stale: the runbook types changed since it was generated; \
                 run `cargo xtask schema` and commit the result"
            )),
            None => Err(format!(
                "{SCHEMA_FILE} is missing; run `cargo xtask schema` and commit the result"
            )),
        };
    }
    if kept.as_deref() == Some(generated.as_str()) {
        eprintln!("{SCHEMA_FILE} is already up to date");
        return Ok(());
    }
    std::fs::write(&path, generated)
        .map_err(|error| format!("cannot write {}: {error} (safe to retry)", path.display()))?;
    eprintln!("wrote {SCHEMA_FILE}");
    Ok(())
}

/// The workspace root: the parent of this crate's directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}
