//! A series of numbers drawn as one line of block characters, the way a dashboard's tiny chart
//! shows a trend at a glance: `▁▂▂▇▃`.

const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// `values` as a sparkline, scaled between their smallest and largest (a flat series is a flat
/// line). Values that are not finite are drawn as a space.
pub fn of(values: &[f64]) -> String {
    let finite = values.iter().copied().filter(|value| value.is_finite());
    let (low, high) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), value| {
        (low.min(value), high.max(value))
    });
    values
        .iter()
        .map(|value| {
            if !value.is_finite() {
                ' '
            } else if high <= low {
                LEVELS[0]
            } else {
                let level = ((value - low) / (high - low) * (LEVELS.len() - 1) as f64).round();
                LEVELS[level as usize]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_is_scaled_between_its_extremes() {
        assert_eq!(of(&[1.0, 2.0, 8.0]), "▁▂█");
        assert_eq!(of(&[3.0, 3.0]), "▁▁");
        assert_eq!(of(&[1.0, f64::NAN, 2.0]), "▁ █");
        assert_eq!(of(&[]), "");
    }
}
