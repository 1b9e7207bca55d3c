//! What kind of project is in the current directory, read from its manifests.
//!
//! init writes the checks a project already knows how to run, so it first learns which
//! toolchains the project uses (Cargo.toml, package.json, pyproject.toml, go.mod), and the
//! project's name and version for the runbook's name and its `version` variable. A manifest
//! that cannot be read is a warning, not an error: the runbook is a starting point that the
//! user is about to edit anyway.

use std::path::Path;

/// A kind of project init knows the checks of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    Rust,
    /// The `lint` and `test` scripts that package.json defines.
    Node {
        lint: bool,
        test: bool,
    },
    Python,
    Go,
}

/// What init found in the project directory.
#[derive(Debug, Clone)]
pub(super) struct Project {
    pub(super) name: String,
    pub(super) version: String,
    pub(super) kinds: Vec<Kind>,
}

impl Project {
    /// Reads the project's manifests; returns the project and the warnings about manifests
    /// that could not be used.
    pub(super) fn detect(dir: &Path) -> (Project, Vec<String>) {
        let mut found = Findings::default();
        found.cargo(dir);
        found.npm(dir);
        found.python(dir);
        found.go(dir);

        let directory_name = std::fs::canonicalize(dir)
            .ok()
            .and_then(|path| path.file_name().map(|n| n.to_string_lossy().into_owned()));
        let name = [found.name, directory_name]
            .into_iter()
            .flatten()
            .map(|candidate| runbook_name(&candidate))
            .find(|candidate| !candidate.is_empty())
            .unwrap_or_else(|| "release".to_string());
        let version = found
            .version
            .filter(|v| is_plain_version(v))
            .unwrap_or_else(|| "0.1.0".to_string());
        let project = Project {
            name,
            version,
            kinds: found.kinds,
        };
        (project, found.warnings)
    }
}

/// What the manifests said, gathered one manifest at a time. The first manifest that names
/// the project or its version wins, in the order Cargo.toml, package.json, pyproject.toml,
/// go.mod.
#[derive(Default)]
struct Findings {
    kinds: Vec<Kind>,
    name: Option<String>,
    version: Option<String>,
    warnings: Vec<String>,
}

impl Findings {
    fn offer_name(&mut self, name: Option<String>) {
        self.name = self.name.take().or(name);
    }

    fn offer_version(&mut self, version: Option<String>) {
        self.version = self.version.take().or(version);
    }

    /// Cargo.toml: the package's name and version, or the workspace's version.
    fn cargo(&mut self, dir: &Path) {
        let Some(manifest) = read_toml(dir, "Cargo.toml", &mut self.warnings) else {
            return;
        };
        self.kinds.push(Kind::Rust);
        if let Some(manifest) = manifest {
            let package = manifest.get("package");
            let workspace = manifest.get("workspace").and_then(|w| w.get("package"));
            self.offer_name(string_at(package, "name"));
            self.offer_version(
                string_at(package, "version").or_else(|| string_at(workspace, "version")),
            );
        }
    }

    /// package.json: which of the `lint` and `test` scripts exist, the name and the version.
    fn npm(&mut self, dir: &Path) {
        let Some(package) = read_json(dir, "package.json", &mut self.warnings) else {
            return;
        };
        let scripts = package.as_ref().and_then(|p| p.get("scripts"));
        let has = |script: &str| scripts.and_then(|s| s.get(script)).is_some();
        self.kinds.push(Kind::Node {
            lint: has("lint"),
            test: has("test"),
        });
        if let Some(package) = &package {
            let text = |key: &str| package.get(key).and_then(|v| v.as_str()).map(String::from);
            // A scoped package, `@team/web`, is named after its last part.
            self.offer_name(
                text("name").map(|n| n.rsplit('/').next().unwrap_or_default().to_string()),
            );
            self.offer_version(text("version"));
        }
    }

    /// pyproject.toml: the `[project]` table, or Poetry's `[tool.poetry]`.
    fn python(&mut self, dir: &Path) {
        let Some(pyproject) = read_toml(dir, "pyproject.toml", &mut self.warnings) else {
            return;
        };
        self.kinds.push(Kind::Python);
        if let Some(pyproject) = pyproject {
            let project = pyproject.get("project");
            let poetry = pyproject.get("tool").and_then(|t| t.get("poetry"));
            self.offer_name(string_at(project, "name").or_else(|| string_at(poetry, "name")));
            self.offer_version(
                string_at(project, "version").or_else(|| string_at(poetry, "version")),
            );
        }
    }

    /// go.mod: the module's name; Go modules have no version of their own.
    fn go(&mut self, dir: &Path) {
        match std::fs::read_to_string(dir.join("go.mod")) {
            Ok(text) => {
                self.kinds.push(Kind::Go);
                self.offer_name(go_module_name(&text));
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                self.kinds.push(Kind::Go);
                self.warnings.push(format!(
                    "cannot read go.mod ({error}); its module name was not used"
                ));
            }
        }
    }
}

/// Reads a TOML manifest: `None` when it does not exist, `Some(None)` when it exists but cannot
/// be read or parsed (with a warning), `Some(Some(table))` otherwise.
fn read_toml(dir: &Path, file: &str, warnings: &mut Vec<String>) -> Option<Option<toml::Table>> {
    let text = read_manifest(dir, file, warnings)?;
    Some(text.and_then(|text| match text.parse::<toml::Table>() {
        Ok(table) => Some(table),
        Err(error) => {
            warnings.push(format!(
                "{file} is not valid TOML ({}); its name and version were not used",
                error.message()
            ));
            None
        }
    }))
}

/// Reads package.json, as `read_toml` does for TOML.
fn read_json(
    dir: &Path,
    file: &str,
    warnings: &mut Vec<String>,
) -> Option<Option<serde_json::Value>> {
    let text = read_manifest(dir, file, warnings)?;
    Some(text.and_then(|text| match serde_json::from_str(&text) {
        Ok(value) => Some(value),
        Err(error) => {
            warnings.push(format!(
                "{file} is not valid JSON ({error}); its scripts, name and version were not used"
            ));
            None
        }
    }))
}

fn read_manifest(dir: &Path, file: &str, warnings: &mut Vec<String>) -> Option<Option<String>> {
    match std::fs::read_to_string(dir.join(file)) {
        Ok(text) => Some(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => {
            warnings.push(format!("cannot read {file} ({error}); it was not used"));
            Some(None)
        }
    }
}

fn string_at(table: Option<&toml::Value>, key: &str) -> Option<String> {
    table
        .and_then(|t| t.get(key))
        .and_then(|v| v.as_str())
        .map(String::from)
}

/// The last meaningful part of the `module` path of go.mod: `example.com/team/api/v2` is `api`.
fn go_module_name(go_mod: &str) -> Option<String> {
    let module = go_mod
        .lines()
        .find_map(|line| line.trim().strip_prefix("module "))?
        .trim()
        .trim_matches('"');
    module
        .rsplit('/')
        .find(|part| {
            let major_version = part.len() > 1
                && part.starts_with('v')
                && part[1..].bytes().all(|b| b.is_ascii_digit());
            !part.is_empty() && !major_version
        })
        .map(String::from)
}

/// A runbook name from a project name: lowercase letters, digits, `_` and `-` (the names the
/// runbook format accepts), other characters becoming `-`.
fn runbook_name(text: &str) -> String {
    let mut name = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
            c
        } else {
            '-'
        };
        if !(c == '-' && name.ends_with('-')) {
            name.push(c);
        }
    }
    name.trim_matches('-').to_string()
}

/// Whether a version found in a manifest can go into the runbook as it is: a plain version such
/// as 1.4.3 or 2.0.0-rc.1, with nothing a template or a tag name would choke on.
fn is_plain_version(version: &str) -> bool {
    !version.is_empty()
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'+')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_runbook_names() {
        assert_eq!(runbook_name("Billing API"), "billing-api");
        assert_eq!(runbook_name("my_crate"), "my_crate");
        assert_eq!(runbook_name("--Weird!!Name--"), "weird-name");
        assert_eq!(runbook_name("ÉTÉ"), "t");
        assert_eq!(runbook_name("日本"), "");
    }

    #[test]
    fn go_module_names_skip_major_versions() {
        assert_eq!(
            go_module_name("module example.com/team/api/v2\n\ngo 1.22\n").as_deref(),
            Some("api")
        );
        assert_eq!(
            go_module_name("// comment\nmodule tool\n").as_deref(),
            Some("tool")
        );
        assert_eq!(go_module_name("go 1.22\n"), None);
    }

    #[test]
    fn versions_must_be_plain() {
        assert!(is_plain_version("1.4.3"));
        assert!(is_plain_version("2.0.0-rc.1+build.5"));
        assert!(!is_plain_version("{{ evil }}"));
        assert!(!is_plain_version(""));
    }

    #[test]
    fn the_first_manifest_to_name_the_project_wins() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[workspace.package]\nversion = \"2.0.0\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"name": "@team/Web App", "version": "9.9.9", "scripts": {"test": "jest"}}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("go.mod"), "module example.com/svc/v3\n").unwrap();
        let (project, warnings) = Project::detect(dir.path());
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(project.name, "web-app");
        assert_eq!(project.version, "2.0.0");
        assert_eq!(
            project.kinds,
            [
                Kind::Rust,
                Kind::Node {
                    lint: false,
                    test: true
                },
                Kind::Go
            ]
        );
    }
}
