//! `cargo xtask bench`: the performance targets of the README, measured on this machine.
//!
//! Every figure is a whole process of the release build of shipbook, timed from spawn to reap
//! (or, for the rollback, to the timestamp the rollback command writes), against a floor that
//! does the same work without shipbook, and against the tools a user would otherwise use where
//! they are installed. The commands of one workload run alternately (A B A B …) after a warm-up
//! round, so a drift of the machine touches all alike, and a ratio is the median of the ratios
//! of neighbours in time. It is a benchmark, not a test: nothing here asserts a time.

mod measure;
mod pty;
mod report;
mod startup;
mod steps;
mod team;
mod workloads;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use measure::{Job, Measure, Sample, alternate};
use report::{Row, Target, Unit};
use workloads::Form;

const USAGE: &str = "usage: cargo xtask bench [--quick] [--json FILE] [--keep]

Builds shipbook in release mode and measures the performance targets of the README.

  --quick      fewer rounds and smaller volumes (a minute instead of several)
  --json FILE  also write the results, with every sample, to FILE
  --keep       keep the temporary directory of workloads and print its path";

/// How many rounds, and how large the volumes.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    warmup: usize,
    /// Rounds of the short figures (start-up, history, rollback).
    fast_rounds: usize,
    steps_rounds: usize,
    memory_rounds: usize,
    output_rounds: usize,
    steps: usize,
    /// The large and the small output volume of the memory figure.
    big: u64,
    small: u64,
    /// The output volume of the time figure.
    output: u64,
    history: usize,
}

const FULL: Sizes = Sizes {
    warmup: 1,
    fast_rounds: 30,
    steps_rounds: 10,
    memory_rounds: 3,
    output_rounds: 10,
    steps: 1000,
    big: 1_000_000_000,
    small: 100_000_000,
    output: 200_000_000,
    history: 10_000,
};

const QUICK: Sizes = Sizes {
    warmup: 1,
    fast_rounds: 10,
    steps_rounds: 3,
    memory_rounds: 2,
    output_rounds: 4,
    steps: 1000,
    big: 100_000_000,
    small: 10_000_000,
    output: 50_000_000,
    history: 2_000,
};

#[derive(Debug)]
struct Options {
    quick: bool,
    json: Option<PathBuf>,
    keep: bool,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        quick: false,
        json: None,
        keep: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--keep" => options.keep = true,
            "--json" => {
                let file = args
                    .next()
                    .ok_or_else(|| format!("--json needs a file name\n\n{USAGE}"))?;
                options.json = Some(PathBuf::from(file));
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
        }
    }
    Ok(options)
}

/// `cargo xtask bench`.
pub fn run(args: &[String]) -> Result<(), String> {
    let options = parse_options(args)?;
    let sizes = if options.quick { QUICK } else { FULL };
    let workspace = workspace_root();
    let machine = Machine::detect(&workspace);

    eprintln!("bench: building shipbook in release mode");
    let built = build_shipbook(&workspace)?;
    let temp = tempfile::Builder::new()
        .prefix("shipbook-bench-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    // A copy, so that a build started elsewhere during the benchmark cannot swap the binary.
    let shipbook = temp.path().join("shipbook");
    fs::copy(&built, &shipbook).map_err(|e| {
        format!(
            "cannot copy {} to {}: {e}",
            built.display(),
            shipbook.display()
        )
    })?;
    let load_before = load_average();
    let mut bench = Bench::prepare(temp.path(), shipbook, sizes)?;
    eprintln!("bench: workloads in {}", temp.path().display());

    let sections: [(&str, Section); 6] = [
        ("W1 start-up", startup::startup),
        ("W2 per-step overhead", steps::per_step),
        ("W3 output volume", output),
        ("W4 history", history),
        ("W5 rollback latency", rollback),
        ("W6 team store (PostgreSQL on loopback)", team::team),
    ];
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for (name, section) in sections {
        eprintln!("bench: {name}");
        rows.push(Row::Heading(name.to_string()));
        match section(&mut bench) {
            Ok(more) => rows.extend(more),
            Err(error) => {
                eprintln!("bench: {name} failed: {error}");
                rows.push(Row::Failed {
                    figure: name.to_string(),
                    reason: error.lines().next().unwrap_or_default().to_string(),
                });
                failures.push(format!("{name}: {error}"));
            }
        }
    }

    let mode = if options.quick { "quick" } else { "full" };
    println!("shipbook bench ({mode} run)");
    println!(
        "machine:  {} CPUs, {}, Linux {}",
        machine.cpus, machine.cpu_model, machine.kernel
    );
    println!(
        "shipbook: {} ({}, release profile)",
        machine.commit,
        built.display()
    );
    let load_after = load_average();
    // The benchmark keeps about one process running; more than that is other work.
    let busy = [&load_before, &load_after].iter().any(|load| {
        load.parse::<f64>()
            .is_ok_and(|l| l > 1.0 + 0.5 * machine.cpus as f64)
    });
    println!(
        "load:     1-minute load average {load_before} before, {load_after} after (the \
         benchmark itself adds about 1){}",
        if busy {
            "; other work was running: times are inflated, ratios less so"
        } else {
            ""
        }
    );
    println!(
        "env:      the measured commands run without what `cargo run` added to the \
         environment (its LD_LIBRARY_PATH, CARGO_PKG_*)"
    );
    println!(
        "method:   whole processes, timed from spawn to reap; medians of the rounds after {} \
         warm-up round; the commands of a workload alternate (A B A B …) and a ratio is the \
         median of per-round ratios",
        sizes.warmup
    );
    println!();
    print!("{}", report::table(&rows));
    if !bench.notes.is_empty() {
        println!();
        println!("notes:");
        for note in &bench.notes {
            println!("  - {note}");
        }
    }

    if let Some(path) = &options.json {
        let value = serde_json::json!({
            "mode": mode,
            "machine": {
                "cpus": machine.cpus,
                "cpu_model": machine.cpu_model,
                "kernel": machine.kernel,
                "shipbook_commit": machine.commit,
            },
            "shipbook": built.display().to_string(),
            "load_average_before": load_before,
            "load_average_after": load_after,
            "sizes": {
                "warmup_rounds": sizes.warmup,
                "steps": sizes.steps,
                "output_bytes_big": sizes.big,
                "output_bytes_small": sizes.small,
                "output_bytes_timed": sizes.output,
                "history_runs": sizes.history,
            },
            "figures": report::json_rows(&rows),
            "notes": bench.notes,
            "failures": failures,
        });
        let text = serde_json::to_string_pretty(&value).expect("JSON values serialize");
        fs::write(path, text + "\n")
            .map_err(|e| format!("cannot write the results to {}: {e}", path.display()))?;
        eprintln!("bench: results written to {}", path.display());
    }
    if options.keep {
        let kept = temp.keep();
        eprintln!("bench: workloads kept in {}", kept.display());
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} workload(s) failed:\n{}",
            failures.len(),
            failures.join("\n")
        ))
    }
}

/// `xtask bench-floor COUNT PROGRAM [ARGS...]`: spawns the program COUNT times, one after
/// another, each waited for: the floor a runner of COUNT steps is compared with.
pub fn floor(args: &[String]) -> Result<(), String> {
    let usage = "usage: xtask bench-floor COUNT PROGRAM [ARGS...]";
    let count: usize = args
        .first()
        .and_then(|count| count.parse().ok())
        .ok_or_else(|| format!("bench-floor: COUNT must be a number\n{usage}"))?;
    let program = args
        .get(1)
        .ok_or_else(|| format!("bench-floor: PROGRAM is missing\n{usage}"))?;
    for index in 1..=count {
        let status = Command::new(program)
            .args(&args[2..])
            .status()
            .map_err(|e| format!("bench-floor: cannot start `{program}`: {e}"))?;
        if !status.success() {
            return Err(format!(
                "bench-floor: spawn {index} of {count}: `{}` failed ({status})",
                args[1..].join(" ")
            ));
        }
    }
    Ok(())
}

type Section = fn(&mut Bench) -> Result<Vec<Row>, String>;

/// The workloads on disk and what runs them.
struct Bench {
    shipbook: PathBuf,
    /// This program, for `bench-floor`.
    xtask: PathBuf,
    root: PathBuf,
    /// The git repository that holds the runbooks and the peers' files.
    repo: PathBuf,
    /// Where the floors write and the commands' stderr goes.
    out: PathBuf,
    sizes: Sizes,
    notes: Vec<String>,
}

const CHECK_RUNBOOK: &str = "check-20.toml";
const ONE_STEP_RUNBOOK: &str = "one-step.toml";
const SHELL_STEPS_RUNBOOK: &str = "steps-shell.toml";
const PLAIN_STEPS_RUNBOOK: &str = "steps-plain.toml";
const ARGV_STEPS_RUNBOOK: &str = "steps-argv.toml";
const INDEPENDENT_STEPS_RUNBOOK: &str = "steps-independent.toml";
const SLEEPING_STEPS_RUNBOOK: &str = "steps-sleeping.toml";
/// How many steps of `sleep 0.2` the figure of steps beside each other runs.
const SLEEPING_STEPS: usize = 10;
const ONE_RECIPE_JUSTFILE: &str = "one-recipe.just";
const LIST_JUSTFILE: &str = "recipes-20.just";
const BIG_OUTPUT_RUNBOOK: &str = "output-big.toml";
const SMALL_OUTPUT_RUNBOOK: &str = "output-small.toml";
const TIMED_OUTPUT_RUNBOOK: &str = "output-timed.toml";
const ROLLBACK_RUNBOOK: &str = "rollback.toml";

impl Bench {
    fn prepare(root: &Path, shipbook: PathBuf, sizes: Sizes) -> Result<Bench, String> {
        let xtask = std::env::current_exe()
            .map_err(|e| format!("cannot find the xtask program itself: {e}"))?;
        let repo = root.join("repo");
        let out = root.join("out");
        for dir in [&repo, &out] {
            fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let stamp = out.join("rollback.stamp");
        let files = [
            (CHECK_RUNBOOK, workloads::check_runbook(20)),
            (
                ONE_STEP_RUNBOOK,
                workloads::true_runbook("bench-one", 1, Form::PlainWords),
            ),
            (
                SHELL_STEPS_RUNBOOK,
                workloads::true_runbook("bench-steps", sizes.steps, Form::Shell),
            ),
            (
                PLAIN_STEPS_RUNBOOK,
                workloads::true_runbook("bench-steps-plain", sizes.steps, Form::PlainWords),
            ),
            (
                ARGV_STEPS_RUNBOOK,
                workloads::true_runbook("bench-steps-argv", sizes.steps, Form::Argv),
            ),
            (
                SLEEPING_STEPS_RUNBOOK,
                workloads::sleeping_runbook("bench-steps-sleeping", SLEEPING_STEPS, "0.2"),
            ),
            (
                INDEPENDENT_STEPS_RUNBOOK,
                workloads::true_runbook("bench-steps-independent", sizes.steps, Form::Independent),
            ),
            (
                BIG_OUTPUT_RUNBOOK,
                workloads::output_runbook("bench-output-big", sizes.big),
            ),
            (
                SMALL_OUTPUT_RUNBOOK,
                workloads::output_runbook("bench-output-small", sizes.small),
            ),
            (
                TIMED_OUTPUT_RUNBOOK,
                workloads::output_runbook("bench-output", sizes.output),
            ),
            (
                ROLLBACK_RUNBOOK,
                workloads::rollback_runbook("bench-rollback", &stamp),
            ),
            ("justfile", workloads::justfile(sizes.steps)),
            (ONE_RECIPE_JUSTFILE, workloads::justfile(1)),
            (LIST_JUSTFILE, workloads::justfile_of_recipes(20)),
            ("Taskfile.yml", workloads::taskfile(sizes.steps)),
            ("Makefile", workloads::makefile(sizes.steps)),
            ("steps.sh", workloads::shell_script(sizes.steps)),
        ];
        for (name, text) in files {
            let path = repo.join(name);
            fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        let mut notes = Vec::new();
        if let Err(error) = workloads::git_repo(&repo) {
            eprintln!("bench: {error}");
            notes.push(format!(
                "the runbooks run outside a git repository ({error}), so shipbook reads no \
                 git facts: its figures are a little flattering"
            ));
        }
        Ok(Bench {
            shipbook,
            xtask,
            root: root.to_path_buf(),
            repo,
            out,
            sizes,
            notes,
        })
    }

    /// shipbook with a state directory of its own under the temporary directory.
    fn shipbook(&self, state: &str) -> Job {
        Job::new(&self.shipbook, &self.repo)
            .arg("--state-dir")
            .arg(self.root.join(state))
    }

    /// A measure that runs `job`, its stderr kept under `name`.
    fn measure(&self, name: &str, job: Job) -> Measure<'static> {
        let stderr = self.out.join(format!("{name}.stderr"));
        Box::new(move || job.run(&stderr))
    }

    /// A measure that runs `job` and then removes `remove` (untimed): logs of gigabytes must not
    /// pile up, and a floor must not pay for truncating the file of the round before.
    fn measure_then_remove(&self, name: &str, job: Job, remove: PathBuf) -> Measure<'static> {
        let stderr = self.out.join(format!("{name}.stderr"));
        Box::new(move || {
            let sample = job.run(&stderr);
            remove_path(&remove)?;
            sample
        })
    }
}

fn remove_path(path: &Path) -> Result<(), String> {
    let result = if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    match result {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {error}", path.display()))
        }
        _ => Ok(()),
    }
}

fn millis(samples: &[Sample]) -> Vec<f64> {
    samples.iter().map(Sample::millis).collect()
}

/// The per-round ratios of two measures.
fn ratios(numerator: &[Sample], denominator: &[Sample]) -> Vec<f64> {
    numerator
        .iter()
        .zip(denominator)
        .map(|(a, b)| a.millis() / b.millis())
        .collect()
}

/// Sizes in bytes as people say them: 1 GB, 200 MB.
fn volume(bytes: u64) -> String {
    if bytes >= 1_000_000_000 && bytes.is_multiple_of(1_000_000_000) {
        format!("{} GB", bytes / 1_000_000_000)
    } else if bytes >= 1_000_000 {
        format!("{} MB", bytes / 1_000_000)
    } else {
        format!("{bytes} B")
    }
}

/// W3: peak memory with a large output, at two volumes; time of a medium output against the
/// same command writing to a file.
fn output(bench: &mut Bench) -> Result<Vec<Row>, String> {
    let sizes = bench.sizes;
    let logs = bench.root.join("state-w3").join("logs");
    let big = bench
        .shipbook("state-w3")
        .args(["run", BIG_OUTPUT_RUNBOOK, "--yes"]);
    let small = bench
        .shipbook("state-w3")
        .args(["run", SMALL_OUTPUT_RUNBOOK, "--yes"]);
    let mut measures = vec![
        bench.measure_then_remove("w3-big", big, logs.clone()),
        bench.measure_then_remove("w3-small", small, logs.clone()),
    ];
    let memory = alternate(
        "peak memory",
        sizes.warmup,
        sizes.memory_rounds,
        &mut measures,
    )?;
    let mib =
        |samples: &[Sample]| -> Vec<f64> { samples.iter().map(Sample::max_rss_mib).collect() };
    let growth: Vec<f64> = memory[0]
        .iter()
        .zip(&memory[1])
        .map(|(big, small)| big.max_rss_mib() - small.max_rss_mib())
        .collect();

    let file = bench.out.join("direct-output");
    let direct = Job::new("sh", &bench.repo).arg("-c").arg(format!(
        "{} > {}",
        workloads::output_command(sizes.output),
        file.display()
    ));
    let timed = bench
        .shipbook("state-w3")
        .args(["run", TIMED_OUTPUT_RUNBOOK, "--yes"]);
    let mut measures = vec![
        bench.measure_then_remove("w3-timed", timed, logs.clone()),
        bench.measure_then_remove("w3-direct", direct, file),
    ];
    let time = alternate(
        &format!("{} of output", volume(sizes.output)),
        sizes.warmup,
        sizes.output_rounds,
        &mut measures,
    )?;
    bench.notes.push(
        "W3 peak memory is ru_maxrss from wait4: the largest of shipbook and the processes it \
         waited for (sh, yes, head), not their sum"
            .to_string(),
    );
    Ok(vec![
        Row::figure(
            format!("peak memory, one step printing {}", volume(sizes.big)),
            Unit::MiB,
            mib(&memory[0]),
            Target::Below(20.0),
        ),
        Row::report(
            format!("peak memory, one step printing {}", volume(sizes.small)),
            Unit::MiB,
            mib(&memory[1]),
        ),
        Row::figure(
            format!(
                "growth from {} to {} (flat)",
                volume(sizes.small),
                volume(sizes.big)
            ),
            Unit::MiB,
            growth,
            Target::AtMost(1.0),
        ),
        Row::report(
            format!("shipbook run, one step printing {}", volume(sizes.big)),
            Unit::Millis,
            millis(&memory[0]),
        ),
        Row::report(
            format!("shipbook run, one step printing {}", volume(sizes.output)),
            Unit::Millis,
            millis(&time[0]),
        ),
        Row::report("the same command, > file", Unit::Millis, millis(&time[1])),
        Row::figure(
            "ratio shipbook / command > file",
            Unit::Ratio,
            ratios(&time[0], &time[1]),
            Target::AtMost(1.2),
        ),
    ])
}

/// W4: `history` and `show last` over a store of many runs.
fn history(bench: &mut Bench) -> Result<Vec<Row>, String> {
    let sizes = bench.sizes;
    let runs = sizes.history;
    eprintln!("  recording {runs} runs through shipbook::store");
    let took = workloads::fill_history(
        &bench.root.join("state-w4"),
        &shipbook::store::Backend::Local,
        runs,
    )?;
    bench.notes.push(format!(
        "W4: {} runs of 4 steps recorded through shipbook::store (insert_run, finish_run) \
         in {:.1} s",
        shipbook::text::words::grouped(runs),
        took.as_secs_f64()
    ));
    let list = bench
        .shipbook("state-w4")
        .args(["history", "--limit", "20"]);
    let show = bench.shipbook("state-w4").args(["show", "last"]);
    let mut measures = vec![
        bench.measure("w4-history", list),
        bench.measure("w4-show", show),
    ];
    let samples = alternate("history", sizes.warmup, sizes.fast_rounds, &mut measures)?;
    let count = shipbook::text::words::grouped(runs);
    Ok(vec![
        Row::figure(
            format!("shipbook history --limit 20, {count} runs"),
            Unit::Millis,
            millis(&samples[0]),
            Target::Below(100.0),
        ),
        Row::figure(
            format!("shipbook show last, {count} runs"),
            Unit::Millis,
            millis(&samples[1]),
            Target::Below(100.0),
        ),
    ])
}

/// A measure whose figure is the time from the spawn to the timestamp the command writes into
/// `stamp`, pushed onto `latencies` in milliseconds.
fn stamped<'a>(
    bench: &Bench,
    name: &str,
    job: Job,
    stamp: PathBuf,
    latencies: &'a mut Vec<f64>,
) -> Measure<'a> {
    let stderr = bench.out.join(format!("{name}.stderr"));
    let display = job.display();
    Box::new(move || {
        remove_path(&stamp)?;
        let sample = job.run(&stderr)?;
        let text = fs::read_to_string(&stamp)
            .map_err(|e| format!("`{display}` wrote no timestamp to {}: {e}", stamp.display()))?;
        let stamped: u128 = text.trim().parse().map_err(|_| {
            format!(
                "the timestamp in {} is not a number of nanoseconds: {:?}",
                stamp.display(),
                text.trim()
            )
        })?;
        let spawned = sample
            .spawned_at
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| format!("the clock is before 1970: {e}"))?
            .as_nanos();
        latencies.push((stamped as f64 - spawned as f64) / 1e6);
        Ok(sample)
    })
}

/// W5: from spawning `shipbook rollback` to the rollback command running.
fn rollback(bench: &mut Bench) -> Result<Vec<Row>, String> {
    let sizes = bench.sizes;
    let stamp = bench.out.join("rollback.stamp");
    let floor_stamp = bench.out.join("floor.stamp");
    let job = bench
        .shipbook("state-w5")
        .args(["rollback", ROLLBACK_RUNBOOK, "--yes"]);
    let floor = Job::new("sh", &bench.repo)
        .arg("-c")
        .arg(workloads::stamp_command(&floor_stamp));
    let mut latency = Vec::new();
    let mut floor_latency = Vec::new();
    let samples = {
        let mut measures = vec![
            stamped(bench, "w5-rollback", job, stamp, &mut latency),
            stamped(bench, "w5-floor", floor, floor_stamp, &mut floor_latency),
        ];
        alternate("rollback", sizes.warmup, sizes.fast_rounds, &mut measures)?
    };
    // The warm-up rounds pushed latencies too: keep the recorded rounds only.
    let recorded = |all: Vec<f64>| all[all.len().saturating_sub(sizes.fast_rounds)..].to_vec();
    Ok(vec![
        Row::figure(
            "shipbook rollback: spawn to rollback command's timestamp",
            Unit::Millis,
            recorded(latency),
            Target::Below(50.0),
        ),
        Row::report(
            "floor: spawn of `sh -c 'date …'` to its timestamp",
            Unit::Millis,
            recorded(floor_latency),
        ),
        Row::report(
            "shipbook rollback, whole process",
            Unit::Millis,
            millis(&samples[0]),
        ),
    ])
}

/// The 1-minute load average, as /proc/loadavg gives it.
fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string())
}

/// The directory of the workspace's Cargo.toml.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Builds the release binary and returns its path, as cargo reports it.
fn build_shipbook(workspace: &Path) -> Result<PathBuf, String> {
    let args = [
        "build",
        "--release",
        "--package",
        "shipbook",
        "--bin",
        "shipbook",
        "--message-format=json-render-diagnostics",
    ];
    eprintln!("$ cargo {}", args.join(" "));
    let output = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(workspace)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo {}` failed ({}); see its messages above",
            args.join(" "),
            output.status
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact" && message["target"]["name"] == "shipbook"
        })
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| {
            format!(
                "`cargo {}` succeeded but reported no shipbook executable",
                args.join(" ")
            )
        })
}

/// A program on PATH. A pyenv shim (how `pip install rust-just go-task-bin` installs them)
/// is resolved to the program it runs, so that pyenv's own start-up is not measured.
fn find_tool(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            fs::metadata(candidate)
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })?;
    if found.parent().is_some_and(|dir| dir.ends_with("shims"))
        && let Ok(output) = Command::new("pyenv")
            .args(["which", name])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
        && output.status.success()
    {
        let real = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if real.is_file() {
            return Some(real);
        }
    }
    Some(found)
}

/// A peer tool that is installed and answers `--version`.
fn find_peer(name: &str) -> Result<PathBuf, String> {
    let hint = match name {
        "just" => " (pip install rust-just)",
        "task" => " (pip install go-task-bin)",
        _ => "",
    };
    let path = find_tool(name).ok_or_else(|| format!("`{name}` not found on PATH{hint}"))?;
    let works = Command::new(&path)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if works {
        Ok(path)
    } else {
        Err(format!("`{} --version` failed", path.display()))
    }
}

/// The first line of `PROGRAM --version`.
fn version(program: &Path) -> String {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .and_then(|output| {
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .next()
                .map(|line| line.trim().to_string())
        })
        .filter(|line| !line.is_empty())
        .unwrap_or_else(|| "version unknown".to_string())
}

/// What the figures were measured on.
struct Machine {
    cpus: usize,
    cpu_model: String,
    kernel: String,
    commit: String,
}

impl Machine {
    fn detect(workspace: &Path) -> Machine {
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
        let cpu_model = fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split_once(':'))
                    .map(|(_, model)| model.trim().to_string())
            })
            .unwrap_or_else(|| "CPU model unknown (no model name in /proc/cpuinfo)".to_string());
        let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|release| release.trim().to_string())
            .unwrap_or_else(|_| "(kernel release unknown)".to_string());
        let git = |args: &[&str]| {
            Command::new("git")
                .args(args)
                .current_dir(workspace)
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .ok()
                .filter(|output| output.status.success())
                .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        };
        let commit = match git(&["rev-parse", "--short", "HEAD"]) {
            Some(sha) => match git(&["status", "--porcelain", "--untracked-files=no"]) {
                Some(status) if !status.is_empty() => format!("{sha} + uncommitted changes"),
                _ => sha,
            },
            None => "commit unknown".to_string(),
        };
        Machine {
            cpus,
            cpu_model,
            kernel,
            commit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_and_counts_read_as_people_say_them() {
        assert_eq!(volume(1_000_000_000), "1 GB");
        assert_eq!(volume(200_000_000), "200 MB");
        assert_eq!(shipbook::text::words::grouped(10_000), "10,000");
        assert_eq!(shipbook::text::words::grouped(999), "999");
    }

    #[test]
    fn a_missing_peer_is_a_reason_to_skip_not_an_error() {
        let reason = find_peer("shipbook-bench-no-such-tool").unwrap_err();
        assert!(reason.contains("not found on PATH"), "{reason}");
    }

    #[test]
    fn options_are_parsed_and_unknown_ones_refused() {
        let options = parse_options(&["--quick".into(), "--json".into(), "r.json".into()]).unwrap();
        assert!(options.quick);
        assert_eq!(options.json, Some(PathBuf::from("r.json")));
        assert!(
            parse_options(&["--fast".into()])
                .unwrap_err()
                .contains("--fast")
        );
        assert!(parse_options(&["--json".into()]).is_err());
    }
}
