//! The `tag` action: real annotated tags in a real repository, idempotent, pushed, undone.

use crate::test::{Test, git};

fn runbook(tag: &str) -> String {
    format!(
        r#"[runbook]
name = "web"
dir = ".."

[vars]
version = "1.2.0"

[[steps]]
id = "tag"
tag = {tag}
"#
    )
}

fn committed(tag: &str) -> Test {
    let test = Test::new().runbook("web", &runbook(tag));
    test.commit("runbook");
    test
}

#[test]
fn a_tag_is_created_at_head_and_visible_to_git() {
    let test = committed(r#"{ name = "v{{ version }}", message = "web {{ version }}" }"#);
    test.shipbook(&["run", "runbooks/web.toml"]).success();
    let listed = git(test.path(), &["tag", "-n"]);
    assert!(
        listed.contains("v1.2.0") && listed.contains("web 1.2.0"),
        "{listed}"
    );
    let tagged = git(test.path(), &["rev-parse", "v1.2.0^{commit}"]);
    assert_eq!(tagged, git(test.path(), &["rev-parse", "HEAD"]));
    assert_eq!(
        git(test.path(), &["cat-file", "-t", "v1.2.0"]),
        "tag",
        "annotated"
    );
    let record = test.last_run();
    assert_eq!(record["steps"][0]["tag"]["name"], "v1.2.0");
    assert_eq!(record["steps"][0]["tag"]["created"], true);
    let note = test.shipbook(&["note", "last"]).success();
    assert!(note.stdout.contains("## Tag"), "{}", note.stdout);
    assert!(note.stdout.contains("`v1.2.0` at"), "{}", note.stdout);

    // Running again finds the tag at HEAD: success, not a failure.
    test.shipbook(&["run", "runbooks/web.toml"])
        .success()
        .stderr_has("already tagged v1.2.0");
}

#[test]
fn a_tag_at_another_commit_is_refused_naming_both() {
    let test = committed(r#"{ name = "v{{ version }}" }"#);
    git(test.path(), &["tag", "-a", "v1.2.0", "-m", "old"]);
    test.write("change.txt", "new\n");
    test.commit("another commit");
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("tag v1.2.0 already exists at ")
        .stderr_has("but HEAD is ");
}

#[test]
fn a_name_git_rejects_is_a_validation_error() {
    let test = Test::new().runbook("web", &runbook(r#"{ name = "bad..name" }"#));
    test.shipbook(&["check", "runbooks/web.toml"])
        .code(2)
        .stderr_has("`bad..name` is not a tag name git accepts")
        .stderr_has("runbooks/web.toml:10:7");
    let rendered = Test::new().runbook("web", &runbook(r#"{ name = "v{{ version }}" }"#));
    rendered
        .shipbook(&["plan", "runbooks/web.toml", "--var", "version=1 2"])
        .code(2)
        .stderr_has("`v1 2` is not a tag name git accepts");
}

#[test]
fn outside_a_repository_or_without_a_commit_the_step_fails_clearly() {
    let bare = Test::bare().runbook("web", &runbook(r#"{ name = "v1" }"#));
    bare.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("is not in a git repository; a tag step needs one");

    let unborn = Test::bare().runbook("web", &runbook(r#"{ name = "v1" }"#));
    git(unborn.path(), &["init", "-q", "-b", "main"]);
    unborn
        .shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("HEAD has no commit yet");
}

#[test]
fn push_to_a_remote_and_undo_removes_it_there_too() {
    let remote = Test::bare();
    git(remote.path(), &["init", "-q", "--bare"]);
    let test = Test::new().runbook(
        "web",
        &format!(
            "{}\n[[steps]]\nid = \"deploy\"\nrun = \"exit 1\"\n",
            runbook(r#"{ name = "v{{ version }}", push = true }"#)
                .replace("[runbook]\n", "[runbook]\non_failure = \"undo\"\n")
        ),
    );
    test.commit("runbook");
    git(
        test.path(),
        &["remote", "add", "origin", remote.path().to_str().unwrap()],
    );

    test.shipbook(&["run", "runbooks/web.toml", "--only", "tag"])
        .success();
    assert!(git(remote.path(), &["tag"]).contains("v1.2.0"), "pushed");
    assert_eq!(test.last_run()["steps"][0]["tag"]["pushed"], "origin");

    // A failing run after the tag undoes it: the tag goes, here and on the remote. The tag
    // existed before this run, so it is left alone...
    test.shipbook(&["run", "runbooks/web.toml"]).code(1);
    assert!(
        git(test.path(), &["tag"]).contains("v1.2.0"),
        "pre-existing tags stay"
    );

    // ...but one created by the failing run itself is removed everywhere.
    git(test.path(), &["tag", "-d", "v1.2.0"]);
    git(test.path(), &["push", "-q", "origin", ":refs/tags/v1.2.0"]);
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("undone");
    assert!(
        !git(test.path(), &["tag"]).contains("v1.2.0"),
        "deleted here"
    );
    assert!(
        !git(remote.path(), &["tag"]).contains("v1.2.0"),
        "deleted on the remote"
    );
    let record = test.last_run();
    assert_eq!(record["steps"][0]["status"], "undone");
    assert_eq!(record["steps"][2]["id"], "undo-tag");
    assert_eq!(record["steps"][2]["phase"], "undo");
}

#[test]
fn a_failed_push_fails_the_step_and_keeps_the_local_tag() {
    let test = committed(r#"{ name = "v{{ version }}", push = true, remote = "nowhere" }"#);
    git(
        test.path(),
        &["remote", "add", "nowhere", "/nonexistent/repository"],
    );
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("push of v1.2.0 to nowhere failed")
        .stderr_has("the local tag stays");
    assert!(git(test.path(), &["tag"]).contains("v1.2.0"));
}

#[test]
fn a_missing_identity_is_explained() {
    let test = committed(r#"{ name = "v1" }"#);
    git(test.path(), &["config", "--unset", "user.name"]);
    git(test.path(), &["config", "--unset", "user.email"]);
    let home = test.path().to_str().unwrap().to_string();
    let mut test = test
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", &home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(&["run", "runbooks/web.toml"]);
    test.run().code(1).stderr_has("no git identity");
}
