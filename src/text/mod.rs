//! Leaf helpers for text: durations, `{{ variable }}` templates and located diagnostics. They
//! import nothing else of shipbook, so every layer above may use them.

pub mod checks;
pub mod diagnostic;
pub mod duration;
pub mod patterns;
pub mod template;
