//! No process a step starts outlives the step, whatever its process group, unless it started a
//! new session.
//!
//! A step runs in a process group of its own, and signalling that group reaches most of what the
//! step starts. But a process can leave the group without leaving the step: a shell with job
//! control (`set -m`) puts each background job in a group of its own, and helpers such as
//! coreutils `timeout` make one for the command they run. When the step's own process exits,
//! such a process would be adopted by init, out of shipbook's reach. So a run makes shipbook a
//! child subreaper (Linux's `PR_SET_CHILD_SUBREAPER`): whatever a step leaves behind is adopted
//! by shipbook instead, and is found below it in `/proc`. Once a step's own process has exited,
//! every leftover in shipbook's session (and every process left in the step's group) gets TERM,
//! then KILL after the grace period if it is still there, whether or not it still holds the
//! step's output pipe; shipbook reaps what it adopted. A process that started a new session
//! (`setsid`) has detached itself on purpose and is left alone: that is how a step starts a
//! service that must outlive it.
//!
//! When one step runs, once its own process has been waited for, every process below shipbook
//! in its session is that step's. When several run at once (`needs`), each one's leader is
//! registered from its spawn until it has been waited for, and a step's leftovers are then
//! what is in its group, or below shipbook, neither under another running step's leader nor in
//! its group, and named this step's by its environment (`SHIPBOOK_STEP`). An orphan whose
//! environment says nothing is left until no other step runs: the end of the last one ends it. Adopted processes are then reaped one by one, by pid, never with a wait for any
//! child, which could take a running step's exit status. The walk below shipbook is only made
//! by a process that called [`adopt_orphans`] (the commands that run steps); elsewhere (the
//! unit tests, which run commands on many threads at once) only the step's group is ended.

use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rustix::io::Errno;
use rustix::process::{
    Pid, Signal, WaitOptions, getpid, kill_process, set_child_subreaper, test_kill_process_group,
    wait,
};

use crate::sys::interrupt::{GRACE_PERIOD, signal_group};

/// Whether this process adopts what its steps leave behind (see [`adopt_orphans`]).
static ADOPTING: AtomicBool = AtomicBool::new(false);

/// The leaders of the steps running now: spawned and not yet waited for. Spawning and reaping
/// both hold the lock, so a child is never reaped between its spawn and its registration.
static LEADERS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

fn leaders() -> std::sync::MutexGuard<'static, Vec<i32>> {
    LEADERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Spawns a step's leader with `spawn` (which returns its handle) and registers its pid.
pub fn spawning(spawn: impl FnOnce() -> io::Result<duct::Handle>) -> io::Result<duct::Handle> {
    let mut leaders = leaders();
    let handle = spawn()?;
    if let Some(&pid) = handle.pids().first() {
        leaders.push(pid as i32);
    }
    Ok(handle)
}

/// Forgets a leader once it has been waited for.
pub fn waited(leader: i32) {
    leaders().retain(|&pid| pid != leader);
}

/// How long a leftover that was sent KILL is waited for: KILL cannot be ignored, but a process
/// blocked in the kernel (a hung network file system) only dies when the call returns.
const KILL_PATIENCE: Duration = Duration::from_secs(2);

/// How often the leftovers are looked at again while they are given time to exit.
const POLL: Duration = Duration::from_millis(20);

/// Makes this process the one that adopts whatever its steps leave behind, so that a process
/// that left its step's group can still be found and ended when the step ends. Called once by
/// the commands that run steps, before the first one.
pub fn adopt_orphans() -> io::Result<()> {
    set_child_subreaper(Some(getpid()))?;
    ADOPTING.store(true, Ordering::SeqCst);
    Ok(())
}

/// Ends what a step left behind once its own process has exited and been waited for: TERM to
/// every leftover, KILL to those still there after the grace period. Returns when they are
/// gone (or, for a process that does not die even of KILL, after a last wait). Between looks it
/// calls `pause` with how long to wait: the process runner copies the step's output meanwhile,
/// so that a leftover writing as it shuts down is neither blocked on a full pipe nor cut off.
pub fn end_leftovers(group: i32, step: Option<&str>, pause: &mut dyn FnMut(Duration)) {
    let adopting = ADOPTING.load(Ordering::SeqCst);
    let step = Whose { group, step };
    if !anything_left(&step, adopting) {
        return;
    }
    signal_leftovers(&step, adopting, Signal::TERM);
    if !wait_until_gone(&step, adopting, GRACE_PERIOD, None, pause) {
        signal_leftovers(&step, adopting, Signal::KILL);
        // A leftover may have started another process meanwhile: each look sends it KILL too.
        wait_until_gone(&step, adopting, KILL_PATIENCE, Some(Signal::KILL), pause);
    }
    // What died last is reaped too, so that the next step finds no trace of this one.
    if adopting {
        reap_adopted();
    }
}

/// The step whose leftovers are looked for: its process group, and its id as its processes'
/// environment names it.
struct Whose<'a> {
    group: i32,
    step: Option<&'a str>,
}

/// Whether anything of the step may be left, from two system calls when no other step runs:
/// the common case (a step that left nothing) must cost no walk through `/proc`.
fn anything_left(step: &Whose<'_>, adopting: bool) -> bool {
    if group_exists(step.group) {
        return true;
    }
    adopting && reap_adopted()
}

/// Whether the group still has a process (a zombie counts: the walk then tells).
fn group_exists(group: i32) -> bool {
    Pid::from_raw(group).is_some_and(|group| test_kill_process_group(group).is_ok())
}

/// Reaps every adopted process that has exited; returns whether this process still has
/// children that are not running steps' leaders. With no other step running, every child is a
/// leftover and one wait for any child reaps them; otherwise each child that is no leader is
/// waited for by its pid, found in the kernel's list of this process's children (a walk through
/// `/proc` where the kernel keeps no such list).
fn reap_adopted() -> bool {
    let leaders = leaders();
    if !leaders.is_empty() {
        let Some(children) = children() else {
            let me = getpid().as_raw_nonzero().get();
            for entry in processes() {
                if entry.parent == me
                    && entry.dead
                    && !leaders.contains(&entry.pid)
                    && let Some(pid) = Pid::from_raw(entry.pid)
                {
                    let _ = rustix::process::waitpid(Some(pid), WaitOptions::NOHANG);
                }
            }
            return true;
        };
        let mut left = false;
        for child in children.into_iter().filter(|pid| !leaders.contains(pid)) {
            let reaped = Pid::from_raw(child)
                .and_then(|pid| rustix::process::waitpid(Some(pid), WaitOptions::NOHANG).ok())
                .is_some_and(|status| status.is_some());
            left |= !reaped;
        }
        return left;
    }
    loop {
        match wait(WaitOptions::NOHANG) {
            Ok(Some(_)) => continue,
            Ok(None) => return true,
            Err(Errno::CHILD) => return false,
            Err(Errno::INTR) => continue,
            Err(_) => return true,
        }
    }
}

/// Sends `signal` to the step's group and to every leftover found outside it; one in the
/// group gets it once, from the group's signal (a process that shuts down gracefully on TERM
/// would otherwise shut down twice).
fn signal_leftovers(step: &Whose<'_>, adopting: bool, signal: Signal) {
    let group = step.group;
    signal_group(group, signal);
    for pid in leftovers(step, adopting) {
        let in_group = Pid::from_raw(pid)
            .and_then(|pid| rustix::process::getpgid(Some(pid)).ok())
            .is_some_and(|pgid| pgid.as_raw_nonzero().get() == group);
        if in_group {
            continue;
        }
        if let Some(pid) = Pid::from_raw(pid) {
            // One that exited meanwhile is fine.
            let _ = kill_process(pid, signal);
        }
    }
}

/// Waits up to `patience` for every leftover to be gone, sending `resend` to any found on each
/// look; returns whether they are gone.
fn wait_until_gone(
    step: &Whose<'_>,
    adopting: bool,
    patience: Duration,
    resend: Option<Signal>,
    pause: &mut dyn FnMut(Duration),
) -> bool {
    let deadline = Instant::now() + patience;
    loop {
        if adopting {
            reap_adopted();
        }
        let left = leftovers(step, adopting);
        if left.is_empty() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        if let Some(signal) = resend {
            signal_leftovers(step, adopting, signal);
        }
        pause(POLL);
    }
}

/// One process as `/proc/<pid>/stat` shows it.
struct Entry {
    pid: i32,
    parent: i32,
    group: i32,
    session: i32,
    /// Exited and waiting to be reaped (or being reaped): nothing left to end.
    dead: bool,
}

/// The processes still alive that belong to the step: those in its group, and (when this
/// process adopts orphans) those below this process in its session.
fn leftovers(step: &Whose<'_>, adopting: bool) -> Vec<i32> {
    let group = step.group;
    let entries = processes();
    let me = getpid().as_raw_nonzero().get();
    // This process's session is read from the same walk, not asked of the kernel: in a pid
    // namespace whose session leader is outside it (a container, `unshare --pid`), getsid
    // answers 0, which is no valid pid (and a panic in rustix), while `/proc` shows that same 0
    // for every process of the session, so comparing what `/proc` says stays right.
    let my_session = entries
        .iter()
        .find(|entry| entry.pid == me)
        .map_or(0, |entry| entry.session);
    let mut below = if adopting {
        descendants(me, &entries)
    } else {
        HashSet::new()
    };
    // What runs under another step's leader, or in its group, is that step's.
    let others: Vec<i32> = leaders().clone();
    if !others.is_empty() {
        for &leader in &others {
            below.remove(&leader);
            for pid in descendants(leader, &entries) {
                below.remove(&pid);
            }
        }
        below.retain(|pid| {
            let entry = entries.iter().find(|entry| entry.pid == *pid);
            entry.is_none_or(|entry| !others.contains(&entry.group))
                && step.step.is_some_and(|id| started_by(*pid, id))
        });
    }
    let mut found = Vec::new();
    for entry in &entries {
        let in_group = group > 0 && entry.group == group;
        let adopted = below.contains(&entry.pid);
        if !entry.dead && (in_group || (adopted && entry.session == my_session)) {
            found.push(entry.pid);
        }
    }
    found
}

/// The pids of this process's children, from each of its threads' list in `/proc` (a child
/// belongs to the thread that started it, an adopted one to the one the kernel chose); `None`
/// when the kernel keeps no such list.
fn children() -> Option<Vec<i32>> {
    let mut children = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path().join("children");
        // A thread that ended meanwhile has no list any more, and no children.
        let Ok(list) = std::fs::read_to_string(&path) else {
            if path.parent().is_some_and(std::path::Path::exists) {
                return None;
            }
            continue;
        };
        children.extend(
            list.split_whitespace()
                .filter_map(|pid| pid.parse::<i32>().ok()),
        );
    }
    Some(children)
}

/// Whether an orphan's environment says it was started by step `id`. One whose environment
/// does not say (it was cleared, `env -i`, `sudo`) is nobody's while other steps run: it is not
/// ended by this step's end, which might take another's process, but by the end of the last
/// step running, when everything below shipbook is a leftover again.
fn started_by(pid: i32, id: &str) -> bool {
    let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return false;
    };
    environ
        .split(|&byte| byte == 0)
        .find_map(|pair| pair.strip_prefix(b"SHIPBOOK_STEP="))
        .is_some_and(|named| named == id.as_bytes())
}

/// The processes below `root`, however deep.
fn descendants(root: i32, entries: &[Entry]) -> HashSet<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for entry in entries {
        children.entry(entry.parent).or_default().push(entry.pid);
    }
    let mut found = HashSet::new();
    let mut next = vec![root];
    while let Some(parent) = next.pop() {
        for &child in children.get(&parent).into_iter().flatten() {
            if found.insert(child) {
                next.push(child);
            }
        }
    }
    found
}

/// Every process of the system, from `/proc`; those that vanish while being read are skipped.
fn processes() -> Vec<Entry> {
    let Ok(directory) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    directory
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            parse_stat(pid, &stat)
        })
        .collect()
}

/// The fields of `/proc/<pid>/stat` that say where a process stands. The command name (field
/// 2) may hold spaces and parentheses; the fields after its last `)` are plain.
fn parse_stat(pid: i32, stat: &str) -> Option<Entry> {
    let mut fields = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
    let state = fields.next()?;
    let parent = fields.next()?.parse().ok()?;
    let group = fields.next()?.parse().ok()?;
    let session = fields.next()?.parse().ok()?;
    Some(Entry {
        pid,
        parent,
        group,
        session,
        dead: matches!(state, "Z" | "X" | "x"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_is_read_past_a_name_with_spaces_and_parentheses() {
        let entry = parse_stat(42, "42 (my (odd) name) S 7 42 3 0 -1 4194560").unwrap();
        assert_eq!(
            (entry.pid, entry.parent, entry.group, entry.session),
            (42, 7, 42, 3)
        );
        assert!(!entry.dead);
        assert!(parse_stat(43, "43 (sh) Z 1 43 3 0").unwrap().dead);
        assert!(parse_stat(44, "44 (sh) S 1").is_none());
    }
}
