//! Points into categories, categories into groups, groups into the score: the course's weights.
use crate::report::model::{Adjustment, CategoryScore, GroupScore, Status, TestResult};
use crate::spec::{Category, Group};

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub struct Scores {
    pub categories: Vec<CategoryScore>,
    pub groups: Vec<GroupScore>,
    pub adjustments: Vec<Adjustment>,
    pub total: f64,
}

/// The most a submission that fails a core property of its lab can score.
pub const CORE_CAP: f64 = 60.0;

/// A core item that the student's code failed (not the grader's error, nor a verdict still open).
fn core_failed(t: &TestResult) -> bool {
    t.core && !matches!(t.status, Status::Passed | Status::Error | Status::Pending | Status::Inconclusive)
}

/// The cap for failed core properties, as an adjustment of what the categories sum to above it.
fn core_cap(tests: &[TestResult], sum: f64) -> Option<Adjustment> {
    let failed: Vec<&str> = tests.iter().filter(|t| core_failed(t)).map(|t| t.id.as_str()).collect();
    if failed.is_empty() || sum <= CORE_CAP {
        return None;
    }
    let names = failed.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(", ");
    Some(Adjustment {
        id: "core-property".into(),
        reason: format!(
            "{names} failed: {} the lab's core property, and a submission that fails one scores at most {CORE_CAP}",
            if failed.len() == 1 { "it is" } else { "they are" }
        ),
        points: round2(sum - CORE_CAP),
    })
}

/// earned_fraction = sum(points) / sum(max_points) per category; points = weight x fraction.
pub fn score(tests: &[TestResult]) -> Scores {
    let categories: Vec<CategoryScore> = Category::ALL
        .iter()
        .map(|&cat| {
            let of: Vec<&TestResult> = tests.iter().filter(|t| t.category == cat).collect();
            let max: f64 = of.iter().map(|t| t.max_points).sum();
            let got: f64 = of.iter().map(|t| t.points.clamp(0.0, t.max_points)).sum();
            let fraction = if max > 0.0 { got / max } else { 0.0 };
            CategoryScore {
                id: cat,
                group: cat.group(),
                weight: cat.weight(),
                earned_fraction: (fraction * 10_000.0).round() / 10_000.0,
                points: round2(cat.weight() * fraction),
                provisional: of.iter().any(|t| {
                    matches!(t.status, Status::Pending | Status::Inconclusive) || t.measurement.as_ref().is_some_and(|m| m.estimated)
                }),
            }
        })
        .collect();
    let groups: Vec<GroupScore> = Group::ALL
        .iter()
        .map(|&g| GroupScore {
            id: g,
            weight: g.weight(),
            points: round2(categories.iter().filter(|c| c.group == g).map(|c| c.points).sum()),
        })
        .collect();
    let sum = round2(categories.iter().map(|c| c.points).sum());
    let adjustments: Vec<Adjustment> = core_cap(tests, sum).into_iter().collect();
    let total = round2((sum - adjustments.iter().map(|a| a.points).sum::<f64>()).max(0.0));
    Scores { categories, groups, adjustments, total }
}

/// Puts each of `new` in place of the report's item with its id (a second measurement of some items),
/// then recomputes the score.
pub fn replace_tests(report: &mut crate::report::model::Report, new: impl IntoIterator<Item = TestResult>) {
    for t in new {
        if let Some(slot) = report.tests.iter_mut().find(|old| old.id == t.id) {
            *slot = t;
        }
    }
    rescore(report);
}

/// Recomputes a report's categories, groups and total from its tests (after an override changed points).
pub fn rescore(report: &mut crate::report::model::Report) {
    let s = score(&report.tests);
    report.categories = s.categories;
    report.groups = s.groups;
    report.adjustments = s.adjustments;
    report.score = s.total;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Kind, Visibility};

    fn t(cat: Category, points: f64, max: f64, status: Status) -> TestResult {
        TestResult {
            id: "x".into(), name: "x".into(), category: cat, kind: Kind::Deterministic, status, points,
            max_points: max, duration_ms: 0, runs: 1, failed_runs: 0, seed: None, message: None, hint: None,
            location: None, diagnosis: None, measurement: None, visibility: Visibility::Visible,
            findings: vec![], output: None, peak_rss_kb: None, timing: None, manual: None, core: false,
            root_cause: None,
        }
    }

    #[test]
    fn full_marks_add_up_to_100() {
        let tests: Vec<TestResult> = Category::ALL.iter().map(|&c| t(c, 3.0, 3.0, Status::Passed)).collect();
        let s = score(&tests);
        assert_eq!(s.total, 100.0);
        assert_eq!(s.groups[0].points, 70.0);
        assert_eq!(s.groups[1].points, 30.0);
    }

    #[test]
    fn categories_weigh_fractions_not_points() {
        let mut tests: Vec<TestResult> = Category::ALL.iter().map(|&c| t(c, 0.0, 1.0, Status::Failed)).collect();
        tests.push(t(Category::CompletionQuality, 1.0, 1.0, Status::Passed)); // 1 of 2 -> 20 of 40
        tests.push(t(Category::Design, 2.0, 4.0, Status::Pending));
        let s = score(&tests);
        assert_eq!(s.categories[0].points, 20.0);
        assert_eq!(s.categories[4].earned_fraction, 0.4);
        assert!(s.categories[4].provisional);
        assert!(!s.categories[0].provisional);
        assert_eq!(s.total, 24.0);
    }

    fn core(id: &str, status: Status) -> TestResult {
        let mut x = t(Category::CompletionQuality, if status == Status::Passed { 10.0 } else { 0.0 }, 10.0, status);
        x.id = id.into();
        x.core = true;
        x
    }

    #[test]
    fn a_failed_core_property_caps_the_score_as_an_adjustment() {
        let mut tests: Vec<TestResult> = Category::ALL.iter().map(|&c| t(c, 3.0, 3.0, Status::Passed)).collect();
        tests.push(core("no-lost-update", Status::Failed));
        let s = score(&tests);
        let sum: f64 = s.categories.iter().map(|c| c.points).sum();
        assert!(sum > CORE_CAP, "the categories stay as earned: {sum}");
        assert_eq!(s.total, CORE_CAP);
        assert_eq!(s.adjustments.len(), 1);
        assert!((s.adjustments[0].points - (sum - CORE_CAP)).abs() < 0.011);
        assert!(s.adjustments[0].reason.contains("`no-lost-update`"), "{}", s.adjustments[0].reason);
    }

    #[test]
    fn no_cap_when_core_items_pass_or_the_grader_erred_or_the_score_is_already_low() {
        let base: Vec<TestResult> = Category::ALL.iter().map(|&c| t(c, 3.0, 3.0, Status::Passed)).collect();
        for status in [Status::Passed, Status::Error, Status::Inconclusive] {
            let mut tests = base.clone();
            tests.push(core("core", status));
            assert!(score(&tests).adjustments.is_empty(), "{status:?}");
        }
        let mut low: Vec<TestResult> = Category::ALL.iter().map(|&c| t(c, 0.0, 3.0, Status::Failed)).collect();
        low.push(core("core", Status::Deadlock));
        let s = score(&low);
        assert!(s.adjustments.is_empty() && s.total < CORE_CAP);
    }
}
