//! Many shipbooks at once on one state directory: creating the record store, and the lock.

use crate::test::Test;

#[test]
fn concurrent_runs_on_a_fresh_state_directory_are_either_run_or_locked() {
    let runbook = "[runbook]\nname = \"web\"\ndir = \"..\"\n\n[[steps]]\nid = \"a\"\nrun = \"echo a >> journal\"\n";
    for trial in 0..2 {
        let test = Test::new().runbook("web", runbook);
        let children: Vec<_> = (0..20)
            .map(|_| test.spawn(&["run", "runbooks/web.toml"]))
            .collect();
        let mut codes = Vec::new();
        let mut outputs = String::new();
        for child in children {
            let output = child.wait_with_output().unwrap();
            codes.push(output.status.code().unwrap_or(-1));
            outputs.push_str(&String::from_utf8_lossy(&output.stderr));
        }
        assert!(
            codes.iter().all(|code| *code == 0 || *code == 4),
            "trial {trial}: each run ran (0) or found the lock taken (4): {codes:?}\n{outputs}"
        );
        let ran = codes.iter().filter(|code| **code == 0).count();
        assert!(ran >= 1, "trial {trial}: {codes:?}");
        assert_eq!(test.read("journal").lines().count(), ran, "trial {trial}");
        let history = test.shipbook(&["history", "--json"]).success().json();
        assert_eq!(history.as_array().unwrap().len(), ran, "trial {trial}");
    }
}
