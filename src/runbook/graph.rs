//! Which step waits for which: the graph that `needs` draws over a runbook's steps.
//!
//! A step waits for the steps its `needs` names, or, without `needs`, for the step before it in
//! the file, so a runbook that never says `needs` is a chain and runs as it always did. The
//! graph is kept as indices into the list of steps, so that the plan and the engine share it
//! without names; this module finds a circle (for the located error that names it) and each
//! step's level (for the plan: steps of one level may run at once).

use super::Step;

/// For each step, the indices of the steps it waits for. An id that names no step is left out
/// here: validation reports it.
pub fn needs(steps: &[Step]) -> Vec<Vec<usize>> {
    steps
        .iter()
        .enumerate()
        .map(|(index, step)| match &step.needs {
            Some(needs) => needs
                .get_ref()
                .iter()
                .filter_map(|need| steps.iter().position(|s| s.id() == need.get_ref()))
                .filter(|&need| need != index)
                .collect(),
            None => index.checked_sub(1).into_iter().collect(),
        })
        .collect()
}

/// Every circle of steps that wait for each other, as indices in the order they wait (each
/// needs the next, the last needs the first): once a circle is found, its steps are set aside
/// and the rest searched again, so that `check` names them all at once.
pub fn cycles(steps: &[Step]) -> Vec<Vec<usize>> {
    cycles_in(needs(steps))
}

/// Every circle in `needs`, as [`cycles`] finds them.
fn cycles_in(mut needs: Vec<Vec<usize>>) -> Vec<Vec<usize>> {
    let mut found = Vec::new();
    while let Some(cycle) = find_cycle(&needs) {
        for &step in &cycle {
            needs[step].clear();
        }
        for waits in &mut needs {
            waits.retain(|need| !cycle.contains(need));
        }
        found.push(cycle);
    }
    found
}

/// A circle in `needs`, found by a depth-first walk that keeps the path it is on.
pub fn find_cycle(needs: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut marks = vec![Mark::New; needs.len()];
    for start in 0..needs.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // Each frame: a step and how many of its needs have been followed.
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        marks[start] = Mark::OnPath;
        while let Some(frame) = path.last_mut() {
            let (step, followed) = *frame;
            let Some(&need) = needs[step].get(followed) else {
                marks[step] = Mark::Done;
                path.pop();
                continue;
            };
            frame.1 += 1;
            match marks[need] {
                Mark::New => {
                    marks[need] = Mark::OnPath;
                    path.push((need, 0));
                }
                Mark::OnPath => {
                    let from = path.iter().position(|&(s, _)| s == need).unwrap_or(0);
                    return Some(path[from..].iter().map(|&(s, _)| s).collect());
                }
                Mark::Done => {}
            }
        }
    }
    None
}

/// Each step's level: 0 for a step that waits for nothing, else one more than the highest level
/// of what it waits for. Steps of one level never wait for each other. `needs` has no circle.
pub fn levels(needs: &[Vec<usize>]) -> Vec<usize> {
    let mut levels: Vec<Option<usize>> = vec![None; needs.len()];
    // Relaxed until nothing changes: at most one pass per level, and runbooks are small. The
    // bound keeps a circle (which validation refuses first) from looping.
    for _ in 0..=needs.len() {
        let mut changed = false;
        for step in 0..needs.len() {
            let level = needs[step]
                .iter()
                .map(|&need| levels[need].map(|level| level + 1))
                .try_fold(0, |highest, level| level.map(|level| highest.max(level)));
            if level.is_some() && levels[step] != level {
                levels[step] = level;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    levels.into_iter().map(Option::unwrap_or_default).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_circle_is_found_in_the_order_its_steps_wait() {
        // 0 waits for nothing, 1 → 2 → 3 → 1.
        let needs = vec![vec![], vec![2], vec![3], vec![1, 0]];
        assert_eq!(find_cycle(&needs), Some(vec![1, 2, 3]));
        assert_eq!(find_cycle(&[vec![], vec![0], vec![0, 1]]), None);
        assert_eq!(find_cycle(&[vec![0]]), Some(vec![0]));
    }

    #[test]
    fn every_circle_is_found() {
        // 0 → 1 → 0, and apart from it 2 → 3 → 2; 4 waits for the first circle.
        let needs = vec![vec![1], vec![0], vec![3], vec![2], vec![0]];
        assert_eq!(cycles_in(needs), [vec![0, 1], vec![2, 3]]);
    }

    #[test]
    fn levels_count_the_longest_wait() {
        let needs = vec![vec![], vec![], vec![0], vec![0, 2], vec![1]];
        assert_eq!(levels(&needs), vec![0, 0, 1, 2, 1]);
    }
}
