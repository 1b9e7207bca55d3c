//! The record store on a team's PostgreSQL: one history, one lock and one rehearsal gate for
//! every machine that points at it.
//!
//! The client is rust-postgres's synchronous `postgres` crate: shipbook does one thing at a
//! time and waits for each commit before the next step, so a blocking client says what happens
//! in the order it happens, with no async runtime to thread through the engine (the crate runs
//! its own small one inside). Each write is committed when the method returns, as with SQLite.
//!
//! A connection can drop in the middle of a run (a restarted server, a network gone, another
//! machine's `--force-lock`). Nothing is written while a step runs, so the step in flight is not
//! disturbed; the next write reconnects, with backoff, for up to the store's patience
//! (`SHIPBOOK_STORE_PATIENCE`, 30 seconds by default), takes the run's locks again and carries
//! on. If the store stays away, or another run has taken the lock meanwhile, the write fails:
//! the run stops before its next step and its record goes to the local journal (`pending/` in
//! the state directory), which `shipbook store sync`, or any later command that reaches the
//! store, writes in exactly once.

mod keys;
mod locks;
mod migrations;
mod runs;
pub mod target;
mod tls;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use postgres::{Client, Statement};

pub use self::locks::LockRow;
pub use self::target::Target;
use crate::error::{Error, Result, TeamStoreProblem};
use crate::store::record::{RunRecord, StepRecord};
use crate::store::{LockClaim, LockHolder, LockOutcome, Owner, Store, resolve_run_id_with};

/// How long a lost store is retried before a write gives up, unless `SHIPBOOK_STORE_PATIENCE`
/// says otherwise.
const DEFAULT_PATIENCE: Duration = Duration::from_secs(30);

/// The first wait between two attempts to reconnect; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub(super) struct PostgresStore {
    target: Target,
    connection: Option<Connection>,
    /// The advisory locks this store holds, taken again on a new connection.
    held: Vec<locks::Held>,
    patience: Duration,
    /// Set once the store stayed away for the whole patience: later writes try once, at once,
    /// rather than making a stopping run wait again.
    given_up: bool,
}

/// A live connection, with the statements prepared on it: the writes made at every step are
/// prepared once per connection, so that each costs one round trip to the server, not two.
pub(super) struct Connection {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Connection {
    /// `sql` prepared on this connection (once).
    pub(super) fn prepared(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }
}

impl std::ops::Deref for Connection {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::ops::DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// Why an operation on the store failed.
pub(super) enum Fault {
    /// The connection is gone or could not be made: worth another try.
    Connection(String),
    /// TLS could not be set up, or the server's certificate is not trusted: no retry mends it.
    Untrusted(String),
    /// Anything else: the server refused, or a record could not be read.
    Other(String),
}

impl From<postgres::Error> for Fault {
    fn from(error: postgres::Error) -> Fault {
        let text = describe(&error);
        if text.contains("TLS") || text.contains("certificate") {
            Fault::Untrusted(text)
        } else if is_connection_error(&error) {
            Fault::Connection(text)
        } else {
            Fault::Other(text)
        }
    }
}

impl From<serde_json::Error> for Fault {
    fn from(error: serde_json::Error) -> Fault {
        Fault::Other(format!(
            "a record cannot be read or written as JSON: {error}"
        ))
    }
}

/// Whether the error says the connection is gone (rather than that the server refused).
fn is_connection_error(error: &postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    match error.code() {
        // The server is shutting down, or an administrator ended this session.
        Some(code) => {
            code.code().starts_with("08")
                || code.code().starts_with("57P")
                || *code == postgres::error::SqlState::ADMIN_SHUTDOWN
        }
        None => error.as_db_error().is_none(),
    }
}

/// An error of the client in one line, with the server's detail when it gave one.
fn describe(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
    }
}

impl PostgresStore {
    /// Connects to the team store and makes its schema ready; `create` is false for commands
    /// that only read, which find no schema an empty store (`None`).
    pub(super) fn open(target: &Target, create: bool) -> Result<Option<PostgresStore>> {
        let mut store = PostgresStore {
            target: target.clone(),
            connection: None,
            held: Vec::new(),
            patience: patience(),
            given_up: false,
        };
        if let Err(fault) = store.connect() {
            return Err(store.error(fault));
        }
        let client = &mut store
            .connection
            .as_mut()
            .expect("connected just now")
            .client;
        let schema = target.schema.clone();
        let ready = if create {
            migrations::prepare(client, &schema).map(|prepared| match prepared {
                migrations::Prepared::Ready => Ok(true),
                migrations::Prepared::Newer(version) => Err(version),
            })
        } else {
            migrations::version(client, &schema).map(|version| match version {
                None => Ok(false),
                Some(version) if version > migrations::VERSION => Err(version),
                Some(_) => Ok(true),
            })
        };
        match ready.map_err(|error| store.error(Fault::from(error)))? {
            Ok(true) => Ok(Some(store)),
            Ok(false) => Ok(None),
            Err(version) => Err(Error::TeamStore {
                store: target.display(),
                message: format!(
                    "its schema is at version {version}, written by a newer shipbook (this one knows versions up to {}); nothing was changed",
                    migrations::VERSION
                ),
                problem: TeamStoreProblem::Refused,
            }),
        }
    }

    /// The schema version and the locks held, for `shipbook store status`.
    pub(super) fn status(&mut self) -> Result<(i32, Vec<LockRow>)> {
        let schema = self.target.schema.clone();
        self.with_client(|client, _| {
            let version = migrations::version(client, &schema)?.unwrap_or(0);
            Ok((version, locks::rows(client)?))
        })
    }

    /// The live connection, made (again) if there is none. A new connection uses the schema
    /// and takes the locks this store held again; if one of them was taken by another run
    /// meanwhile, that is an error no retry mends.
    fn connect(&mut self) -> std::result::Result<(), Fault> {
        if self.connection.is_none() {
            let mut client = match tls::connector(&self.target).map_err(Fault::Untrusted)? {
                Some(tls) => self.target.config.connect(tls)?,
                None => self.target.config.connect(postgres::NoTls)?,
            };
            // A schema that does not exist yet may be named: it is created before any use.
            client.batch_execute(&format!("SET search_path TO \"{}\"", self.target.schema))?;
            // The server must notice a holder that vanished without closing its connection (a
            // power cut, a network gone) within a minute or so, not after the system's default
            // of two hours, so that its lock does not outlive it; and a server that ends idle
            // sessions must not end this one while a long step runs. Servers that do not know
            // a setting (an older version, a socket connection) keep their own.
            let settings = [
                "SET tcp_keepalives_idle = 30",
                "SET tcp_keepalives_interval = 10",
                "SET tcp_keepalives_count = 3",
                "SET idle_session_timeout = 0",
            ];
            if client.batch_execute(&settings.join(";")).is_err() {
                for setting in settings {
                    let _ = client.batch_execute(setting);
                }
            }
            locks::take_again(&mut client, &self.held)?;
            self.connection = Some(Connection {
                client,
                statements: HashMap::new(),
            });
        }
        Ok(())
    }

    /// Runs `work` on the connection, reconnecting with backoff while the store is away, for up
    /// to the store's patience.
    fn with_client<T>(
        &mut self,
        mut work: impl FnMut(&mut Connection, &mut Vec<locks::Held>) -> std::result::Result<T, Fault>,
    ) -> Result<T> {
        let deadline = Instant::now() + self.patience;
        let mut backoff = FIRST_BACKOFF;
        loop {
            let attempt = match self.connect() {
                Ok(()) => work(
                    self.connection.as_mut().expect("connected just now"),
                    &mut self.held,
                ),
                Err(fault) => Err(fault),
            };
            match attempt {
                Ok(value) => {
                    self.given_up = false;
                    return Ok(value);
                }
                Err(Fault::Connection(message)) => {
                    self.connection = None;
                    if self.given_up || Instant::now() + backoff > deadline {
                        self.given_up = true;
                        return Err(self.error(Fault::Connection(format!(
                            "{message} (retried for {})",
                            crate::text::duration::human(self.patience)
                        ))));
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(fault) => return Err(self.error(fault)),
            }
        }
    }

    fn error(&self, fault: Fault) -> Error {
        let (message, problem) = match fault {
            Fault::Connection(message) => (message, TeamStoreProblem::Unreachable),
            Fault::Untrusted(message) => (message, TeamStoreProblem::Untrusted),
            Fault::Other(message) => (message, TeamStoreProblem::Refused),
        };
        Error::TeamStore {
            store: self.target.display(),
            message,
            problem,
        }
    }
}

/// How long a lost store is retried: `SHIPBOOK_STORE_PATIENCE` (such as `5s` or `2m`), else
/// [`DEFAULT_PATIENCE`].
fn patience() -> Duration {
    std::env::var("SHIPBOOK_STORE_PATIENCE")
        .ok()
        .and_then(|text| crate::text::duration::parse(&text).ok())
        .unwrap_or(DEFAULT_PATIENCE)
}

impl Store for PostgresStore {
    fn insert_run(&mut self, run: &RunRecord, _owner: &Owner) -> Result<()> {
        self.with_client(|client, _| runs::write_whole(client, run))
    }

    fn resume_run(&mut self, run: &RunRecord, _owner: &Owner) -> Result<()> {
        self.with_client(|client, _| runs::write_whole(client, run))
    }

    fn insert_step(&mut self, run_id: &str, step: &StepRecord) -> Result<()> {
        self.with_client(|client, _| runs::upsert_step(client, run_id, step))
    }

    fn update_step(&mut self, run_id: &str, step: &StepRecord) -> Result<()> {
        self.with_client(|client, _| runs::upsert_step(client, run_id, step))
    }

    fn update_metrics(&mut self, run: &RunRecord) -> Result<()> {
        self.with_client(|client, _| runs::update_run(client, run))
    }

    fn finish_run(&mut self, run: &RunRecord) -> Result<()> {
        self.with_client(|client, _| runs::update_run(client, run))
    }

    fn rewrite_run(&mut self, run: &RunRecord) -> Result<()> {
        self.with_client(|client, _| runs::write_whole(client, run))
    }

    fn rehearsals(&mut self, runbook: &str, env: &str, limit: usize) -> Result<Vec<RunRecord>> {
        self.with_client(|client, _| runs::rehearsals(client, runbook, env, limit))
    }

    fn resolve_run_id(&mut self, query: &str) -> Result<String> {
        resolve_run_id_with(query, |query| {
            self.with_client(|client, _| runs::run_ids(client, &query))
        })
    }

    fn list_runs(&mut self, runbook: Option<&str>, limit: usize) -> Result<Vec<RunRecord>> {
        self.with_client(|client, _| runs::list_runs(client, runbook, limit))
    }

    fn load_run(&mut self, run_id: &str) -> Result<RunRecord> {
        self.with_client(|client, _| runs::load_run(client, run_id))?
            .ok_or_else(|| Error::UnknownRun {
                query: run_id.to_string(),
            })
    }

    fn acquire_lock(&mut self, claim: &LockClaim<'_>) -> Result<LockOutcome> {
        let key = keys::lock_key(&self.target.schema, claim.runbook, claim.env);
        self.with_client(|client, held| locks::acquire(client, held, key, claim))
    }

    fn release_lock(&mut self, runbook: &str, env: &str, run_id: &str) -> Result<()> {
        let key = keys::lock_key(&self.target.schema, runbook, env);
        locks::forget(&mut self.held, key, run_id);
        self.with_client(|client, _| locks::release(client, key, runbook, env, run_id))
    }

    fn break_lock(&mut self, runbook: &str, env: &str, holder: &LockHolder) -> Result<bool> {
        let key = keys::lock_key(&self.target.schema, runbook, env);
        self.with_client(|client, _| locks::break_lock(client, key, runbook, env, holder))
    }
}
