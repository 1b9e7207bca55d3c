//! The facts of a note at its very top, as YAML front matter, so that a folder of notes
//! (`notes_dir`) can be searched, indexed and rendered by the static-site tools that read it.
//!
//! Every value is written as a JSON string, number, list or null: JSON's flow forms are YAML
//! too, and JSON's escaping means that a reason holding `:`, `#`, quotes or a newline cannot
//! break the block. The same fields are what `note --format json` gives as `front_matter`.

use serde_json::{Value, json};

use crate::store::record::{Phase, RunRecord};

/// The front matter's fields, in the order they are written.
pub fn fields(run: &RunRecord) -> Vec<(&'static str, Value)> {
    let tag = run
        .steps
        .iter()
        .filter(|step| step.phase == Phase::Steps)
        .find_map(|step| step.tag.as_ref())
        .map(|tag| tag.name.clone());
    let approvers: Vec<String> = run
        .steps
        .iter()
        .filter_map(|step| step.approved_by.clone())
        .collect();
    vec![
        ("runbook", json!(run.runbook)),
        ("version", json!(run.version)),
        ("environment", json!(run.env)),
        ("mode", json!(run.mode.as_str())),
        ("status", json!(run.status.as_str())),
        ("run_id", json!(run.run_id)),
        ("commit", json!(run.git_sha)),
        ("tag", json!(tag)),
        ("operator", json!(run.operator)),
        ("approvers", json!(approvers)),
        ("started", json!(run.started_at.to_string())),
        ("finished", json!(run.finished_at.map(|at| at.to_string()))),
        (
            "rehearsal",
            json!(run.rehearsal.as_ref().map(|r| r.run_id.clone())),
        ),
        ("content_hash", json!(run.content_hash)),
    ]
}

/// The fields as one JSON object.
pub fn object(run: &RunRecord) -> Value {
    Value::Object(
        fields(run)
            .into_iter()
            .map(|(key, value)| (key.to_string(), value))
            .collect(),
    )
}

/// The front matter block, `---` lines included.
pub fn block(run: &RunRecord) -> String {
    let mut out = String::from("---\n");
    for (key, value) in fields(run) {
        out.push_str(key);
        out.push_str(": ");
        out.push_str(&yaml_printable(&value.to_string()));
        out.push('\n');
    }
    out.push_str("---\n\n");
    out
}

/// JSON escapes only the C0 controls, but YAML also refuses DEL, the C1 controls and the
/// byte-order mark inside a document, and YAML 1.1 readers take NEL and the Unicode line and
/// paragraph separators as line breaks. Each of them is written as a `\uXXXX` escape, which
/// both JSON and YAML read back as the same character. They can only occur inside strings, so
/// escaping them cannot change the structure.
fn yaml_printable(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for character in json.chars() {
        let code = u32::from(character);
        let unsafe_for_yaml = code == 0x7f
            || (0x80..=0x9f).contains(&code)
            || matches!(code, 0x2028 | 0x2029 | 0xfeff | 0xfffe | 0xffff);
        if unsafe_for_yaml {
            out.push_str(&format!("\\u{code:04x}"));
        } else {
            out.push(character);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The block read back as YAML.
    fn parse_back(text: &str) -> BTreeMap<String, serde_json::Value> {
        let yaml = text
            .strip_prefix("---\n")
            .and_then(|rest| rest.split("\n---\n").next())
            .unwrap();
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn a_hostile_reason_or_name_cannot_break_the_yaml() {
        let mut run = crate::output::test_records::run();
        run.runbook = "web: \"prod\" # not a comment\n---\nstatus: succeeded".into();
        run.version = Some("1.2.0".into());
        let text = block(&run);
        let parsed = parse_back(&text);
        assert_eq!(parsed["runbook"], run.runbook.as_str());
        assert_eq!(parsed["status"], run.status.as_str());
        assert_eq!(parsed["version"], "1.2.0");
        assert_eq!(parsed.len(), fields(&run).len());
    }

    #[test]
    fn characters_yaml_refuses_are_escaped_and_read_back_the_same() {
        let mut run = crate::output::test_records::run();
        run.runbook = "del\u{7f} c1\u{85}\u{9b} bom\u{feff} ls\u{2028} é ✓".into();
        let text = block(&run);
        assert!(
            !text.contains('\u{7f}') && !text.contains('\u{85}') && !text.contains('\u{feff}'),
            "{text:?}"
        );
        assert!(
            text.contains("é ✓"),
            "printable text stays as it is: {text}"
        );
        let parsed = parse_back(&text);
        assert_eq!(parsed["runbook"], run.runbook.as_str());
    }
}
