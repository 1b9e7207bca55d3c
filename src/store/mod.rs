//! The record store: what is kept of every run, and where.

pub mod record;
mod sqlite;

pub use sqlite::*;
