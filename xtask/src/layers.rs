//! `cargo xtask layers`: the directions in which shipbook's modules may import each other.
//!
//! Data flows one way through shipbook: text helpers, then the runbook model, the plan, the
//! engine, and last the outputs and the commands. A module that imports against that flow makes
//! the house hard to change (a spec that knows the engine cannot be reused; a runbook that knows
//! a command forms a cycle), and nothing in the compiler prevents it. This check reads every
//! `crate::` path in `src/` (test modules aside) and fails on each one its layer may not use.
//! ARCHITECTURE.md gives the same table in words; keep the two together.

use std::path::{Path, PathBuf};

/// Each layer, by module path prefix (`*` is any one segment), and the prefixes it may import.
/// The longest matching layer applies. A module may always import within its own top-level
/// module, except where a rule below names a narrower one.
const RULES: &[(&str, &[&str])] = &[
    ("text", &["text"]),
    ("mask", &["mask"]),
    ("error", &["text"]),
    ("actions::*::spec", &["text", "actions::*::spec"]),
    ("runbook", &["text", "error", "actions::*::spec", "runbook"]),
    ("sys", &["text", "error", "mask", "sys"]),
    (
        "store",
        &[
            "text",
            "error",
            "runbook",
            "actions::*::spec",
            "sys",
            "store",
        ],
    ),
    (
        "plan",
        &[
            "text",
            "error",
            "mask",
            "runbook",
            "actions::*::spec",
            "store::record",
            "sys::git",
            "plan",
        ],
    ),
    (
        "actions",
        &["text", "error", "mask", "sys", "store::record", "actions"],
    ),
    (
        "engine",
        &[
            "text", "error", "mask", "runbook", "plan", "actions", "store", "sys", "engine",
        ],
    ),
    (
        "output",
        &[
            "text",
            "error",
            "mask",
            "runbook",
            "plan",
            "store::record",
            "sys",
            "engine::event",
            "engine::effects",
        ],
    ),
    (
        "cli",
        &[
            "text", "error", "runbook", "plan", "engine", "output", "store", "sys",
        ],
    ),
    (
        "commands",
        &[
            "text",
            "error",
            "mask",
            "runbook",
            "plan",
            "actions",
            "engine",
            "output",
            "store",
            "sys",
            "cli",
            "commands::Globals",
        ],
    ),
];

/// One import against the layering.
#[derive(Debug, PartialEq, Eq)]
pub struct Violation {
    pub file: PathBuf,
    pub line: usize,
    pub from: String,
    pub imports: String,
}

pub fn run(_args: &[String]) -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src");
    let violations = check(&root)?;
    if violations.is_empty() {
        eprintln!("every import follows the layering");
        return Ok(());
    }
    for violation in &violations {
        eprintln!(
            "{}:{}: `{}` may not import `{}`",
            violation.file.display(),
            violation.line,
            violation.from,
            violation.imports
        );
    }
    Err(format!(
        "{} imports go against the layering (see ARCHITECTURE.md)",
        violations.len()
    ))
}

/// Every import in the crate under `root` that its layer does not allow.
pub fn check(root: &Path) -> Result<Vec<Violation>, String> {
    let mut violations = Vec::new();
    for file in rust_files(root)? {
        let module = module_path(root, &file);
        if module.is_empty() || is_test_only(root, &file) {
            continue;
        }
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        for (line, imported) in imports(&module, &text) {
            if !allowed(&module, &imported) {
                violations.push(Violation {
                    file: file.clone(),
                    line,
                    from: module.join("::"),
                    imports: imported.join("::"),
                });
            }
        }
    }
    Ok(violations)
}

fn rust_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// `src/engine/attempt.rs` is `engine::attempt`; `src/plan/mod.rs` is `plan`; the crate roots
/// are the empty path.
fn module_path(root: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(root).unwrap_or(file).with_extension("");
    let mut segments: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        segments.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        segments.pop();
    }
    segments
}

/// Whether the parent module declares this file under `#[cfg(test)]`.
fn is_test_only(root: &Path, file: &Path) -> bool {
    let Some(name) = file.file_stem().and_then(|s| s.to_str()) else {
        return false;
    };
    let dir = file.parent().unwrap_or(root);
    let parent = dir.join("mod.rs");
    let parent = if parent.exists() {
        parent
    } else {
        dir.with_extension("rs")
    };
    let Ok(text) = std::fs::read_to_string(parent) else {
        return false;
    };
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    lines
        .windows(2)
        .any(|pair| pair[0] == "#[cfg(test)]" && pair[1] == format!("mod {name};"))
}

/// The crate paths a module's non-test code names, with their line numbers: `crate::a::b`,
/// the items of `use crate::{a, b}`, and `super::` paths resolved against the module.
fn imports(module: &[String], text: &str) -> Vec<(usize, Vec<String>)> {
    let mut found = Vec::new();
    for (line_number, line) in code_lines(text) {
        for path in paths_in(&line) {
            if let Some(resolved) = resolve(module, &path) {
                found.push((line_number, resolved));
            }
        }
    }
    found
}

/// The lines of non-test code, with their numbers: comments dropped, each `use` statement
/// joined into one line (rustfmt spreads a long group over several), and every item under
/// `#[cfg(test)]` left out, wherever it stands in the file.
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let trimmed = lines[index].trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            index = end_of_item(&lines, index + 1);
            continue;
        }
        if trimmed.starts_with("//") {
            index += 1;
            continue;
        }
        let start = index;
        let mut joined = lines[index].to_string();
        if is_use(trimmed) {
            while !joined.contains(';') && index + 1 < lines.len() {
                index += 1;
                joined.push(' ');
                joined.push_str(lines[index].trim());
            }
        }
        out.push((start + 1, joined));
        index += 1;
    }
    out
}

fn is_use(trimmed: &str) -> bool {
    trimmed.starts_with("use ")
        || trimmed.starts_with("pub use ")
        || trimmed.starts_with("pub(") && trimmed.contains(") use ")
}

/// The index just past the item that starts at or after `index` (after any further
/// attributes): a one-line item ends at its `;`, a block at its matching `}`.
fn end_of_item(lines: &[&str], mut index: usize) -> usize {
    while index < lines.len() && lines[index].trim_start().starts_with("#[") {
        index += 1;
    }
    let mut depth = 0i32;
    let mut opened = false;
    while index < lines.len() {
        let line = lines[index];
        for c in line.chars() {
            match c {
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        index += 1;
        if (opened && depth <= 0) || (!opened && line.trim_end().ends_with(';')) {
            break;
        }
    }
    index
}

/// The `crate::…` and `super::…` paths in one line of code, as segments.
fn paths_in(line: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    for start in ["crate::", "super::"] {
        let mut rest = line;
        while let Some(at) = rest.find(start) {
            let preceded = rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            let after = &rest[at + start.len()..];
            if !preceded {
                let head = start.trim_end_matches("::").to_string();
                paths.extend(expand(head, after));
            }
            rest = after;
        }
    }
    paths
}

/// `head` followed by `after` (`a::b::c`, `{a, b::c}`, or groups within groups) as full paths.
fn expand(head: String, after: &str) -> Vec<Vec<String>> {
    let prefix: Vec<String> = vec![head];
    expand_tree(&prefix, after)
}

/// The paths of a use tree `text` below `prefix`.
fn expand_tree(prefix: &[String], text: &str) -> Vec<Vec<String>> {
    let text = text.trim_start();
    if let Some(group) = text.strip_prefix('{') {
        return split_group(group)
            .into_iter()
            .flat_map(|item| expand_tree(prefix, item))
            .collect();
    }
    let mut path = prefix.to_vec();
    let mut rest = text;
    loop {
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            break;
        }
        path.push(ident.clone());
        rest = &rest[ident.len()..];
        match rest.strip_prefix("::") {
            Some(after) if after.trim_start().starts_with('{') => {
                return expand_tree(&path, after);
            }
            Some(after) => rest = after,
            None => break,
        }
    }
    vec![path]
}

/// The items of a `{…}` group (the text after its `{`), split at its own top-level commas.
fn split_group(group: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (at, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[start..at]);
                return items.into_iter().filter(|i| !i.trim().is_empty()).collect();
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    items.push(&group[start..]);
    items.into_iter().filter(|i| !i.trim().is_empty()).collect()
}

/// A path as seen from the crate root: `crate::x::y` is `x::y`; `super::y` in `a::b` is `a::y`.
fn resolve(module: &[String], path: &[String]) -> Option<Vec<String>> {
    let mut base: Vec<String> = Vec::new();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => rest = &path[1..],
        Some("super") => {
            base = module.to_vec();
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    base.extend(rest.iter().cloned());
    (!base.is_empty()).then_some(base)
}

fn matches_prefix(pattern: &str, path: &[String]) -> bool {
    let pattern: Vec<&str> = pattern.split("::").collect();
    pattern.len() <= path.len()
        && pattern
            .iter()
            .zip(path)
            .all(|(wanted, segment)| *wanted == "*" || wanted == segment)
}

/// Whether `module` may import `imported`.
fn allowed(module: &[String], imported: &[String]) -> bool {
    // A module may always use what is inside it.
    if imported.starts_with(module) {
        return true;
    }
    let rule = RULES
        .iter()
        .filter(|(layer, _)| matches_prefix(layer, module))
        .max_by_key(|(layer, _)| layer.split("::").count());
    let Some((layer, may_import)) = rule else {
        return true;
    };
    // A module split into a folder of files is still one module: its files may use one another
    // and the folder's own items, unless a rule is written for the file itself (a step kind's
    // `spec` stays a leaf although it sits in its kind's folder).
    let folder = &module[..module.len() - 1];
    if folder.len() >= 2
        && layer.split("::").count() <= folder.len()
        && imported.starts_with(folder)
    {
        return true;
    }
    may_import
        .iter()
        .any(|allowed| matches_prefix(allowed, imported))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> Vec<String> {
        text.split("::").map(str::to_string).collect()
    }

    #[test]
    fn shipbook_follows_its_layering() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src");
        let violations: Vec<Violation> = check(&root).expect("the sources can be read");
        assert!(violations.is_empty(), "{violations:#?}");
    }

    #[test]
    fn the_check_finds_imports_against_the_flow() {
        assert!(!allowed(&path("runbook"), &path("commands::schema")));
        assert!(!allowed(
            &path("actions::tag::spec"),
            &path("engine::executor")
        ));
        assert!(!allowed(
            &path("engine::executor"),
            &path("output::reporter")
        ));
        assert!(!allowed(&path("output::junit"), &path("output::note")));
        assert!(allowed(&path("actions::tag::spec"), &path("text::checks")));
        assert!(allowed(&path("engine::executor"), &path("engine::effects")));
        assert!(allowed(&path("plan::build"), &path("actions::http::spec")));
    }

    #[test]
    fn the_files_of_a_folder_module_may_use_one_another() {
        assert!(allowed(
            &path("output::note::header"),
            &path("output::note::cell")
        ));
        assert!(allowed(
            &path("commands::init::template"),
            &path("commands::init::detect::Project")
        ));
        assert!(!allowed(
            &path("commands::init::template"),
            &path("commands::schema")
        ));
        assert!(!allowed(
            &path("actions::config::spec"),
            &path("actions::config::flat")
        ));
        assert!(!allowed(&path("output::junit"), &path("output::note")));
    }

    #[test]
    fn grouped_and_relative_imports_are_read() {
        let module = path("engine::attempt");
        let found = imports(
            &module,
            "use crate::{runbook, plan::Plan};\nuse super::effects::Answer;\n#[cfg(test)]\nuse crate::output;\n",
        );
        let found: Vec<String> = found.into_iter().map(|(_, p)| p.join("::")).collect();
        assert_eq!(found, ["runbook", "plan::Plan", "engine::effects::Answer"]);

        let found = imports(
            &module,
            "use crate::{\n    runbook::{Mode, Step},\n    output,\n};\n#[cfg(test)]\nfn helper() {\n    crate::commands::x();\n}\nuse crate::store;\n",
        );
        let found: Vec<String> = found.into_iter().map(|(_, p)| p.join("::")).collect();
        assert_eq!(
            found,
            ["runbook::Mode", "runbook::Step", "output", "store"],
            "a group over several lines is read, a test-only item is skipped, and what follows it is read"
        );
    }
}
