//! `shipbook schema`: prints the JSON Schema of the runbook format.

use std::io::Write as _;

use crate::error::{Error, Result};
use crate::runbook::schema::json;

/// Prints the schema on stdout.
pub fn print() -> Result<()> {
    std::io::stdout()
        .lock()
        .write_all(json().as_bytes())
        .map_err(|source| {
            Error::io(
                "cannot write the schema to standard output (nothing else was done; safe to retry)",
                source,
            )
        })
}
