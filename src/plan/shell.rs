//! How a string command runs: through the runbook's shell, or, when it is made only of plain
//! words, directly, as make runs a recipe line without shell syntax.
//!
//! Starting `sh -c true` costs a second program (the shell) for every step; most steps of a
//! release are a program and some arguments (`cargo test --locked`, `./deploy.sh staging`),
//! where the shell only splits the words and looks the program up in PATH. shipbook does that
//! itself when nothing in the command could mean anything else to a POSIX shell, and the
//! process runner then answers as the shell would (127 and "not found", 126 for a file that is
//! not executable). Anything else (quotes, `$`, globs, redirections, pipes, `;`, `&`, `~`, an
//! assignment, a newline, a built-in or keyword of the shell) goes through the shell as written.

use super::ResolvedCommand;

/// The runbook's shell, and whether plain-word commands may skip it.
#[derive(Debug, Clone)]
pub struct Shell {
    /// The program and its flags, to which the command is appended (`["sh", "-c"]`).
    pub argv: Vec<String>,
    /// Whether plain-word commands run directly: the shell is a POSIX shell with flags that
    /// change nothing for a single simple command, and `shell_always` is not set.
    pub lifts_plain_words: bool,
}

impl Shell {
    pub fn new(argv: Vec<String>, shell_always: bool) -> Shell {
        let lifts_plain_words = !shell_always && is_plain_posix_shell(&argv);
        Shell {
            argv,
            lifts_plain_words,
        }
    }

    /// The command that runs `script`: its words alone when they are plain, else the shell with
    /// the script as its last argument. `display` is what people are shown.
    pub fn command(&self, script: String, display: String) -> ResolvedCommand {
        let words = if self.lifts_plain_words {
            plain_words(&script)
        } else {
            None
        };
        let mut through_shell = self.argv.clone();
        through_shell.push(script);
        match words {
            Some(words) => ResolvedCommand {
                argv: words,
                display,
                shell_argv: Some(through_shell),
            },
            None => ResolvedCommand {
                argv: through_shell,
                display,
                shell_argv: None,
            },
        }
    }
}

/// Whether `argv` is a POSIX shell called as `SHELL [FLAGS] -c`, with flags that cannot change
/// what one simple command does: `-e`, `-u`, and `-o` with `errexit`, `nounset` or `pipefail`
/// (`-x` would print the command, so a shell with it keeps every command).
fn is_plain_posix_shell(argv: &[String]) -> bool {
    let Some((program, flags)) = argv.split_first() else {
        return false;
    };
    let name = program.rsplit('/').next().unwrap_or(program);
    // zsh is not among them: it reads `.zshenv` before every command, so a command of plain
    // words may mean something else there.
    if !matches!(name, "sh" | "bash" | "dash" | "ash" | "ksh" | "mksh") {
        return false;
    }
    let Some((last, before)) = flags.split_last() else {
        return false;
    };
    let letters_ok = |flag: &str, last: char| {
        flag.strip_prefix('-').is_some_and(|letters| {
            letters.ends_with(last)
                && letters[..letters.len() - 1]
                    .chars()
                    .all(|c| matches!(c, 'e' | 'u'))
        })
    };
    if !letters_ok(last, 'c') {
        return false;
    }
    let mut flags = before.iter();
    while let Some(flag) = flags.next() {
        if flag.ends_with('o') && letters_ok(flag, 'o') {
            match flags.next().map(String::as_str) {
                Some("errexit" | "nounset" | "pipefail") => continue,
                _ => return false,
            }
        }
        let only_e_and_u = flag.strip_prefix('-').is_some_and(|letters| {
            !letters.is_empty() && letters.chars().all(|c| matches!(c, 'e' | 'u'))
        });
        if !only_e_and_u {
            return false;
        }
    }
    true
}

/// The shell's built-ins that no program on PATH stands in for, or that act on the shell
/// itself, and its reserved words: a command starting with one of them goes through the shell.
const SHELL_WORDS: &[&str] = &[
    // Reserved words.
    "!",
    "{",
    "}",
    "case",
    "do",
    "done",
    "elif",
    "else",
    "esac",
    "fi",
    "for",
    "function",
    "if",
    "in",
    "select",
    "then",
    "time",
    "until",
    "while",
    "[[",
    "]]",
    // Built-ins.
    ".",
    ":",
    "alias",
    "bg",
    "break",
    "builtin",
    "cd",
    "command",
    "continue",
    "declare",
    "dirs",
    "disown",
    "echo",
    "enable",
    "eval",
    "exec",
    "exit",
    "export",
    "fc",
    "fg",
    "getopts",
    "hash",
    "help",
    "history",
    "jobs",
    "kill",
    "let",
    "local",
    "logout",
    "mapfile",
    "popd",
    "printf",
    "pushd",
    "pwd",
    "read",
    "readarray",
    "readonly",
    "return",
    "set",
    "shift",
    "shopt",
    "source",
    "suspend",
    "test",
    "[",
    "times",
    "trap",
    "type",
    "typeset",
    "ulimit",
    "umask",
    "unalias",
    "unset",
    "wait",
];

/// Whether bash would find `name` as a function exported into its environment (`export -f`),
/// which it runs in place of a program of that name.
fn exported_function(name: &str) -> bool {
    std::env::var_os(format!("BASH_FUNC_{name}%%")).is_some()
}

/// The words of `script` when every one is plain: letters, digits and `-_./,:+@%`, and `=`
/// after the first word. `None` for anything a shell would read differently.
fn plain_words(script: &str) -> Option<Vec<String>> {
    let words: Vec<&str> = script
        .split([' ', '\t'])
        .filter(|word| !word.is_empty())
        .collect();
    let (first, rest) = words.split_first()?;
    let plain = |word: &str, equals: bool| {
        word.bytes().all(|byte| {
            byte.is_ascii_alphanumeric()
                || matches!(
                    byte,
                    b'-' | b'_' | b'.' | b'/' | b',' | b':' | b'+' | b'@' | b'%'
                )
                || (equals && byte == b'=')
        })
    };
    if !plain(first, false) || SHELL_WORDS.contains(first) || exported_function(first) {
        return None;
    }
    if !rest.iter().all(|word| plain(word, true)) {
        return None;
    }
    Some(words.iter().map(|word| (*word).to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(argv: &[&str]) -> Shell {
        Shell::new(argv.iter().map(|s| (*s).to_string()).collect(), false)
    }

    #[test]
    fn plain_words_run_directly() {
        let sh = shell(&["sh", "-c"]);
        for (script, argv) in [
            ("true", vec!["true"]),
            ("cargo test --locked", vec!["cargo", "test", "--locked"]),
            (
                "./deploy.sh  staging\tv1.2.0",
                vec!["./deploy.sh", "staging", "v1.2.0"],
            ),
            ("make -j4 CC=clang", vec!["make", "-j4", "CC=clang"]),
            (
                "curl -fsS http://localhost:8080/health",
                vec!["curl", "-fsS", "http://localhost:8080/health"],
            ),
        ] {
            let command = sh.command(script.into(), script.into());
            assert_eq!(command.argv, argv, "{script}");
            assert_eq!(
                command.shell_argv,
                Some(vec!["sh".to_string(), "-c".to_string(), script.to_string()])
            );
        }
    }

    #[test]
    fn anything_the_shell_would_read_differently_goes_through_it() {
        let sh = shell(&["sh", "-c"]);
        for script in [
            "echo hi",
            "cd dir",
            "exit 3",
            "export A=1",
            "A=1 make",
            "ls *.rs",
            "ls file?",
            "cat ~/x",
            "echo $HOME",
            "echo 'quoted'",
            "echo \"quoted\"",
            "a\\ b",
            "a > out",
            "a < in",
            "a | b",
            "a; b",
            "a && b",
            "a &",
            "a\nb",
            "a # comment",
            "(a)",
            "{ a; }",
            "a `b`",
            "if",
            "time make",
            "[ -f x ]",
            "",
            "   ",
            "ünïcode",
        ] {
            let command = sh.command(script.into(), script.into());
            assert_eq!(command.argv, vec!["sh", "-c", script], "{script:?}");
            assert_eq!(command.shell_argv, None, "{script:?}");
        }
    }

    #[test]
    fn only_a_posix_shell_with_harmless_flags_is_skipped() {
        for argv in [
            &["sh", "-c"][..],
            &["/bin/bash", "-c"],
            &["bash", "-eu", "-c"],
            &["bash", "-euo", "pipefail", "-c"],
            &["bash", "-e", "-o", "pipefail", "-c"],
            &["bash", "-ec"],
        ] {
            assert!(shell(argv).lifts_plain_words, "{argv:?}");
        }
        for argv in [
            &["sh"][..],
            &["sh", "-x", "-c"],
            &["bash", "-xc"],
            &["bash", "-o", "xtrace", "-c"],
            &["bash", "--login", "-c"],
            &["fish", "-c"],
            &["zsh", "-c"],
            &["pwsh", "-Command"],
            &["python3", "-c"],
            &["bash", "-c", "extra"],
        ] {
            assert!(!shell(argv).lifts_plain_words, "{argv:?}");
        }
        let always = Shell::new(vec!["sh".into(), "-c".into()], true);
        assert!(!always.lifts_plain_words);
    }
}
