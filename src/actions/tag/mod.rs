//! The `tag` action: an annotated git tag at HEAD, and its undo.
//!
//! git2 creates, reads and deletes tags, so shipbook needs no `git` for them; pushing goes
//! through the user's own `git push`, the one place shipbook calls `git`, so that their
//! credential helpers and SSH setup apply. A tag that already points at HEAD is success (a
//! re-run or a resume must not fail on its own earlier work); one at another commit is a
//! failure that names both commits. A rehearsal checks all of that and creates nothing.

pub mod spec;

use spec::PlannedTag;
pub use spec::is_valid_name;

use std::io::Write;
use std::path::Path;

use git2::{ObjectType, Oid, Repository};

use super::{Programs, Verdict};
use crate::store::record::TagRecord;

/// One tagging: the tag as the plan resolved it, and where and how to make it.
pub struct Tagging<'a> {
    pub tag: &'a PlannedTag,
    /// The step's working directory: the tag goes into the repository that holds it.
    pub dir: &'a Path,
    /// Check and report, create nothing.
    pub rehearsal: bool,
}

/// A commit id in the seven characters git shows in one-line logs, for the one-line summary.
fn short(oid: Oid) -> String {
    oid.to_string()[..7].to_string()
}

/// Creates (or finds) the tag; returns the verdict and, when a tag is in place, what it is.
pub fn run(
    tagging: &Tagging<'_>,
    log: &mut dyn Write,
    programs: &mut dyn Programs,
) -> (Verdict, Option<TagRecord>) {
    let (repo, head_id) = match open_at_head(tagging, log) {
        Ok(opened) => opened,
        Err(failure) => return (failure, None),
    };
    let created = match place_tag(&repo, head_id, tagging, log) {
        Ok(Placement::Created) => true,
        Ok(Placement::AlreadyAtHead) => false,
        Ok(Placement::Rehearsed) => {
            let verdict = Verdict::pass(format!(
                "would tag {} at {} (rehearsal: nothing created)",
                tagging.tag.name,
                short(head_id)
            ));
            return (verdict, None);
        }
        Err(failure) => return (failure, None),
    };
    let mut record = TagRecord {
        name: tagging.tag.name.to_string(),
        commit: head_id.to_string(),
        created,
        pushed: None,
    };
    let what = if created { "tagged" } else { "already tagged" };
    if tagging.rehearsal || !tagging.tag.push {
        let verdict = Verdict::pass(format!("{what} {} at {}", tagging.tag.name, short(head_id)));
        return (verdict, Some(record));
    }
    let workdir = repo.workdir().unwrap_or_else(|| repo.path());
    let refspec = format!("refs/tags/{}", tagging.tag.name);
    let verdict = match push(workdir, &tagging.tag.remote, &refspec, log, programs) {
        Ok(()) => {
            record.pushed = Some(tagging.tag.remote.to_string());
            Verdict::pass(format!(
                "{what} {} at {} and pushed it to {}",
                tagging.tag.name,
                short(head_id),
                tagging.tag.remote
            ))
        }
        Err(problem) => Verdict::fail(format!(
            "push of {} to {} failed ({problem}); the local tag stays, and the step's undo deletes it",
            tagging.tag.name, tagging.tag.remote
        )),
    };
    (verdict, Some(record))
}

/// Opens the repository that holds the step's directory and finds the commit to tag, after
/// checking what can be checked before anything is written: the tag's name, and the remote
/// when the tag is to be pushed. A failure is the verdict of the step.
fn open_at_head(tagging: &Tagging<'_>, log: &mut dyn Write) -> Result<(Repository, Oid), Verdict> {
    let repo = Repository::discover(tagging.dir).map_err(|_| {
        Verdict::fail(format!(
            "{} is not in a git repository; a tag step needs one",
            tagging.dir.display()
        ))
    })?;
    let head_id = match repo.head().and_then(|head| head.peel_to_commit()) {
        Ok(commit) => commit.id(),
        Err(_) => {
            return Err(Verdict::fail(
                "HEAD has no commit yet (an unborn branch): there is nothing to tag",
            ));
        }
    };
    let _ = writeln!(log, "HEAD is {head_id}");
    if !is_valid_name(&tagging.tag.name) {
        return Err(Verdict::fail(format!(
            "`{}` is not a tag name git accepts",
            tagging.tag.name
        )));
    }
    if tagging.tag.push && repo.find_remote(&tagging.tag.remote).is_err() {
        return Err(Verdict::fail(format!(
            "the repository has no remote `{}` to push the tag to",
            tagging.tag.remote
        )));
    }
    Ok((repo, head_id))
}

/// Where the tag stands once `place_tag` is done.
enum Placement {
    /// The tag was already there, at HEAD: a re-run or a resume finds its own earlier work.
    AlreadyAtHead,
    /// This run created the tag.
    Created,
    /// A rehearsal checked that the tag could be created, and created nothing.
    Rehearsed,
}

/// Finds the tag at HEAD, or creates it (in a rehearsal, checks that it could). A tag of that
/// name at another commit is a failure naming both commits.
fn place_tag(
    repo: &Repository,
    head_id: Oid,
    tagging: &Tagging<'_>,
    log: &mut dyn Write,
) -> Result<Placement, Verdict> {
    let existing = repo
        .find_reference(&format!("refs/tags/{}", tagging.tag.name))
        .ok()
        .and_then(|reference| reference.peel_to_commit().ok())
        .map(|commit| commit.id());
    match existing {
        Some(commit) if commit != head_id => {
            let _ = writeln!(log, "tag {} already exists at {commit}", tagging.tag.name);
            Err(Verdict::fail(format!(
                "tag {} already exists at {}, but HEAD is {}",
                tagging.tag.name,
                short(commit),
                short(head_id)
            )))
        }
        Some(_) => {
            let _ = writeln!(log, "tag {} already points at HEAD", tagging.tag.name);
            Ok(Placement::AlreadyAtHead)
        }
        None if tagging.rehearsal => {
            // A real run signs the tag with the git identity, so a rehearsal checks that
            // there is one: a missing identity must come out before the release, not during it.
            repo.signature().map_err(|error| identity_failure(&error))?;
            let pushed = if tagging.tag.push {
                format!(" and push it to {}", tagging.tag.remote)
            } else {
                String::new()
            };
            let _ = writeln!(
                log,
                "rehearsal: would create tag {} at {head_id}{pushed}",
                tagging.tag.name
            );
            Ok(Placement::Rehearsed)
        }
        None => {
            create_tag(repo, head_id, tagging)?;
            let _ = writeln!(
                log,
                "created annotated tag {} at {head_id}",
                tagging.tag.name
            );
            Ok(Placement::Created)
        }
    }
}

/// Creates the annotated tag at HEAD, signed with the repository's git identity.
fn create_tag(repo: &Repository, head_id: Oid, tagging: &Tagging<'_>) -> Result<(), Verdict> {
    let signature = repo.signature().map_err(|error| identity_failure(&error))?;
    let object = repo
        .find_object(head_id, Some(ObjectType::Commit))
        .map_err(|error| Verdict::fail(format!("cannot read HEAD: {error}")))?;
    repo.tag(
        &tagging.tag.name,
        &object,
        &signature,
        &tagging.tag.message,
        false,
    )
    .map_err(|error| Verdict::fail(format!("cannot create tag {}: {error}", tagging.tag.name)))?;
    Ok(())
}

fn identity_failure(error: &git2::Error) -> Verdict {
    Verdict::fail(format!(
        "no git identity to sign the tag with ({}); set one with `git config user.name \"...\"` and `git config user.email \"...\"`",
        error.message()
    ))
}

/// Runs `git push REMOTE REFSPEC` with the user's own git, its output into the log.
fn push(
    workdir: &Path,
    remote: &str,
    refspec: &str,
    log: &mut dyn Write,
    programs: &mut dyn Programs,
) -> Result<(), String> {
    let _ = writeln!(log, "$ git push {remote} {refspec}");
    // What was written so far goes to the log before git's own output does.
    let _ = log.flush();
    programs.run(&["git", "push", remote, refspec], workdir)
}

/// Undoes what a tag step did: deletes the tag it created (and the pushed copy). A tag that
/// existed before the run is never deleted.
pub fn undo(
    record: &TagRecord,
    dir: &Path,
    log: &mut dyn Write,
    programs: &mut dyn Programs,
) -> Verdict {
    if !record.created {
        return Verdict::pass(format!(
            "tag {} existed before this run; left in place",
            record.name
        ));
    }
    let repo = match Repository::discover(dir) {
        Ok(repo) => repo,
        Err(error) => return Verdict::fail(format!("cannot open the repository: {error}")),
    };
    if let Some(remote) = &record.pushed {
        let workdir = repo.workdir().unwrap_or_else(|| repo.path());
        if let Err(problem) = push(
            workdir,
            remote,
            &format!(":refs/tags/{}", record.name),
            log,
            programs,
        ) {
            return Verdict::fail(format!(
                "cannot delete tag {} from {remote} ({problem}); the local tag was kept",
                record.name
            ));
        }
    }
    match repo.tag_delete(&record.name) {
        Ok(()) => {
            let _ = writeln!(log, "deleted tag {}", record.name);
            Verdict::pass(match &record.pushed {
                Some(remote) => format!("deleted tag {} here and on {remote}", record.name),
                None => format!("deleted tag {}", record.name),
            })
        }
        Err(error) => Verdict::fail(format!("cannot delete tag {}: {error}", record.name)),
    }
}
