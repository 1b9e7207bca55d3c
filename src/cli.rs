//! The command line, as clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "shipbook",
    version,
    about = "Runs release runbooks: each step shown, every run recorded, a change note at the end.",
    propagate_version = true
)]
pub struct Arguments {
    /// Where records, logs and notes are kept [default: .shipbook/ at the root of the runbook's
    /// git repository, or beside the runbook]
    #[arg(long, global = true, env = "SHIPBOOK_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// Keep records in a team's PostgreSQL instead of the state directory: postgres://… or
    /// postgresql://…; libpq's PG* variables (PGHOST, PGUSER, PGPASSWORD, …) fill the rest
    #[arg(
        long,
        global = true,
        env = "SHIPBOOK_STORE",
        value_name = "URL",
        hide_env_values = true
    )]
    pub store: Option<String>,

    /// The PostgreSQL schema of the team store
    #[arg(
        long,
        global = true,
        env = "SHIPBOOK_STORE_SCHEMA",
        value_name = "NAME",
        default_value = "shipbook"
    )]
    pub store_schema: String,

    /// When to use colour (NO_COLOR is honoured with `auto`)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Stream every step's output to the terminal as it runs
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Show only failures and the final result
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate runbooks (default: runbooks/*.toml) and report every error
    Check {
        /// Runbook files to check
        runbooks: Vec<PathBuf>,
    },
    /// Print the resolved steps of a runbook; runs nothing
    Plan {
        runbook: PathBuf,
        #[command(flatten)]
        selection: Selection,
        /// Print the plan as JSON
        #[arg(long)]
        json: bool,
    },
    /// Run a runbook
    Run {
        runbook: PathBuf,
        #[command(flatten)]
        selection: Selection,
        #[command(flatten)]
        execution: Execution,
        /// What to do when a step fails, for this run (overrides the runbook's `on_failure`)
        #[arg(long, value_enum, value_name = "POLICY")]
        on_failure: Option<FailurePolicy>,
        /// Run although the environment requires a rehearsal that is not on record; the reason
        /// goes into the record and the note
        #[arg(long, value_name = "REASON")]
        skip_rehearsal: Option<String>,
    },
    /// Rehearse a runbook: tags are checked but not created, `rehearsal = "skip"` steps are
    /// skipped, and the [rollback] procedure runs at the end
    Rehearse {
        runbook: PathBuf,
        #[command(flatten)]
        selection: Selection,
        #[command(flatten)]
        execution: Execution,
        /// What to do when a step fails (overrides the runbook's `on_failure`)
        #[arg(long, value_enum, value_name = "POLICY")]
        on_failure: Option<FailurePolicy>,
    },
    /// Run the runbook's [rollback] procedure at once: no checks but validation and secrets,
    /// one confirmation (skipped with --yes)
    Rollback {
        runbook: PathBuf,
        /// The environment profile to use ([environments.NAME])
        #[arg(long, value_name = "NAME")]
        env: Option<String>,
        /// Set a variable, overriding [vars] and the environment's vars
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        #[command(flatten)]
        execution: Execution,
        /// Take the lock even if another run of this runbook and environment holds it
        #[arg(long)]
        force_lock: bool,
    },
    /// Continue a failed or interrupted run where it stopped
    Resume {
        /// A run id, a unique prefix of one, or `last`
        run_id: String,
        /// Answer yes to every confirmation
        #[arg(long, short = 'y')]
        yes: bool,
        /// Who approves a `confirm` step that lists `approvers` (default: your user name)
        #[arg(long, value_name = "NAME")]
        approver: Option<String>,
        /// Resume although the runbook changed since the run
        #[arg(long)]
        force: bool,
        /// How many steps may run at once, 1 to 256 (default: as the run was started)
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
        jobs: Option<u16>,
        /// Print events as JSON lines on stdout
        #[arg(long)]
        json: bool,
        /// Also write a JUnit XML report here: one testcase per step
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
    /// List recorded runs, newest first
    History {
        /// Only runs of this runbook (its `name`)
        #[arg(long, value_name = "NAME")]
        runbook: Option<String>,
        /// How many runs to list
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print the runs as JSON
        #[arg(long)]
        json: bool,
    },
    /// Show one run, step by step
    Show {
        /// A run id, a unique prefix of one, or `last`
        run_id: String,
        /// Print the run as JSON
        #[arg(long)]
        json: bool,
    },
    /// Print a run's change note
    Note {
        /// A run id, a unique prefix of one, or `last`
        run_id: String,
        #[arg(long, value_enum, default_value_t = NoteFormat::Md)]
        format: NoteFormat,
    },
    /// Write a starter runbooks/release.toml for the project in the current directory, with
    /// the checks its Cargo.toml, package.json, pyproject.toml or go.mod knows how to run
    Init {
        /// Overwrite runbooks/release.toml if it exists
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script (install it where your shell loads completions from)
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the JSON Schema of the runbook format (the text of runbooks/schema.json)
    Schema,
    /// The team store: its state, writing in the local journal, importing local history
    #[command(subcommand)]
    Store(StoreCommand),
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Print the backend, its schema version, whether it answers, who holds which lock, and
    /// what waits in the local journal
    Status,
    /// Write the records waiting in the local journal (runs that lost the store, rollbacks made
    /// without it) into the store, each exactly once
    Sync,
    /// Copy the runs of a local state directory into the team store; runs it already holds are
    /// left as they are, so importing twice adds nothing
    Import {
        /// The state directory to import from [default: the one this directory uses]
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailurePolicy {
    /// Ask in a terminal (undo or stop); stop without one
    Ask,
    /// Run the undo of the failed step and of every completed step, newest first
    Undo,
    /// Stop and leave everything as it is
    Stop,
    /// Run the runbook's [rollback] procedure at once, in the same run
    Rollback,
}

impl From<FailurePolicy> for crate::runbook::OnFailure {
    fn from(policy: FailurePolicy) -> Self {
        match policy {
            FailurePolicy::Ask => crate::runbook::OnFailure::Ask,
            FailurePolicy::Undo => crate::runbook::OnFailure::Undo,
            FailurePolicy::Stop => crate::runbook::OnFailure::Stop,
            FailurePolicy::Rollback => crate::runbook::OnFailure::Rollback,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoteFormat {
    Md,
    Json,
}

/// Which environment, which variables, which steps.
#[derive(Debug, Clone, Default, Args, serde::Serialize, serde::Deserialize)]
pub struct Selection {
    /// The environment profile to use ([environments.NAME])
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Set a variable, overriding [vars] and the environment's vars
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Run only this step (repeatable)
    #[arg(long, value_name = "ID")]
    pub only: Vec<String>,
    /// Start at this step, skipping those before it
    #[arg(long, value_name = "ID")]
    pub from: Option<String>,
}

/// How a run is carried out and reported.
#[derive(Debug, Args)]
pub struct Execution {
    /// Answer yes to every confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Who approves a `confirm` step that lists `approvers` (default: your user name)
    #[arg(long, value_name = "NAME")]
    pub approver: Option<String>,
    /// Why this change is made (overrides the runbook's `reason`)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Print events as JSON lines on stdout
    #[arg(long)]
    pub json: bool,
    /// Also write a JUnit XML report here: one testcase per step
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// How many steps may run at once, 1 to 256 (overrides the runbook's `jobs`; default: the
    /// number of CPUs); 1 runs them one after another in file order
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
}

impl From<Selection> for crate::plan::Selection {
    fn from(selection: Selection) -> crate::plan::Selection {
        crate::plan::Selection {
            env: selection.env,
            vars: selection.vars,
            only: selection.only,
            from: selection.from,
            jobs: None,
        }
    }
}
