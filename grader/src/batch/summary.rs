//! A class's summary, as text and as one self-contained HTML page: the score distribution, each item's
//! pass rate, and the slowest submissions.
use super::book::{Entry, Manifest};
use crate::report::model::Status;
use std::collections::BTreeMap;
use std::fmt::Write;

pub struct Stats {
    pub count: usize,
    pub graded: usize,
    pub compile_errors: usize,
    pub errors: usize,
    pub mean: f64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// Ten bins: [0,10), [10,20), ..., [90,100].
    pub bins: [usize; 10],
    /// Item id -> (name, kind, passed, graded, the most frequent other status).
    pub items: Vec<(String, String, String, usize, usize, String)>,
    /// (student, seconds), slowest first, at most five.
    pub slowest: Vec<(String, f64)>,
    /// (student, item, message) of every item the grader found tampered with: the instructor's first look.
    pub tampered: Vec<(String, String, String)>,
}

pub fn stats(entries: &[Entry]) -> Stats {
    let mut scores: Vec<f64> = entries.iter().filter_map(Entry::score).collect();
    scores.sort_by(|a, b| a.total_cmp(b));
    let mut bins = [0usize; 10];
    for s in &scores {
        bins[((s / 10.0).floor() as usize).min(9)] += 1;
    }
    let median = match scores.len() {
        0 => 0.0,
        n if n % 2 == 1 => scores[n / 2],
        n => (scores[n / 2 - 1] + scores[n / 2]) / 2.0,
    };
    let mut order: Vec<String> = Vec::new();
    let mut items: BTreeMap<String, (String, String, usize, usize, BTreeMap<&'static str, usize>)> = BTreeMap::new();
    let mut slowest = Vec::new();
    let mut tampered = Vec::new();
    for e in entries {
        let Entry::Graded(r) = e else { continue };
        slowest.push((e.student().to_string(), r.duration_ms as f64 / 1000.0));
        for t in &r.tests {
            if t.status == Status::Tampered {
                let at = t.location.as_deref().map(|l| format!(" [{l}]")).unwrap_or_default();
                tampered.push((e.student().to_string(), t.id.clone(), format!("{}{at}", t.message.as_deref().unwrap_or(""))));
            }
            if !items.contains_key(&t.id) {
                order.push(t.id.clone());
            }
            let it = items.entry(t.id.clone()).or_insert_with(|| (t.name.clone(), kind_id(t.kind), 0, 0, BTreeMap::new()));
            it.3 += 1;
            if t.status == Status::Passed && t.points >= t.max_points {
                it.2 += 1;
            } else {
                *it.4.entry(t.status.as_str()).or_default() += 1;
            }
        }
    }
    slowest.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    slowest.truncate(5);
    let items = order
        .into_iter()
        .filter_map(|id| {
            let (name, kind, passed, n, other) = items.remove(&id)?;
            let most = other.iter().max_by_key(|(s, c)| (**c, std::cmp::Reverse(**s))).map(|(s, _)| s.to_string()).unwrap_or_default();
            Some((id, name, kind, passed, n, most))
        })
        .collect();
    let n = scores.len();
    Stats {
        count: entries.len(),
        graded: n,
        compile_errors: entries.iter().filter(|e| e.status() == "compile_error").count(),
        errors: entries.iter().filter(|e| e.failed()).count(),
        mean: if n > 0 { scores.iter().sum::<f64>() / n as f64 } else { 0.0 },
        median,
        min: scores.first().copied().unwrap_or(0.0),
        max: scores.last().copied().unwrap_or(0.0),
        bins,
        items,
        slowest,
        tampered,
    }
}

fn kind_id(kind: crate::spec::Kind) -> String {
    serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

fn bin_label(i: usize) -> String {
    if i == 9 { "90-100".into() } else { format!("{}-{}", i * 10, i * 10 + 10) }
}

pub fn text(m: &Manifest, entries: &[Entry]) -> String {
    let s = stats(entries);
    let mut out = String::new();
    let _ = writeln!(out, "{} - {}", m.lab, m.title);
    let _ = writeln!(
        out,
        "{} submissions: {} graded ({} did not compile), {} could not be graded",
        s.count, s.graded, s.compile_errors, s.errors
    );
    let _ = writeln!(out, "score: mean {:.1}, median {:.1}, min {:.1}, max {:.1}\n", s.mean, s.median, s.min, s.max);
    if !s.tampered.is_empty() {
        let _ = writeln!(out, "TAMPERED: the grader caught these submissions touching its own machinery (0 points each)");
        for (student, item, message) in &s.tampered {
            let _ = writeln!(out, "  {student}  {item}: {}", crate::report::text::safe(message));
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "distribution");
    let top = s.bins.iter().copied().max().unwrap_or(0).max(1);
    for (i, c) in s.bins.iter().enumerate() {
        let bar = "#".repeat((c * 40).div_ceil(top));
        let _ = writeln!(out, "  {:>7} {:<40} {c}", bin_label(i), bar);
    }
    let _ = writeln!(out, "\nitems (full marks / graded)");
    let w = s.items.iter().map(|i| i.0.len()).max().unwrap_or(4).max(4);
    for (id, _, kind, passed, n, most) in &s.items {
        let rate = if *n > 0 { 100.0 * *passed as f64 / *n as f64 } else { 0.0 };
        let other = if most.is_empty() { String::new() } else { format!("  mostly {most} otherwise") };
        let _ = writeln!(out, "  {id:<w$}  {kind:<13} {passed:>3}/{n:<3} {rate:5.1}%{other}");
    }
    let _ = writeln!(out, "\nslowest");
    for (student, secs) in &s.slowest {
        let _ = writeln!(out, "  {student:<24} {secs:6.1} s");
    }
    if !m.ignored.is_empty() {
        let _ = writeln!(out, "\nignored (not folders): {}", m.ignored.join(", "));
    }
    let errors: Vec<&Entry> = entries.iter().filter(|e| e.failed()).collect();
    if !errors.is_empty() {
        let _ = writeln!(out, "\nnot graded");
        for e in errors {
            if let Entry::Failed { student, message, .. } = e {
                let _ = writeln!(out, "  {student}: {}: {}", e.status(), message.lines().next().unwrap_or_default());
            }
        }
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub fn html(m: &Manifest, entries: &[Entry]) -> String {
    let s = stats(entries);
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{lab}: class summary</title>\n<style>\
body{{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:60em;color:#222}}table{{border-collapse:collapse}}\
td,th{{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left}}td.n{{text-align:right}}\
.bar{{fill:#4a78c2}}.lbl{{font-size:11px;fill:#444}}</style></head><body>\n<h1>{lab}: {title}</h1>\n",
        lab = esc(&m.lab),
        title = esc(&m.title)
    );
    let _ = write!(
        h,
        "<p>{} submissions: {} graded ({} did not compile), {} could not be graded. Score: mean {:.1}, median {:.1}, \
min {:.1}, max {:.1}.</p>\n",
        s.count, s.graded, s.compile_errors, s.errors, s.mean, s.median, s.min, s.max
    );
    if !s.tampered.is_empty() {
        h.push_str("<h2>Tampered</h2>\n<p>The grader caught these submissions touching its own machinery (0 points each).</p>\n<table><tr><th>student</th><th>item</th><th>what</th></tr>\n");
        for (student, item, message) in &s.tampered {
            let _ = writeln!(h, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", esc(student), esc(item), esc(message));
        }
        h.push_str("</table>\n");
    }
    // The histogram: an inline SVG, one bar per ten points.
    let top = s.bins.iter().copied().max().unwrap_or(0).max(1) as f64;
    let _ = write!(h, "<h2>Score distribution</h2>\n<svg width=\"620\" height=\"240\" role=\"img\" aria-label=\"score histogram\">\n");
    for (i, c) in s.bins.iter().enumerate() {
        let height = 180.0 * *c as f64 / top;
        let x = 20 + i * 60;
        let _ = writeln!(
            h,
            "<rect class=\"bar\" x=\"{x}\" y=\"{:.1}\" width=\"50\" height=\"{height:.1}\"><title>{}: {c}</title></rect>\
<text class=\"lbl\" x=\"{}\" y=\"{:.1}\" text-anchor=\"middle\">{c}</text>\
<text class=\"lbl\" x=\"{}\" y=\"225\" text-anchor=\"middle\">{}</text>",
            200.0 - height,
            bin_label(i),
            x + 25,
            195.0 - height,
            x + 25,
            bin_label(i)
        );
    }
    h.push_str("</svg>\n<h2>Items</h2>\n<table><tr><th>item</th><th>kind</th><th>full marks</th><th>rate</th><th>otherwise mostly</th></tr>\n");
    for (id, name, kind, passed, n, most) in &s.items {
        let rate = if *n > 0 { 100.0 * *passed as f64 / *n as f64 } else { 0.0 };
        let _ = writeln!(
            h,
            "<tr><td title=\"{}\">{}</td><td>{}</td><td class=\"n\">{passed}/{n}</td><td class=\"n\">{rate:.1}%</td><td>{}</td></tr>",
            esc(name),
            esc(id),
            esc(kind),
            esc(most)
        );
    }
    h.push_str("</table>\n<h2>Slowest submissions</h2>\n<table><tr><th>student</th><th>seconds</th></tr>\n");
    for (student, secs) in &s.slowest {
        let _ = writeln!(h, "<tr><td>{}</td><td class=\"n\">{secs:.1}</td></tr>", esc(student));
    }
    h.push_str("</table>\n<h2>Students</h2>\n<table><tr><th>student</th><th>status</th><th>score</th></tr>\n");
    for e in entries {
        let score = e.score().map(|x| format!("{x:.2}")).unwrap_or_default();
        let _ = writeln!(h, "<tr><td>{}</td><td>{}</td><td class=\"n\">{score}</td></tr>", esc(e.student()), e.status());
    }
    let _ = write!(
        h,
        "</table>\n<p><small>grade {} &middot; spec sha256 {}</small></p>\n</body></html>\n",
        esc(&m.grader_version),
        esc(&m.spec_sha256)
    );
    h
}
