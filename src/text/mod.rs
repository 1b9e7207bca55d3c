//! Leaf helpers for text: durations, `{{ variable }}` templates, located diagnostics, the
//! recorded form of timestamps, the words of messages and control characters made visible. They
//! import nothing else of shipbook, so every layer above may use them.

pub mod checks;
pub mod choice;
pub mod controls;
pub mod diagnostic;
pub mod duration;
pub mod names;
pub mod number;
pub mod patterns;
pub mod sparkline;
pub mod template;
pub mod timestamp;
pub mod words;
