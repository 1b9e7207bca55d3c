//! The version a starter runbook proposes: one that has not been released yet.
//!
//! init takes the version from the project's manifest, but a manifest often still holds the
//! version last released, whose tag exists: a runbook proposing it would fail at its `tag` step
//! (the tag is at another commit), after every check before it had run. So when the tag
//! `vVERSION` exists, init proposes the patch after the newest `vX.Y.Z` tag instead, and says
//! so; a version that is not plain `X.Y.Z` cannot be counted on, and is kept with a warning.

/// What init proposes, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Proposal {
    /// The manifest's version has no tag yet.
    AsFound,
    /// Its tag exists; `next` is the patch after the newest release.
    Next { released: String, next: String },
    /// Its tag exists and no next version can be worked out.
    Released { released: String },
}

/// The version to propose for `version`, given the repository's tag names.
pub(super) fn propose(version: &str, tags: &[String]) -> Proposal {
    let released = format!("v{version}");
    if !tags.contains(&released) {
        return Proposal::AsFound;
    }
    let newest = tags
        .iter()
        .filter_map(|tag| numbers(tag.strip_prefix('v')?))
        .chain(numbers(version))
        .max();
    match newest {
        Some([major, minor, patch]) => Proposal::Next {
            released,
            next: format!("{major}.{minor}.{}", patch + 1),
        },
        None => Proposal::Released { released },
    }
}

/// `[X, Y, Z]` of a plain `X.Y.Z` version.
fn numbers(version: &str) -> Option<[u64; 3]> {
    let mut parts = version.split('.').map(|part| {
        (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    });
    let numbers = [parts.next()??, parts.next()??, parts.next()??];
    parts.next().is_none().then_some(numbers)
}

impl Proposal {
    /// The warning init prints, if any.
    pub(super) fn warning(&self) -> Option<String> {
        match self {
            Proposal::AsFound => None,
            Proposal::Next { released, next } => Some(format!(
                "tag {released} already exists, so that version was released: the runbook proposes {next}; set the same version in the project's manifest before releasing it"
            )),
            Proposal::Released { released } => Some(format!(
                "tag {released} already exists, so that version was released: edit `version` in runbooks/release.toml before the first release"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn an_unreleased_version_is_kept() {
        assert_eq!(propose("1.4.4", &tags(&["v1.4.3"])), Proposal::AsFound);
        assert_eq!(propose("0.1.0", &[]), Proposal::AsFound);
    }

    #[test]
    fn a_released_version_gives_the_patch_after_the_newest_tag() {
        assert_eq!(
            propose("1.4.3", &tags(&["v1.4.3", "v1.4.10", "v1.3.99", "latest"])),
            Proposal::Next {
                released: "v1.4.3".into(),
                next: "1.4.11".into()
            }
        );
    }

    #[test]
    fn a_released_version_that_is_not_plain_is_kept_with_a_warning() {
        let proposal = propose("2.0.0-rc.1", &tags(&["v2.0.0-rc.1"]));
        assert_eq!(
            proposal,
            Proposal::Released {
                released: "v2.0.0-rc.1".into()
            }
        );
        assert!(proposal.warning().unwrap().contains("edit `version`"));
    }
}
