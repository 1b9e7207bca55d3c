//! The rehearsal gate: a run in an environment with `requires_rehearsal` needs a succeeded
//! rehearsal (its rollback included) of the same commit and runbook content, or a reason to go
//! without one.

use super::session::Notice;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::store::Store;
use crate::store::record::{Phase, RehearsalCitation, RunRecord};

/// Checks the gate for `plan`, citing the rehearsal relied on (or the reason to skip it) in
/// `record`.
pub fn check(
    plan: &Plan,
    store: &dyn Store,
    skip_reason: Option<&str>,
    record: &mut RunRecord,
    notices: &mut dyn FnMut(Notice),
) -> Result<()> {
    let Some(required) = &plan.requires_rehearsal else {
        return Ok(());
    };
    if let Some(reason) = skip_reason {
        record.skip_rehearsal = Some(reason.to_string());
        notices(Notice::Warning(format!(
            "the rehearsal in `{required}` is skipped: {reason}"
        )));
        return Ok(());
    }
    match store.find_rehearsal(&plan.runbook, required, &plan.content_hash, &plan.git.sha)? {
        Some(rehearsal) => {
            record.rehearsal = Some(RehearsalCitation {
                run_id: rehearsal.run_id.clone(),
                env: required.clone(),
                finished_at: rehearsal.finished_at.unwrap_or(rehearsal.started_at),
                duration_ms: rehearsal.phase_duration_ms(Phase::Steps),
                rollback_duration_ms: rehearsal.phase_duration_ms(Phase::Rollback),
            });
            Ok(())
        }
        None => Err(Error::Precondition {
            message: format!(
                "environment `{}` requires a succeeded rehearsal in `{required}` of this commit ({}) and this runbook, and none is on record",
                plan.env.as_deref().unwrap_or_default(),
                plan.git.short_sha
            ),
            expected: format!(
                "`shipbook rehearse {} --env {required}` first (its rollback must succeed too), or --skip-rehearsal \"REASON\"",
                plan.runbook_path.display()
            ),
        }),
    }
}
