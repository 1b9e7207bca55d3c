//! What people and machines see of a run: the terminal reporter, error reports, JSON events,
//! JUnit, GitHub Actions annotations and the change note. Each is an observer of the engine's
//! events or a renderer of a record.

pub mod github;
pub mod json_events;
pub mod junit;
pub mod note;
pub mod prompt;
pub mod report;
pub mod reporter;
#[cfg(test)]
mod test_records;
