//! Values between the records and SQLite: how each typed field is stored, and how a row is read
//! back, by column name, into typed fields.
//!
//! A value the program does not know (a status, mode, kind or phase written by a newer shipbook
//! or by hand, a JSON column that does not parse, a timestamp that is not one) is an error that
//! names the column and the value. Reading it as some default instead would show a run as
//! something it was not, and `resume` would then act on that.

use rusqlite::Row;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::runbook::{Mode, StepKind};
use crate::store::record::{Phase, RunStatus, StepStatus};
use crate::text::timestamp::Timestamp;

/// Why the SQLite backend could not do what it was asked.
#[derive(Debug)]
pub(super) enum Fault {
    /// SQLite itself failed (or the SQL is wrong).
    Sql(rusqlite::Error),
    /// A value in the database does not read as what its column should hold.
    Unreadable {
        /// `table.column`.
        column: String,
        /// The value as found, shortened when long.
        value: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl From<rusqlite::Error> for Fault {
    fn from(error: rusqlite::Error) -> Fault {
        Fault::Sql(error)
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Sql(error) => write!(f, "{error}"),
            Fault::Unreadable {
                column,
                value,
                problem,
            } => write!(f, "column `{column}` holds {value}: {problem}"),
        }
    }
}

pub(super) type Outcome<T> = std::result::Result<T, Fault>;

/// One row of one table, read by column name.
pub(super) struct Columns<'a, 'stmt> {
    table: &'static str,
    row: &'a Row<'stmt>,
}

impl<'a, 'stmt> Columns<'a, 'stmt> {
    pub(super) fn of(table: &'static str, row: &'a Row<'stmt>) -> Columns<'a, 'stmt> {
        Columns { table, row }
    }

    /// The value of `column`, converted to `T`.
    pub(super) fn get<T: FromSql>(&self, column: &'static str) -> Outcome<T> {
        self.row.get(column).map_err(|error| {
            let problem = match error {
                rusqlite::Error::FromSqlConversionFailure(_, _, cause) => cause.to_string(),
                rusqlite::Error::IntegralValueOutOfRange(_, _) => "a number out of range".into(),
                rusqlite::Error::InvalidColumnType(_, _, found) => {
                    format!("a value of the wrong type ({found})")
                }
                other => return Fault::Sql(other),
            };
            self.unreadable(column, problem)
        })
    }

    /// A column that holds JSON: NULL (a row from before the column existed) reads as the
    /// default; text that does not parse as a `T` is an error.
    pub(super) fn json<T: DeserializeOwned + Default>(&self, column: &'static str) -> Outcome<T> {
        let Some(text) = self.get::<Option<String>>(column)? else {
            return Ok(T::default());
        };
        serde_json::from_str(&text).map_err(|error| {
            self.unreadable(column, format!("not the JSON it should be ({error})"))
        })
    }

    fn unreadable(&self, column: &'static str, problem: String) -> Fault {
        Fault::Unreadable {
            column: format!("{}.{column}", self.table),
            value: self
                .row
                .get_ref(column)
                .map_or_else(|_| "an unreadable value".into(), shown),
            problem,
        }
    }
}

/// The process that owned a run or holds a lock, from the row's `host`, `pid` and `pid_start`.
pub(super) fn read_owner(row: &Columns<'_, '_>) -> Outcome<crate::store::Owner> {
    Ok(crate::store::Owner {
        host: row.get("host")?,
        pid: row.get("pid")?,
        pid_start: row
            .get::<Option<i64>>("pid_start")?
            .map(|start| start as u64),
    })
}

/// A value as an error message shows it: text quoted and shortened, the rest by kind.
fn shown(value: ValueRef<'_>) -> String {
    const LONGEST: usize = 80;
    match value {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(number) => number.to_string(),
        ValueRef::Real(number) => number.to_string(),
        ValueRef::Text(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            if text.chars().count() > LONGEST {
                let start: String = text.chars().take(LONGEST).collect();
                format!("`{start}…`")
            } else {
                format!("`{text}`")
            }
        }
        ValueRef::Blob(bytes) => format!("a blob of {} bytes", bytes.len()),
    }
}

/// The JSON text a JSON column is written with.
pub(super) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("records serialize")
}

/// Stores each named value as the text it has everywhere else (JSON, the note), and reads back
/// only the names this shipbook knows.
macro_rules! stored_as_name {
    ($($type:ty => $what:literal),* $(,)?) => {$(
        impl ToSql for $type {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $type {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<$type> {
                <$type>::parse(value.as_str()?).ok_or_else(|| {
                    FromSqlError::Other(concat!("not ", $what, " this shipbook knows").into())
                })
            }
        }
    )*};
}

stored_as_name!(
    RunStatus => "a run status",
    StepStatus => "a step status",
    Phase => "a phase",
    Mode => "a mode",
    StepKind => "a step kind",
);

impl ToSql for Timestamp {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.to_string()))
    }
}

impl FromSql for Timestamp {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Timestamp> {
        Timestamp::parse(value.as_str()?).map_err(|error| {
            FromSqlError::Other(format!("not an RFC 3339 timestamp ({error})").into())
        })
    }
}
