//! `{{ name }}` placeholders in runbook strings.
//!
//! Placeholders are the only templating a runbook has: no expressions, no filters, so that what a
//! step will run can always be read off the plan. `$VAR` and `${VAR}` belong to the shell and are
//! left alone.

use std::collections::BTreeMap;
use std::ops::Range;

/// One `{{ name }}` found in a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub name: String,
    /// Byte range of the whole `{{ ... }}` within the string.
    pub range: Range<usize>,
}

/// A problem with the placeholder syntax itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub range: Range<usize>,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Lists the placeholders of `text`, or the first malformed one.
pub fn placeholders(text: &str) -> Result<Vec<Placeholder>, SyntaxError> {
    let mut found = Vec::new();
    let mut offset = 0;
    while let Some(open) = text[offset..].find("{{") {
        let start = offset + open;
        let Some(close) = text[start + 2..].find("}}") else {
            return Err(SyntaxError {
                message: "`{{` without a closing `}}`".into(),
                range: start..text.len(),
            });
        };
        let end = start + 2 + close + 2;
        let name = text[start + 2..end - 2].trim();
        if name.is_empty() || !name.chars().all(is_name_char) {
            return Err(SyntaxError {
                message: format!("`{}` is not a variable reference", &text[start..end]),
                range: start..end,
            });
        }
        found.push(Placeholder {
            name: name.to_string(),
            range: start..end,
        });
        offset = end;
    }
    Ok(found)
}

/// Replaces every placeholder with its value. Unknown names are returned as errors, all of them.
pub fn render(text: &str, vars: &BTreeMap<String, String>) -> Result<String, Vec<Placeholder>> {
    let Ok(found) = placeholders(text) else {
        // Syntax was checked when the runbook was loaded; a string that still fails here is
        // rendered as it is rather than guessed at.
        return Ok(text.to_string());
    };
    let mut out = String::with_capacity(text.len());
    let mut unknown = Vec::new();
    let mut last = 0;
    for placeholder in found {
        out.push_str(&text[last..placeholder.range.start]);
        match vars.get(&placeholder.name) {
            Some(value) => out.push_str(value),
            None => unknown.push(placeholder.clone()),
        }
        last = placeholder.range.end;
    }
    out.push_str(&text[last..]);
    if unknown.is_empty() {
        Ok(out)
    } else {
        Err(unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("version".to_string(), "1.4.3".to_string()),
            ("git.sha".to_string(), "abc".to_string()),
        ])
    }

    #[test]
    fn renders_known_names_with_or_without_spaces() {
        assert_eq!(
            render("v{{ version }}-{{git.sha}} $HOME ${X}", &vars()),
            Ok("v1.4.3-abc $HOME ${X}".to_string())
        );
    }

    #[test]
    fn reports_every_unknown_name() {
        let unknown = render("{{ a }} {{ version }} {{ b }}", &vars()).unwrap_err();
        let names: Vec<_> = unknown.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(unknown[1].range, 22..29);
    }

    #[test]
    fn rejects_malformed_placeholders() {
        assert!(placeholders("{{ version").is_err());
        assert!(placeholders("{{ two words }}").is_err());
        assert!(placeholders("{{}}").is_err());
    }
}
