//! The change note: a snapshot of the whole document, with times and ids normalised.

use crate::test::{Test, git, normalize};

#[test]
fn the_change_note_has_everything_the_next_engineer_needs() {
    let test = Test::new().runbook(
        "web",
        r#"[runbook]
name = "web"
description = "Ship the web front end"
owner = "web team"
expected = "pages load under 200 ms"
reason = "New landing page"

[vars]
version = "3.1.0"

[environments.staging]

[[steps]]
id = "build"
name = "Build"
run = "echo building {{ version }}"

[[steps]]
id = "flaky"
run = "test -f once || { touch once; echo 'first try fails' >&2; exit 1; }"
retries = 1
retry_delay = "1ms"

[[steps]]
id = "approve"
confirm = "Deploy {{ version }}?"

[[steps]]
id = "prod-only"
run = "true"
only = ["production"]

[environments.production]

[[steps]]
id = "deploy"
run = "echo deploying | tee /dev/stderr; exit 2"

[rollback]
note = "Redeploy the previous tag."
run = "./deploy.sh {{ env }} {{ git.previous_tag }}"
"#,
    );
    test.write("src/app.js", "console.log('v1')\n");
    test.commit("first version");
    git(test.path(), &["tag", "-a", "v3.0.0", "-m", "v3.0.0"]);
    test.write("src/app.js", "console.log('v2')\n");
    test.write("src/landing.html", "<h1>hi</h1>\n");
    test.commit("landing page");

    test.shipbook(&["run", "runbooks/web.toml", "--env", "staging", "--yes"])
        .code(1);
    let note = test.shipbook(&["note", "last"]).success();
    insta::assert_snapshot!(normalize(&note.stdout, &test));
    let written = std::fs::read_to_string(test.last_run()["note"].as_str().unwrap()).unwrap();
    assert_eq!(written, note.stdout, "the file and `shipbook note` agree");
}
