//! What a `tag` step says in a runbook, what makes it valid, and what it becomes in a plan.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::text::checks::{Checks, Resolve};

/// The `tag` action: an annotated git tag at HEAD.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagSpec {
    /// The tag's name, such as "v{{ version }}".
    pub name: String,
    /// The tag's message (default: its name).
    pub message: Option<String>,
    /// Also push the tag to `remote`; undoing the step deletes the pushed tag too.
    #[serde(default)]
    pub push: bool,
    /// The remote to push the tag to (default "origin").
    pub remote: Option<String>,
}

/// A tag as it will be made: name and message rendered, the remote chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedTag {
    pub name: String,
    pub message: String,
    pub push: bool,
    pub remote: String,
}

/// Whether git would accept `name` as a tag name.
pub fn is_valid_name(name: &str) -> bool {
    git2::Reference::is_valid_name(&format!("refs/tags/{name}"))
}

impl TagSpec {
    pub fn validate(&self, span: Range<usize>, checks: &mut dyn Checks) {
        checks.text(&self.name, span.clone());
        if !self.name.contains("{{") && !is_valid_name(&self.name) {
            checks.error(
                span.clone(),
                format!("`{}` is not a tag name git accepts", self.name),
                Some(
                    "a name such as v1.4.3: no spaces, `..`, `~`, `^`, `:`, `?`, `*`, `[` or `\\`"
                        .into(),
                ),
            );
        }
        if let Some(message) = &self.message {
            checks.text(message, span);
        }
    }

    pub fn resolve(&self, span: Range<usize>, resolve: &mut dyn Resolve) -> PlannedTag {
        let name = resolve.text(&self.name, span.clone());
        // A name made of variables can only be judged once they are rendered.
        if self.name.contains("{{") && !is_valid_name(&name) {
            resolve.error(
                span.clone(),
                format!("`{name}` is not a tag name git accepts"),
                "variables that make a name such as v1.4.3".into(),
            );
        }
        PlannedTag {
            message: match &self.message {
                Some(message) => resolve.text(message, span),
                None => name.clone(),
            },
            name,
            push: self.push,
            remote: self.remote.clone().unwrap_or_else(|| "origin".into()),
        }
    }
}

impl PlannedTag {
    /// One line saying what the step does, for the plan, the record and the note.
    pub fn describe(&self) -> String {
        if self.push {
            format!("tag {} at HEAD and push it to {}", self.name, self.remote)
        } else {
            format!("tag {} at HEAD", self.name)
        }
    }
}
