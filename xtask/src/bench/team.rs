//! W6: the team store on PostgreSQL, on loopback, beside SQLite: the cost per step of recording
//! over the network, and `history` over many runs.
//!
//! The server is the one `SHIPBOOK_BENCH_POSTGRES` (else `SHIPBOOK_TEST_POSTGRES`) names, as
//! `.ci/test-postgres start` prints it; without one the section is skipped, saying how to start
//! one. The bench works in a schema of its own, dropped at the end.

use super::measure::{alternate, summarize};
use super::report::{Row, Target, Unit};
use super::{Bench, SHELL_STEPS_RUNBOOK, millis, workloads};

/// The schema the bench records into, dropped when it is done.
struct Schema {
    url: String,
    name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

pub(super) fn team(bench: &mut Bench) -> Result<Vec<Row>, String> {
    let Some(url) = ["SHIPBOOK_BENCH_POSTGRES", "SHIPBOOK_TEST_POSTGRES"]
        .iter()
        .find_map(|name| std::env::var(name).ok())
    else {
        return Ok(vec![Row::Skipped {
            figure: "team store".into(),
            reason: "no PostgreSQL server named: `eval \"$(.ci/test-postgres start)\"` first"
                .into(),
        }]);
    };
    let schema = Schema {
        url: url.clone(),
        name: format!("bench_{}", std::process::id()),
    };
    let sizes = bench.sizes;
    let steps = sizes.steps;
    let on_postgres = bench
        .shipbook("state-w6-postgres")
        .args(["--store", &url, "--store-schema", &schema.name])
        .args(["run", SHELL_STEPS_RUNBOOK, "--yes"]);
    let on_sqlite = bench
        .shipbook("state-w6-sqlite")
        .args(["run", SHELL_STEPS_RUNBOOK, "--yes"]);
    let mut measures = vec![
        bench.measure("w6-postgres", on_postgres),
        bench.measure("w6-sqlite", on_sqlite),
    ];
    let samples = alternate(
        &format!("{steps} steps, PostgreSQL and SQLite"),
        sizes.warmup,
        sizes.steps_rounds,
        &mut measures,
    )?;
    let above: Vec<f64> = samples[0]
        .iter()
        .zip(&samples[1])
        .map(|(postgres, sqlite)| (postgres.millis() - sqlite.millis()) / steps as f64)
        .collect();
    let mut rows = vec![
        Row::report(
            format!("shipbook run, {steps} steps, PostgreSQL store"),
            Unit::Millis,
            millis(&samples[0]),
        ),
        Row::report(
            format!("shipbook run, {steps} steps, SQLite store"),
            Unit::Millis,
            millis(&samples[1]),
        ),
        Row::figure(
            "per step, PostgreSQL above SQLite",
            Unit::Millis,
            above,
            Target::Below(1.0),
        ),
    ];

    let runs = sizes.history;
    eprintln!("  recording {runs} runs into PostgreSQL through shipbook::store");
    let backend = shipbook::store::Backend::choose(Some(&url), &schema.name)
        .map_err(|e| format!("cannot use {url}: {e}"))?;
    let took = workloads::fill_history(&bench.root.join("state-w6-history"), &backend, runs)?;
    bench.notes.push(format!(
        "W6: {} runs recorded into PostgreSQL through shipbook::store in {:.1} s",
        shipbook::text::words::grouped(runs),
        took.as_secs_f64()
    ));
    let history = bench
        .shipbook("state-w6-history")
        .args(["--store", &url, "--store-schema", &schema.name])
        .args(["history", "--limit", "20"]);
    let show = bench
        .shipbook("state-w6-history")
        .args(["--store", &url, "--store-schema", &schema.name])
        .args(["show", "last"]);
    let mut measures = vec![
        bench.measure("w6-history", history),
        bench.measure("w6-show", show),
    ];
    let samples = alternate(
        "history on PostgreSQL",
        sizes.warmup,
        sizes.fast_rounds,
        &mut measures,
    )?;
    let count = shipbook::text::words::grouped(runs);
    let history_ms = summarize(&millis(&samples[0])).median;
    rows.push(Row::figure(
        format!("shipbook history --limit 20, {count} runs, PostgreSQL"),
        Unit::Millis,
        millis(&samples[0]),
        Target::Below(100.0),
    ));
    rows.push(Row::report(
        format!("shipbook show last, {count} runs, PostgreSQL"),
        Unit::Millis,
        millis(&samples[1]),
    ));
    bench.notes.push(format!(
        "W6: history on PostgreSQL, median {history_ms:.1} ms"
    ));
    Ok(rows)
}
