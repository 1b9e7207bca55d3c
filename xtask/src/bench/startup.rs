//! W1: how soon shipbook is ready: `check` of a 20-step runbook against `just --list` of 20
//! recipes, `run` of a one-step runbook against `just` running one recipe, and how many times
//! a one-step run waits for the disk (fsyncs, counted by strace).

use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::measure::{Job, alternate};
use super::report::{Row, Target, Unit};
use super::{
    Bench, CHECK_RUNBOOK, LIST_JUSTFILE, ONE_RECIPE_JUSTFILE, ONE_STEP_RUNBOOK, find_peer,
    find_tool, millis, ratios,
};

/// How many runs the fsync count is taken over.
const FSYNC_RUNS: usize = 20;

pub fn startup(bench: &mut Bench) -> Result<Vec<Row>, String> {
    let sizes = bench.sizes;
    let true_path = find_tool("true").unwrap_or_else(|| PathBuf::from("/bin/true"));
    let check = bench.shipbook("state-w1").arg("check").arg(CHECK_RUNBOOK);
    let run = bench
        .shipbook("state-w1")
        .args(["run", ONE_STEP_RUNBOOK, "--yes"]);
    let mut measures = vec![
        bench.measure("w1-check", check),
        bench.measure("w1-run", run),
        bench.measure("w1-true", Job::new(&true_path, &bench.repo)),
    ];
    let just = find_peer("just");
    if let Ok(just) = &just {
        let list = Job::new(just, &bench.repo).args(["--justfile", LIST_JUSTFILE, "--list"]);
        let one = Job::new(just, &bench.repo).args(["--justfile", ONE_RECIPE_JUSTFILE]);
        measures.push(bench.measure("w1-just-list", list));
        measures.push(bench.measure("w1-just-one", one));
    }
    let samples = alternate("start-up", sizes.warmup, sizes.fast_rounds, &mut measures)?;
    let mut rows = vec![Row::figure(
        "shipbook check, 20-step runbook",
        Unit::Millis,
        millis(&samples[0]),
        Target::Below(2.0),
    )];
    match &just {
        Ok(_) => rows.extend([
            Row::report(
                "just --list, 20-recipe justfile",
                Unit::Millis,
                millis(&samples[3]),
            ),
            Row::figure(
                "ratio shipbook check / just --list",
                Unit::Ratio,
                ratios(&samples[0], &samples[3]),
                Target::AtMost(1.0),
            ),
        ]),
        Err(reason) => rows.push(Row::Skipped {
            figure: "ratio shipbook check / just --list".into(),
            reason: reason.clone(),
        }),
    }
    rows.push(Row::report(
        "shipbook run, 1-step runbook, run = \"true\"",
        Unit::Millis,
        millis(&samples[1]),
    ));
    match &just {
        Ok(_) => rows.extend([
            Row::report(
                "just, one recipe of `true`",
                Unit::Millis,
                millis(&samples[4]),
            ),
            Row::figure(
                "ratio shipbook run / just",
                Unit::Ratio,
                ratios(&samples[1], &samples[4]),
                Target::AtMost(1.0),
            ),
        ]),
        Err(reason) => rows.push(Row::Skipped {
            figure: "ratio shipbook run / just".into(),
            reason: reason.clone(),
        }),
    }
    rows.push(Row::report(
        format!("reference: spawn and reap {}", true_path.display()),
        Unit::Millis,
        millis(&samples[2]),
    ));
    rows.push(fsyncs(bench));
    Ok(rows)
}

/// The fsyncs of one run of a one-step runbook, each run counted by `strace -f -c`, after a
/// first run that creates the state directory.
fn fsyncs(bench: &Bench) -> Row {
    let figure = format!("fsyncs per shipbook run of one step ({FSYNC_RUNS} runs, strace -c)");
    let Some(strace) = find_tool("strace") else {
        return Row::Skipped {
            figure,
            reason: "`strace` not found on PATH (apt-get install strace)".into(),
        };
    };
    let summary = bench.out.join("w1-strace.txt");
    let mut counts = Vec::new();
    for round in 0..=FSYNC_RUNS {
        let job = bench
            .shipbook("state-w1-fsync")
            .args(["run", ONE_STEP_RUNBOOK, "--yes"]);
        let status = Command::new(&strace)
            .args([
                "-f",
                "-c",
                "-e",
                "trace=fsync,fdatasync,sync_file_range,syncfs,sync",
            ])
            .arg("-o")
            .arg(&summary)
            .arg(&job.program)
            .args(&job.args)
            .current_dir(&job.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !status.is_ok_and(|status| status.success()) {
            return Row::Failed {
                figure,
                reason: format!("`strace … {}` failed", job.display()),
            };
        }
        let text = std::fs::read_to_string(&summary).unwrap_or_default();
        // The first run creates the database; the figure is what every later run costs.
        if round > 0 {
            counts.push(sync_calls(&text) as f64);
        }
    }
    Row::figure(figure, Unit::Count, counts, Target::AtMost(1.0))
}

/// The calls counted in a `strace -c` summary: the `calls` column of each syscall's line.
fn sync_calls(summary: &str) -> u64 {
    summary
        .lines()
        .filter_map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            let name = *columns.last()?;
            let syncing = matches!(
                name,
                "fsync" | "fdatasync" | "sync_file_range" | "syncfs" | "sync"
            );
            // `% time, seconds, usecs/call, calls, [errors,] syscall`.
            syncing
                .then(|| columns.get(3)?.parse::<u64>().ok())
                .flatten()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sync_calls_are_read_from_a_strace_summary() {
        let summary = "% time     seconds  usecs/call     calls    errors syscall\n\
             ------ ----------- ----------- --------- --------- ----------------\n\
             100.00    0.000434          86         5           fsync\n\
               0.00    0.000000           0         2           fdatasync\n\
             ------ ----------- ----------- --------- --------- ----------------\n\
             100.00    0.000434          86         7           total\n";
        assert_eq!(sync_calls(summary), 7);
        assert_eq!(sync_calls(""), 0);
    }
}
