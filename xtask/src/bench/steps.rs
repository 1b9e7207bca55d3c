//! W2: what shipbook adds to each step. 1000 steps of `true`, recorded and captured, against a
//! loop that only spawns and waits: through the shell (`shell_always`, against `sh -c true`),
//! at a terminal (a pseudo-terminal, the live line drawing), and as plain words that shipbook
//! runs without the shell (against `/usr/bin/true`); and the peers a release engineer would
//! otherwise use.

use std::path::PathBuf;

use super::measure::{Job, Measure, Sample, alternate, summarize};
use super::report::{Row, Target, Unit};
use super::{
    ARGV_STEPS_RUNBOOK, Bench, INDEPENDENT_STEPS_RUNBOOK, PLAIN_STEPS_RUNBOOK, SHELL_STEPS_RUNBOOK,
    SLEEPING_STEPS, SLEEPING_STEPS_RUNBOOK, find_peer, find_tool, millis, pty, ratios, version,
};

/// A peer tool and how it runs the same steps.
struct Peer {
    name: &'static str,
    /// Whether shipbook's plain-word steps must be faster per step than this peer's.
    target: bool,
    job: Result<Job, String>,
}

/// Per-step overhead in microseconds: the difference of two runs of `steps` steps.
fn overhead(runner: &[Sample], floor: &[Sample], steps: usize) -> Vec<f64> {
    runner
        .iter()
        .zip(floor)
        .map(|(a, b)| (a.millis() - b.millis()) * 1e3 / steps as f64)
        .collect()
}

pub fn per_step(bench: &mut Bench) -> Result<Vec<Row>, String> {
    let sizes = bench.sizes;
    let steps = sizes.steps;
    let true_path = find_tool("true").unwrap_or_else(|| PathBuf::from("/usr/bin/true"));
    let run = |runbook: &str| bench.shipbook("state-w2").args(["run", runbook, "--yes"]);
    let with_jobs = |jobs: &str| {
        bench
            .shipbook("state-w2")
            .args(["run", INDEPENDENT_STEPS_RUNBOOK, "--yes", "--jobs", jobs])
    };
    let floor = |program: &[String]| {
        Job::new(&bench.xtask, &bench.repo)
            .arg("bench-floor")
            .arg(steps.to_string())
            .args(program)
    };
    let shell_floor = floor(&["sh".into(), "-c".into(), "true".into()]);
    let true_floor = floor(&[true_path.display().to_string()]);
    let transcript = bench.out.join("w2-pty.transcript");
    let at_terminal = run(SHELL_STEPS_RUNBOOK);
    let pty_measure: Measure<'static> =
        Box::new(move || pty::run_in_pty(&at_terminal, &transcript));
    let mut measures = vec![
        bench.measure("w2-shell", run(SHELL_STEPS_RUNBOOK)),
        bench.measure("w2-floor-sh", shell_floor),
        pty_measure,
        bench.measure("w2-plain", run(PLAIN_STEPS_RUNBOOK)),
        bench.measure("w2-floor-true", true_floor),
        bench.measure("w2-argv", run(ARGV_STEPS_RUNBOOK)),
        bench.measure("w2-independent-jobs-1", with_jobs("1")),
        bench.measure("w2-independent-jobs-2", with_jobs("2")),
    ];
    let peers = peers(bench);
    for peer in &peers {
        match &peer.job {
            Ok(job) => {
                bench.notes.push(format!(
                    "{}: {} ({})",
                    peer.name,
                    job.program.display(),
                    version(&job.program)
                ));
                measures.push(bench.measure(&format!("w2-{}", peer.name), job.clone()));
            }
            Err(reason) => bench.notes.push(format!("{}: {reason}", peer.name)),
        }
    }
    let samples = alternate(
        &format!("{steps} steps"),
        sizes.warmup,
        sizes.steps_rounds,
        &mut measures,
    )?;
    let [
        shell,
        sh_floor,
        terminal,
        plain,
        true_floor,
        argv,
        one_job,
        two_jobs,
    ] = [0, 1, 2, 3, 4, 5, 6, 7].map(|i| &samples[i]);
    let mut rows = vec![
        Row::report(
            format!("shipbook run, {steps} steps, run = \"true\", shell_always (sh -c true)"),
            Unit::Millis,
            millis(shell),
        ),
        Row::report(
            format!("floor: Rust loop spawning `sh -c true` {steps} times"),
            Unit::Millis,
            millis(sh_floor),
        ),
        Row::figure(
            "ratio shipbook (shell) / floor",
            Unit::Ratio,
            ratios(shell, sh_floor),
            Target::AtMost(1.15),
        ),
        Row::report(
            "overhead per step, shipbook (shell) - floor",
            Unit::Micros,
            overhead(shell, sh_floor, steps),
        ),
        Row::report(
            "the same at a terminal (pseudo-terminal, live line)",
            Unit::Millis,
            millis(terminal),
        ),
        Row::figure(
            "ratio shipbook at a terminal / floor",
            Unit::Ratio,
            ratios(terminal, sh_floor),
            Target::AtMost(1.2),
        ),
        Row::report(
            format!("shipbook run, {steps} steps, run = \"true\" (plain words, no shell)"),
            Unit::Millis,
            millis(plain),
        ),
        Row::report(
            format!(
                "floor: Rust loop spawning {} {steps} times",
                true_path.display()
            ),
            Unit::Millis,
            millis(true_floor),
        ),
        Row::figure(
            "ratio shipbook (plain words) / floor",
            Unit::Ratio,
            ratios(plain, true_floor),
            Target::AtMost(1.2),
        ),
        Row::report(
            "overhead per step, shipbook (plain words) - floor",
            Unit::Micros,
            overhead(plain, true_floor, steps),
        ),
        Row::report(
            "ratio shipbook run = [\"true\"] (argv) / floor",
            Unit::Ratio,
            ratios(argv, true_floor),
        ),
        Row::report(
            format!("shipbook run, {steps} steps of `true` with needs = [], --jobs 1"),
            Unit::Millis,
            millis(one_job),
        ),
        Row::report(
            "the same, --jobs 2 (two steps at a time)",
            Unit::Millis,
            millis(two_jobs),
        ),
        Row::figure(
            "ratio --jobs 2 / --jobs 1",
            Unit::Ratio,
            ratios(two_jobs, one_job),
            Target::AtMost(1.0),
        ),
    ];
    rows.extend(sleeping_steps(bench)?);
    let mut next = 8;
    for peer in &peers {
        let figure = format!("ratio shipbook (plain words) / {}", peer.name);
        match &peer.job {
            Ok(_) => {
                let peer_samples = &samples[next];
                next += 1;
                let per_step = summarize(&millis(peer_samples)).median / steps as f64;
                let figure = format!("{figure} ({}: {per_step:.3} ms/step)", peer.name);
                let values = ratios(plain, peer_samples);
                rows.push(if peer.target {
                    Row::figure(figure, Unit::Ratio, values, Target::AtMost(1.0))
                } else {
                    Row::report(figure, Unit::Ratio, values)
                });
            }
            Err(reason) => rows.push(Row::Skipped {
                figure,
                reason: reason.clone(),
            }),
        }
    }
    bench.notes.push(
        "how the peers run a line `true`: make execs /usr/bin/true itself (no shell for a line \
         without shell syntax), as shipbook runs plain words; just runs `sh -cu true`; task \
         interprets `true` in its built-in shell and starts no process; the bash script runs \
         `sh -c true`"
            .to_string(),
    );
    bench.notes.push(
        "W2 at a terminal: shipbook's stdin, stdout and stderr are a pseudo-terminal of 100 \
         columns opened by the benchmark, in the benchmark's own process group; the benchmark \
         reads and drops what it shows, as a terminal would"
            .to_string(),
    );
    let per_step = |samples: &[Sample]| summarize(&millis(samples)).median / steps as f64;
    bench.notes.push(format!(
        "W2 per step: shipbook {:.3} ms through the shell, {:.3} ms as plain words; floors \
         {:.3} ms (sh -c true) and {:.3} ms (true); every shipbook step is recorded in SQLite \
         and its output captured (nothing to disable)",
        per_step(shell),
        per_step(plain),
        per_step(sh_floor),
        per_step(true_floor),
    ));
    Ok(rows)
}

fn peers(bench: &Bench) -> Vec<Peer> {
    let repo = bench.repo.clone();
    let peer = |name: &'static str, target: bool, build: &dyn Fn(PathBuf) -> Job| Peer {
        name,
        target,
        job: find_peer(name).map(build),
    };
    vec![
        peer("make", true, &|make| {
            Job::new(make, &repo).args(["-f", "Makefile"])
        }),
        peer("just", true, &|just| {
            Job::new(just, &repo).args(["--justfile", "justfile"])
        }),
        peer("task", false, &|task| {
            Job::new(task, &repo).args(["--taskfile", "Taskfile.yml", "--silent"])
        }),
        peer("bash", false, &|bash| Job::new(bash, &repo).arg("steps.sh")),
    ]
}

/// Steps that spend their time in themselves (`sleep 0.2`, as a test suite or a build would),
/// one at a time and two at a time: what running beside each other is for.
fn sleeping_steps(bench: &mut Bench) -> Result<Vec<Row>, String> {
    let sizes = bench.sizes;
    let with_jobs = |jobs: &str| {
        bench
            .shipbook("state-w2")
            .args(["run", SLEEPING_STEPS_RUNBOOK, "--yes", "--jobs", jobs])
    };
    let mut measures = vec![
        bench.measure("w2-sleeping-jobs-1", with_jobs("1")),
        bench.measure("w2-sleeping-jobs-2", with_jobs("2")),
    ];
    let samples = alternate(
        &format!("{SLEEPING_STEPS} sleeping steps"),
        sizes.warmup,
        sizes.memory_rounds,
        &mut measures,
    )?;
    let [one_job, two_jobs] = [0, 1].map(|i| &samples[i]);
    Ok(vec![
        Row::report(
            format!(
                "shipbook run, {SLEEPING_STEPS} steps of `sleep 0.2` with needs = [], --jobs 1"
            ),
            Unit::Millis,
            millis(one_job),
        ),
        Row::report("the same, --jobs 2", Unit::Millis, millis(two_jobs)),
        Row::figure(
            "ratio --jobs 2 / --jobs 1, steps that take their time",
            Unit::Ratio,
            ratios(two_jobs, one_job),
            Target::AtMost(0.6),
        ),
    ])
}
