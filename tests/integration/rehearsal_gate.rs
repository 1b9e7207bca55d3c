//! The rehearsal gate: which rehearsal lets a run go ahead in an environment with
//! `requires_rehearsal`, and what the refusal says when none does.

use crate::test::{Test, git};

const GATED: &str = r#"[runbook]
name = "web"
dir = ".."

[vars]
version = "1.0.0"

[environments.staging]
[environments.production]
requires_rehearsal = "staging"

[[steps]]
id = "build"
run = "echo build-{{ env }}-{{ version }} >> journal"

[[steps]]
id = "config-drift"
run = "echo drift-{{ env }} >> journal"

[[steps]]
id = "deploy"
run = "echo deploy-{{ env }} >> journal"

[rollback]
run = "test ! -f break-rollback && echo rollback-{{ env }} >> journal"
"#;

fn gated() -> Test {
    let test = Test::new().runbook("web", GATED);
    test.write(".gitignore", "journal\nbreak-rollback\n");
    test.commit("runbook");
    test
}

fn production(test: &Test, extra: &[&str]) -> crate::test::Run {
    let mut args = vec!["run", "runbooks/web.toml", "--env", "production"];
    args.extend_from_slice(extra);
    test.shipbook(&args)
}

fn rehearse(test: &Test, extra: &[&str]) -> crate::test::Run {
    let mut args = vec!["rehearse", "runbooks/web.toml", "--env", "staging"];
    args.extend_from_slice(extra);
    test.shipbook(&args)
}

fn journal(test: &Test) -> String {
    std::fs::read_to_string(test.join("journal")).unwrap_or_default()
}

#[test]
fn a_partial_rehearsal_does_not_count() {
    let test = gated();
    rehearse(&test, &["--only", "config-drift"]).success();
    production(&test, &[])
        .code(1)
        .stderr_has("partial selection (--only config-drift)")
        .stderr_has("`build`, `deploy` were not rehearsed");
    assert!(!journal(&test).contains("production"), "no step ran");

    rehearse(&test, &[]).success();
    production(&test, &[]).success();
    assert!(journal(&test).contains("deploy-production"));
}

#[test]
fn a_rehearsal_with_other_variables_does_not_count() {
    let test = gated();
    rehearse(&test, &["--var", "version=2.0.0"]).success();
    production(&test, &[])
        .code(1)
        .stderr_has("other variables (--var version=2.0.0 there; none here)");
    production(&test, &["--var", "version=2.1.0"])
        .code(1)
        .stderr_has("other variables (--var version=2.0.0 there; --var version=2.1.0 here)");
    assert!(!journal(&test).contains("production"), "no step ran");
    production(&test, &["--var", "version=2.0.0"]).success();
    assert!(journal(&test).contains("build-production-2.0.0"));
}

#[test]
fn a_run_from_a_dirty_tree_was_never_rehearsed() {
    // No `[git] require_clean`: the gate alone must see that the code differs.
    let test = gated();
    rehearse(&test, &[]).success();
    test.write("README.md", "changed after the rehearsal\n");
    production(&test, &[])
        .code(1)
        .stderr_has("the working tree has uncommitted changes (README.md)")
        .stderr_has("was never rehearsed");
    assert!(!journal(&test).contains("production"), "no step ran");
    production(&test, &["--skip-rehearsal", "the README only"]).success();
}

#[test]
fn rehearse_then_run_works_with_notes_in_the_repository_and_a_clean_tree_required() {
    // The README's own settings: notes kept in the repository, a clean tree required.
    let test = Test::new().runbook(
        "web",
        &GATED.replace(
            "dir = \"..\"\n",
            "dir = \"..\"\nnotes_dir = \"../docs/releases\"\n\n[git]\nrequire_clean = true\n",
        ),
    );
    test.write(".gitignore", "journal\n.shipbook/\n");
    test.commit("runbook");
    rehearse(&test, &[]).success();
    let rehearsal = test.last_run()["run_id"].as_str().unwrap().to_string();
    assert!(test.join(&format!("docs/releases/{rehearsal}.md")).exists());
    production(&test, &[]).success();
    let run = test.last_run();
    assert_eq!(run["rehearsal"]["run_id"], rehearsal.as_str());
    // The next release goes the same way once the notes are committed.
    test.commit("release notes");
    rehearse(&test, &[]).success();
    production(&test, &[]).success();
}

#[test]
fn the_refusal_says_why_each_rehearsal_does_not_count() {
    let test = gated();
    production(&test, &[])
        .code(1)
        .stderr_has("no rehearsal of runbook `web` in `staging` is on record");

    // Another commit.
    rehearse(&test, &[]).success();
    test.write("feature.txt", "new\n");
    test.commit("new work");
    // A failed rollback.
    test.write("break-rollback", "");
    rehearse(&test, &[]).code(1);
    std::fs::remove_file(test.join("break-rollback")).unwrap();
    // Partial, and with other variables.
    rehearse(&test, &["--from", "deploy"]).success();
    rehearse(&test, &["--var", "version=9"]).success();
    // A dirty tree, which says at its end that it cannot count.
    test.write("scratch.txt", "uncommitted\n");
    rehearse(&test, &[])
        .success()
        .stderr_has("this rehearsal cannot let a run go ahead in `production`")
        .stderr_has("uncommitted changes (scratch.txt)");
    // A changed runbook, not committed.
    std::fs::remove_file(test.join("scratch.txt")).unwrap();
    std::fs::write(
        test.join("runbooks/web.toml"),
        GATED.replace("echo deploy-", "echo DEPLOY-"),
    )
    .unwrap();
    rehearse(&test, &[]).success();
    git(test.path(), &["checkout", "runbooks/web.toml"]);

    let refusal = production(&test, &[]).code(1).stderr;
    for reason in [
        "none of the 6 rehearsals of runbook `web` in `staging` on record counts",
        "the runbook changed since",
        "its working tree had uncommitted changes (runbooks/web.toml)",
        "its working tree had uncommitted changes (scratch.txt)",
        "other variables (--var version=9 there; none here)",
        "partial selection (--from deploy): `build`, `config-drift` were not rehearsed",
        "its rollback failed",
        "another commit (",
    ] {
        assert!(refusal.contains(reason), "{reason:?} not in:\n{refusal}");
    }
    assert!(!journal(&test).contains("production"), "no step ran");
}

#[test]
fn skipping_the_rehearsal_needs_a_reason() {
    let test = gated();
    for empty in ["", "  "] {
        production(&test, &["--skip-rehearsal", empty])
            .code(2)
            .stderr_has("--skip-rehearsal needs a reason");
    }
    assert!(!test.join("journal").exists(), "no step ran");
}
