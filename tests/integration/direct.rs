//! The direct path: a string command made only of plain words runs without the shell, and
//! behaves as the shell would have run it; anything else goes through the shell as written.

use std::os::unix::fs::PermissionsExt;

use crate::test::Test;

/// A project whose runbook's shell is a stand-in `sh` that notes each command it is given in
/// `shell.log`, then runs it with the real shell: what is in the log went through the shell.
fn project(steps: &str, shell_always: bool) -> Test {
    let test = Test::new();
    test.write(
        "fake/sh",
        "#!/bin/sh\nprintf '%s\\n' \"$2\" >> \"$(dirname \"$0\")/../shell.log\"\nexec /bin/sh \"$@\"\n",
    );
    let fake = test.join("fake/sh");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let runbook = format!(
        "[runbook]\nname = \"web\"\ndir = \"..\"\nshell = [\"{}\", \"-c\"]\nshell_always = {shell_always}\n\n{steps}",
        fake.display()
    );
    let test = test.runbook("web", &runbook);
    test.write(".gitignore", "shell.log\nout\nsub/\n");
    test.commit("runbook");
    test
}

fn through_the_shell(test: &Test) -> Vec<String> {
    std::fs::read_to_string(test.join("shell.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

const MIXED: &str = r#"[[steps]]
id = "plain"
run = "touch out"

[[steps]]
id = "syntax"
run = "echo $HOME > /dev/null"

[[steps]]
id = "builtin"
run = "cd ."
"#;

#[test]
fn plain_words_skip_the_shell_and_the_rest_goes_through_it() {
    let test = project(MIXED, false);
    test.shipbook(&["run", "runbooks/web.toml", "--yes"])
        .success();
    assert!(test.join("out").exists(), "the plain step ran");
    assert_eq!(
        through_the_shell(&test),
        ["echo $HOME > /dev/null", "cd ."],
        "only the commands the shell must read went through it"
    );
}

#[test]
fn shell_always_sends_every_command_through_the_shell() {
    let test = project(MIXED, true);
    test.shipbook(&["run", "runbooks/web.toml", "--yes"])
        .success();
    assert_eq!(
        through_the_shell(&test),
        ["touch out", "echo $HOME > /dev/null", "cd ."]
    );
}

#[test]
fn a_lifted_command_fails_as_the_shell_would() {
    let test = project(
        r#"[[steps]]
id = "missing"
run = "no-such-program --flag"
continue_on_error = true

[[steps]]
id = "denied"
run = "./not-executable"
continue_on_error = true

[[steps]]
id = "exits"
run = "false"
continue_on_error = true
"#,
        false,
    );
    test.write("not-executable", "x\n");
    test.shipbook(&["run", "runbooks/web.toml", "--yes"])
        .success();
    let record = test.last_run();
    let steps = record["steps"].as_array().unwrap();
    let (missing, denied, exits) = (&steps[0], &steps[1], &steps[2]);
    assert_eq!(missing["exit_code"], 127);
    assert!(
        missing["detail"]
            .as_str()
            .unwrap()
            .contains("sh: 1: no-such-program: not found"),
        "{missing}"
    );
    assert_eq!(denied["exit_code"], 126);
    assert!(
        denied["detail"]
            .as_str()
            .unwrap()
            .contains("sh: 1: ./not-executable: Permission denied"),
        "{denied}"
    );
    assert_eq!(exits["exit_code"], 1);
    assert!(through_the_shell(&test).is_empty());
}

#[test]
fn a_script_without_a_shebang_and_the_working_directory_are_as_in_the_shell() {
    let test = project(
        r#"[[steps]]
id = "script"
run = "./no-shebang.sh first"

[[steps]]
id = "where"
dir = "sub"
run = "env"
"#,
        false,
    );
    test.write("no-shebang.sh", "echo \"script ran with $1\" > out\n");
    std::fs::set_permissions(
        test.join("no-shebang.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    test.write("sub/.keep", "");
    test.shipbook(&["run", "runbooks/web.toml", "--yes", "-v"])
        .success()
        .stderr_has(&format!("PWD={}", test.join("sub").display()));
    // The kernel cannot run a file without `#!`; the shell runs it as a script.
    assert_eq!(test.read("out"), "script ran with first\n");
    assert_eq!(through_the_shell(&test), ["./no-shebang.sh first"]);
}

#[test]
fn a_function_exported_to_the_shell_is_run_by_the_shell() {
    let mut test = project(
        r#"[[steps]]
id = "deploy"
run = "deploy-it now"
"#,
        false,
    )
    .env("BASH_FUNC_deploy-it%%", "() {  touch out; }")
    .args(&["run", "runbooks/web.toml", "--yes"]);
    // The stand-in shell hands it to dash, which knows no exported functions: what matters is
    // that the command went through the shell, as bash would have run the function.
    let _ = test.run();
    assert_eq!(through_the_shell(&test), ["deploy-it now"]);
}

#[test]
fn the_program_is_looked_up_at_each_step_from_the_steps_directory() {
    let test = project(
        r#"[[steps]]
id = "old"
run = "tool"
env = { PATH = "p1:p2:/usr/bin:/bin" }

[[steps]]
id = "install"
run = ["sh", "-c", "printf '#!/bin/sh\\necho new >> out\\n' > p1/tool; chmod +x p1/tool"]

[[steps]]
id = "new"
run = "tool"
env = { PATH = "p1:p2:/usr/bin:/bin" }

[[steps]]
id = "name"
run = "cat /proc/self/cmdline"
"#,
        false,
    );
    test.write("p1/.keep", "");
    test.write("p2/tool", "#!/bin/sh\necho old >> out\n");
    std::fs::set_permissions(test.join("p2/tool"), std::fs::Permissions::from_mode(0o755)).unwrap();
    test.shipbook(&["run", "runbooks/web.toml", "--yes"])
        .success();
    // A tool installed by a step, earlier on PATH, is the one the next step runs, as a new
    // shell would find it; the relative PATH entries are the step's directory's.
    assert_eq!(test.read("out"), "old\nnew\n");
    // The program sees its name as written, not the path it was found at.
    let log =
        std::fs::read_to_string(test.last_run()["steps"][3]["log"].as_str().unwrap()).unwrap();
    assert!(log.starts_with("cat\0/proc/self/cmdline"), "{log:?}");
    assert!(through_the_shell(&test).is_empty());
}

#[test]
fn bash_with_a_startup_file_runs_every_command_itself() {
    let test = Test::new();
    test.write("bashenv", "PATH=\"$PWD/tools:$PATH\"\n");
    test.write("tools/mytool", "#!/bin/sh\necho from-bash-env > out\n");
    std::fs::set_permissions(
        test.join("tools/mytool"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let mut test = test
        .runbook(
            "web",
            "[runbook]\nname = \"web\"\ndir = \"..\"\nshell = [\"bash\", \"-c\"]\n\n[[steps]]\nid = \"a\"\nrun = \"mytool\"\n",
        )
        .args(&["run", "runbooks/web.toml", "--yes"]);
    let bash_env = test.join("bashenv").display().to_string();
    test = test.env("BASH_ENV", &bash_env);
    test.run().success();
    assert_eq!(test.read("out"), "from-bash-env\n");
}
