//! The `watch` action: after a deploy, sample the service for a while and fail as soon as it
//! gets worse.
//!
//! A deploy that exited 0 may still make the service worse a few minutes later. A watch asks the
//! question an engineer asks by staring at a dashboard: every `every`, for `for`, is the error
//! rate (or the health endpoint, or a script's verdict) still acceptable? This module judges one
//! sample; the executor runs the loop, because each sample is recorded and committed as it is
//! taken, and the terminal shows them as they come.

pub mod spec;

use spec::MetricLimits;

/// Whether a metric's sample passes, and why, in a few words. `lower_is_better` is the metric's
/// direction (a latency or an error rate; not a throughput).
pub fn judge_metric(
    limits: &MetricLimits,
    lower_is_better: bool,
    before: Option<f64>,
    value: f64,
) -> (bool, String) {
    let name = &limits.metric;
    if let Some(max) = limits.max
        && value > max
    {
        return (false, format!("{name} {value} above the maximum {max}"));
    }
    if let Some(min) = limits.min
        && value < min
    {
        return (false, format!("{name} {value} below the minimum {min}"));
    }
    let Some(allowed) = limits.max_regression else {
        return (true, format!("{name} {value}"));
    };
    let Some(before) = before else {
        return (
            false,
            format!("{name} {value}, but there is no value before the first step to compare with"),
        );
    };
    let worse_by = if lower_is_better {
        value - before
    } else {
        before - value
    };
    let regression = if before == 0.0 {
        if worse_by > 0.0 { f64::INFINITY } else { 0.0 }
    } else {
        worse_by / before.abs()
    };
    let shown = format!("{name} {value} against {before} before");
    if regression > allowed {
        (
            false,
            format!(
                "{shown}: {} worse, more than the {}% allowed",
                percent(regression),
                allowed * 100.0
            ),
        )
    } else {
        (true, shown)
    }
}

fn percent(fraction: f64) -> String {
    if fraction.is_infinite() {
        "infinitely".into()
    } else {
        format!("{:.1}%", fraction * 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_regression: Option<f64>, max: Option<f64>, min: Option<f64>) -> MetricLimits {
        MetricLimits {
            metric: "error_rate".into(),
            max_regression,
            max,
            min,
        }
    }

    #[test]
    fn a_regression_is_judged_against_the_value_before_in_the_metrics_direction() {
        let twenty = limits(Some(0.2), None, None);
        assert!(judge_metric(&twenty, true, Some(1.0), 1.1).0);
        let (passed, why) = judge_metric(&twenty, true, Some(1.0), 3.1);
        assert!(!passed);
        assert_eq!(
            why,
            "error_rate 3.1 against 1 before: 210.0% worse, more than the 20% allowed"
        );
        assert!(judge_metric(&twenty, false, Some(100.0), 90.0).0);
        assert!(!judge_metric(&twenty, false, Some(100.0), 70.0).0);
        assert!(!judge_metric(&twenty, true, Some(0.0), 0.5).0);
        assert!(judge_metric(&twenty, true, Some(0.0), 0.0).0);
        assert!(!judge_metric(&twenty, true, None, 0.0).0);
    }

    #[test]
    fn absolute_bounds_hold_whatever_came_before() {
        let bounded = limits(None, Some(5.0), Some(1.0));
        assert!(judge_metric(&bounded, true, None, 3.0).0);
        assert!(!judge_metric(&bounded, true, None, 6.0).0);
        assert!(!judge_metric(&bounded, true, None, 0.5).0);
    }
}
