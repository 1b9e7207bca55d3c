//! Leaf helpers for text: durations, `{{ variable }}` templates, located diagnostics and the
//! recorded form of timestamps. They import nothing else of shipbook, so every layer above may
//! use them.

pub mod checks;
pub mod diagnostic;
pub mod duration;
pub mod patterns;
pub mod template;
pub mod timestamp;
