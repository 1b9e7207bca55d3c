//! The state directory and everything in it are private to the user who runs shipbook (0700
//! and 0600), whatever the umask: its logs hold the output of release commands.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::test::Test;

const RUNBOOK: &str = r#"[runbook]
name = "web"

[[steps]]
id = "build"
run = "echo built"

[[steps]]
id = "fail"
run = "echo failing; exit 1"

[[metrics]]
name = "size"
command = "echo 42; echo measured >&2"
better = "lower"
"#;

/// Every path under `dir` (itself included) whose mode is not 0700 for a directory or 0600 for
/// a file, with its mode.
fn not_private(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
    if mode != 0o700 {
        found.push(format!("{} {mode:o}", dir.display()));
    }
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(not_private(&path));
        } else {
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            if mode != 0o600 {
                found.push(format!("{} {mode:o}", path.display()));
            }
        }
    }
    found
}

/// Runs shipbook under `umask`; returns its exit code and what it printed on stderr.
fn shipbook_with_umask(test: &Test, umask: &str, args: &[&str]) -> (i32, String) {
    let output = Command::new("sh")
        .args(["-c", &format!("umask {umask}; exec \"$@\""), "sh"])
        .arg(env!("CARGO_BIN_EXE_shipbook"))
        .args(args)
        .current_dir(test.path())
        .env_remove("SHIPBOOK_STATE_DIR")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("shipbook runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_state_directory_is_private_whatever_the_umask() {
    let test = Test::new().runbook("web", RUNBOOK);
    for umask in ["000", "022"] {
        let (code, stderr) = shipbook_with_umask(&test, umask, &["run", "runbooks/web.toml"]);
        assert_eq!(code, 1, "the run fails at its second step:\n{stderr}");
        let state = test.join(".shipbook");
        assert!(state.join("notes").is_dir() && state.join("logs").is_dir());
        assert_eq!(not_private(&state), Vec::<String>::new(), "umask {umask}");
    }
}

#[test]
fn a_state_directory_open_to_others_is_made_private() {
    let test = Test::new().runbook("web", RUNBOOK);
    let state = test.join(".shipbook");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (code, stderr) = shipbook_with_umask(&test, "000", &["run", "runbooks/web.toml"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(not_private(&state), Vec::<String>::new());
}
