//! `history`, `show` and `note`, and how a RUN_ID is found.

use crate::test::Test;

const RUNBOOK: &str = "[runbook]\nname = \"web\"\n\n[[steps]]\nid = \"a\"\nrun = \"echo hi\"\n";

fn with_runs(count: usize) -> Test {
    let test = Test::new()
        .runbook("web", RUNBOOK)
        .runbook("api", &RUNBOOK.replace("\"web\"", "\"api\""));
    for _ in 0..count {
        test.shipbook(&["run", "runbooks/web.toml"]).success();
    }
    test.shipbook(&["run", "runbooks/api.toml"]).success();
    test
}

#[test]
fn history_lists_runs_newest_first() {
    let test = with_runs(2);
    let runs = test.shipbook(&["history", "--json"]).success().json();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0]["runbook"], "api");
    assert_eq!(runs[0]["status"], "succeeded");
    let web = test
        .shipbook(&["history", "--runbook", "web", "--limit", "1", "--json"])
        .success()
        .json();
    assert_eq!(web.as_array().unwrap().len(), 1);
    assert_eq!(web[0]["runbook"], "web");
    test.shipbook(&["history"])
        .success()
        .stdout_has("RUN")
        .stdout_has("succeeded");
}

#[test]
fn history_without_any_run_says_so() {
    Test::new()
        .shipbook(&["history"])
        .success()
        .stderr_has("no runs recorded yet in ");
}

#[test]
fn show_accepts_full_ids_prefixes_and_last() {
    let test = with_runs(1);
    let last = test.last_run();
    let id = last["run_id"].as_str().unwrap();
    assert_eq!(last["runbook"], "api");
    let full = test.shipbook(&["show", id, "--json"]).success().json();
    assert_eq!(full["run_id"], id);
    assert_eq!(full["steps"][0]["id"], "a");
    assert!(full["steps"][0]["duration_ms"].is_u64());

    // The time part is shared by runs of the same second; the runbook name makes it unique.
    let prefix = &id[..id.len() - 3];
    test.shipbook(&["show", prefix, "--json"]).success();
    test.shipbook(&["show", id])
        .success()
        .stdout_has(&format!("run {id} succeeded"))
        .stdout_has("✓ a");
}

#[test]
fn an_unknown_or_ambiguous_run_id_is_refused() {
    let test = with_runs(2);
    test.shipbook(&["show", "nope"])
        .code(2)
        .stderr_has("no run matches `nope`")
        .stderr_has("shipbook history");
    test.shipbook(&["show", "2"])
        .code(2)
        .stderr_has("matches 3 runs");
    test.shipbook(&["note", "nope"]).code(2);
}

#[test]
fn note_prints_the_change_note_as_markdown_or_json() {
    let test = with_runs(1);
    test.shipbook(&["note", "last"])
        .success()
        .stdout_has("# api: succeeded");
    let json = test
        .shipbook(&["note", "last", "--format", "json"])
        .success()
        .json();
    assert_eq!(json["run"]["runbook"], "api");
    assert!(
        json["markdown"]
            .as_str()
            .unwrap()
            .starts_with("---\nrunbook: \"api\"\n")
    );
    assert_eq!(json["front_matter"]["runbook"], "api");
    assert!(crate::test::note_body(json["markdown"].as_str().unwrap()).starts_with("# api"));
}

#[test]
fn show_draws_a_timeline_with_retries_and_history_a_trend() {
    let test = Test::new().runbook(
        "web",
        "[runbook]\nname = \"web\"\ndir = \"..\"\n\n[[steps]]\nid = \"quick\"\nrun = \"true\"\n\n[[steps]]\nid = \"slow-and-flaky\"\nrun = \"sleep 0.3; test -f once || { touch once; exit 1; }\"\nretries = 1\nretry_delay = \"1ms\"\n",
    );
    test.shipbook(&["run", "runbooks/web.toml"]).success();
    let shown = test.shipbook(&["show", "last"]).success().stdout;
    let timeline: Vec<&str> = shown
        .lines()
        .skip_while(|l| !l.starts_with("timeline"))
        .take(3)
        .collect();
    assert_eq!(timeline.len(), 3, "{shown}");
    let bar = |line: &str| line.chars().filter(|&c| c == '█').count();
    assert!(timeline[1].trim_start().starts_with("quick"), "{shown}");
    assert!(
        bar(timeline[2]) > bar(timeline[1]),
        "the slow step has the longer bar:\n{shown}"
    );
    assert_eq!(bar(timeline[2]), 40, "{shown}");
    assert!(timeline[2].contains("↻×1"), "retries are visible:\n{shown}");

    test.shipbook(&["run", "runbooks/web.toml"]).success();
    test.shipbook(&["history", "--runbook", "web"])
        .success()
        .stdout_has("trend of total duration, run without --env, oldest to newest: ");
}

#[test]
fn history_draws_one_trend_per_mode_and_environment() {
    let test = Test::new().runbook(
        "web",
        "[runbook]\nname = \"web\"\n\n[environments.staging]\n[environments.production]\n\n\
         [[steps]]\nid = \"a\"\nrun = \"true\"\n\n[rollback]\nrun = \"true\"\n",
    );
    for args in [
        &["rehearse", "runbooks/web.toml", "--env", "staging", "--yes"][..],
        &["run", "runbooks/web.toml", "--env", "production", "--yes"],
        &["rehearse", "runbooks/web.toml", "--env", "staging", "--yes"],
        &["run", "runbooks/web.toml", "--env", "production", "--yes"],
        &[
            "rollback",
            "runbooks/web.toml",
            "--env",
            "production",
            "--yes",
        ],
        &["run", "runbooks/web.toml", "--env", "staging", "--yes"],
    ] {
        test.shipbook(args).success();
    }
    let history = test
        .shipbook(&["history", "--runbook", "web"])
        .success()
        .stdout;
    let trends: Vec<&str> = history
        .lines()
        .filter(|line| line.starts_with("trend of total duration"))
        .collect();
    // Two rehearsals in staging and two releases to production make a trend each; the one
    // rollback and the one release to staging are too few for one.
    assert_eq!(trends.len(), 2, "{history}");
    assert!(
        trends[0].starts_with("trend of total duration, run in production, oldest to newest: "),
        "{history}"
    );
    assert!(
        trends[1].starts_with("trend of total duration, rehearsal in staging, oldest to newest: "),
        "{history}"
    );
    for trend in trends {
        let spark = trend
            .split(": ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        assert_eq!(spark.chars().count(), 2, "two runs in each: {trend}");
    }
}
