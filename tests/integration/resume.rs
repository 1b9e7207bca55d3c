//! Resume: what it compares with the runbook as it is now, what it asks, and that one failed
//! run is continued once however many engineers (or CI retries) resume it at the same time.

use crate::test::Test;

const WITH_CONFIG: &str = r#"[runbook]
name = "web"
dir = ".."

[[steps]]
id = "config"
config = { file = "config/staging.toml", against = "config/production.toml" }

[[steps]]
id = "deploy"
run = "echo deploy >> journal; test -f fixed"

[[steps]]
id = "announce"
run = "echo announce >> journal"
idempotent = false
"#;

fn with_config() -> Test {
    let test = Test::new().runbook("web", WITH_CONFIG);
    test.write("config/staging.toml", "[database]\nurl = \"a\"\n");
    test.write("config/production.toml", "[database]\nurl = \"b\"\n");
    test
}

#[test]
fn a_config_step_planned_from_a_relative_path_is_not_a_change() {
    let test = with_config();
    test.shipbook(&["run", "runbooks/web.toml"]).code(1);
    test.write("fixed", "");
    // From another directory too: the plan does not depend on where shipbook was started.
    let mut resume = std::process::Command::new(env!("CARGO_BIN_EXE_shipbook"));
    let output = resume
        .args(["resume", "last"])
        .current_dir(test.join("config"))
        .env_remove("SHIPBOOK_STATE_DIR")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("changed since"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(test.read("journal"), "deploy\ndeploy\nannounce\n");
}

#[test]
fn resume_without_a_terminal_names_the_question_it_cannot_ask() {
    let test = Test::new().runbook(
        "web",
        &WITH_CONFIG
            .replace("idempotent = false\n", "")
            .replace("id = \"deploy\"", "id = \"deploy\"\nidempotent = false"),
    );
    test.write("config/staging.toml", "[database]\nurl = \"a\"\n");
    test.write("config/production.toml", "[database]\nurl = \"b\"\n");
    test.shipbook(&["run", "runbooks/web.toml"]).code(1);
    test.write("fixed", "");
    test.shipbook(&["resume", "last"])
        .code(3)
        .stderr_has("step `deploy` asks a person")
        .stderr_has("is not idempotent and may have partly run before. Run it again?")
        .stderr_has("--yes");
    assert_eq!(test.last_run()["status"], "failed", "nothing was recorded");
    test.shipbook(&["resume", "last", "--yes"]).success();
}

#[test]
fn concurrent_resumes_of_one_run_continue_it_once() {
    let runbook = r#"[runbook]
name = "web"
dir = ".."

[[steps]]
id = "one"
run = "echo one >> journal"

[[steps]]
id = "two"
run = "test -f fixed && echo two >> journal"

[[steps]]
id = "three"
run = "echo three >> journal"
"#;
    for trial in 0..3 {
        let test = Test::new().runbook("web", runbook);
        test.shipbook(&["run", "runbooks/web.toml"]).code(1);
        test.write("fixed", "");
        let children: Vec<_> = (0..10).map(|_| test.spawn(&["resume", "last"])).collect();
        let mut codes = Vec::new();
        let mut outputs = String::new();
        for child in children {
            let output = child.wait_with_output().unwrap();
            codes.push(output.status.code().unwrap_or(-1));
            outputs.push_str(&String::from_utf8_lossy(&output.stderr));
        }
        assert!(
            codes.iter().all(|code| *code == 0 || *code == 4),
            "trial {trial}: every resume exits 0 (nothing left) or 4 (locked): {codes:?}\n{outputs}"
        );
        assert_eq!(
            test.read("journal"),
            "one\ntwo\nthree\n",
            "trial {trial}: the rest ran exactly once ({codes:?})\n{outputs}"
        );
        let record = test.last_run();
        assert_eq!(record["status"], "succeeded");
        assert_eq!(record["resumed"].as_array().unwrap().len(), 1, "{record:#}");
    }
}
