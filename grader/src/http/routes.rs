//! What the fixture server answers: routes with status, body, latency and injected failures.
//! The same model is read from a spec item's `http:` block and from a check's `ctx.http.configure()`.
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    #[serde(default)]
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// An exact path (`/a`), or a prefix ending in `*` (`/page/*`). The first route that matches answers.
    pub path: String,
    #[serde(default = "ok")]
    pub status: u16,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Milliseconds before the answer: a number, or `[min, max]` drawn uniformly from the server's seed.
    #[serde(default)]
    pub latency_ms: Latency,
    #[serde(default)]
    pub fail: Option<Fail>,
}

fn ok() -> u16 {
    200
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Latency {
    Fixed(f64),
    Range([f64; 2]),
}

impl Default for Latency {
    fn default() -> Self {
        Latency::Fixed(0.0)
    }
}

/// When a request to the route fails, and how. Every condition given must hold (none given: always).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fail {
    /// The first N requests to this route (since the last reset).
    #[serde(default)]
    pub first: Option<u64>,
    /// Every Nth request (the Nth, 2Nth, ...).
    #[serde(default)]
    pub every: Option<u64>,
    /// Each request with this probability, drawn from the server's seed.
    #[serde(default)]
    pub probability: Option<f64>,
    /// Requests arriving in `[from, to)` milliseconds after the last reset.
    #[serde(default)]
    pub window_ms: Option<[f64; 2]>,
    #[serde(default)]
    pub with: FailWith,
    /// The status of a `with: status` failure.
    #[serde(default = "server_error")]
    pub status: u16,
    /// How long a `slow_body` takes to send its body, or a `timeout` holds the request (at most 30 s).
    #[serde(default = "slow")]
    pub slow_ms: f64,
}

fn server_error() -> u16 {
    500
}

fn slow() -> f64 {
    2000.0
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailWith {
    /// Answer with `status` (500 unless given).
    #[default]
    Status,
    /// Close the connection with a TCP reset, no answer.
    Reset,
    /// Never answer (the connection stays open for `slow_ms`, then closes).
    Timeout,
    /// Answer at once, but send the body a piece at a time over `slow_ms`.
    SlowBody,
}

/// What one request gets.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Respond { status: u16, body: String, content_type: String, headers: BTreeMap<String, String>, slow: Option<Duration> },
    Reset,
    Hold(Duration),
}

impl HttpSpec {
    /// Checks what serde cannot: paths, probabilities, ranges. The message names the route.
    pub fn validate(&self) -> Result<(), String> {
        for (i, r) in self.routes.iter().enumerate() {
            let at = format!("routes[{i}] (`{}`)", r.path);
            if !r.path.starts_with('/') {
                return Err(format!("{at}: a path starts with `/`"));
            }
            if !(100..=599).contains(&r.status) {
                return Err(format!("{at}: status {} is not an HTTP status", r.status));
            }
            match r.latency_ms {
                Latency::Fixed(v) if !(0.0..=60_000.0).contains(&v) => {
                    return Err(format!("{at}: latency_ms must be 0 to 60000"))
                }
                Latency::Range([a, b]) if !(0.0 <= a && a <= b && b <= 60_000.0) => {
                    return Err(format!("{at}: latency_ms [min, max] needs 0 <= min <= max <= 60000"))
                }
                _ => {}
            }
            if let Some(f) = &r.fail {
                if f.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
                    return Err(format!("{at}: fail.probability must be between 0 and 1"));
                }
                if f.every == Some(0) {
                    return Err(format!("{at}: fail.every must be at least 1"));
                }
                if !(0.0..=30_000.0).contains(&f.slow_ms) {
                    return Err(format!("{at}: fail.slow_ms must be 0 to 30000"));
                }
            }
        }
        Ok(())
    }
}

/// The routes in force, with per-route request counts and the seeded draws, since the last reset.
pub struct Router {
    spec: HttpSpec,
    counts: Vec<u64>,
    rng: rand::rngs::StdRng,
    seed: u64,
}

impl Router {
    pub fn new(spec: HttpSpec, seed: u64) -> Router {
        let counts = vec![0; spec.routes.len()];
        Router { spec, counts, rng: rand::rngs::StdRng::seed_from_u64(seed), seed }
    }

    pub fn replace(&mut self, spec: HttpSpec) {
        self.counts = vec![0; spec.routes.len()];
        self.spec = spec;
        self.reset();
    }

    pub fn reset(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0);
        self.rng = rand::rngs::StdRng::seed_from_u64(self.seed);
    }

    /// The latency to wait and the answer to give, for a request arriving `since_reset` after the reset.
    pub fn answer(&mut self, path: &str, since_reset: Duration) -> (Duration, Answer) {
        let Some(i) = self.spec.routes.iter().position(|r| matches(&r.path, path)) else {
            return (Duration::ZERO, respond(404, format!("no route for {path}"), "text/plain", BTreeMap::new()));
        };
        self.counts[i] += 1;
        let n = self.counts[i];
        let route = &self.spec.routes[i];
        let latency = match route.latency_ms {
            Latency::Fixed(v) => v,
            Latency::Range([a, b]) if b > a => self.rng.gen_range(a..b),
            Latency::Range([a, _]) => a,
        };
        let latency = Duration::from_secs_f64(latency / 1000.0);
        let content_type = route.content_type.clone().unwrap_or_else(|| guess_type(&route.body).into());
        if let Some(f) = &route.fail {
            let draw: f64 = self.rng.gen();
            let ms = since_reset.as_secs_f64() * 1000.0;
            let fails = f.first.is_none_or(|k| n <= k)
                && f.every.is_none_or(|k| n % k == 0)
                && f.probability.is_none_or(|p| draw < p)
                && f.window_ms.is_none_or(|[a, b]| a <= ms && ms < b);
            if fails {
                let slow = Duration::from_secs_f64(f.slow_ms / 1000.0);
                let answer = match f.with {
                    FailWith::Status => respond(f.status, format!("injected failure {}", f.status), "text/plain", BTreeMap::new()),
                    FailWith::Reset => Answer::Reset,
                    FailWith::Timeout => Answer::Hold(slow),
                    FailWith::SlowBody => Answer::Respond {
                        status: route.status,
                        body: route.body.clone(),
                        content_type,
                        headers: route.headers.clone(),
                        slow: Some(slow),
                    },
                };
                return (latency, answer);
            }
        }
        (latency, respond(route.status, route.body.clone(), &content_type, route.headers.clone()))
    }
}

fn respond(status: u16, body: String, content_type: &str, headers: BTreeMap<String, String>) -> Answer {
    Answer::Respond { status, body, content_type: content_type.into(), headers, slow: None }
}

fn matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => pattern == path,
    }
}

fn guess_type(body: &str) -> &'static str {
    let t = body.trim_start();
    if t.starts_with('<') {
        "text/html; charset=utf-8"
    } else if t.starts_with('{') || t.starts_with('[') {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> HttpSpec {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn exact_and_prefix_paths_match_in_order() {
        let mut r = Router::new(spec("routes:\n  - {path: /a, body: A}\n  - {path: '/p/*', status: 201}\n"), 1);
        assert!(matches!(r.answer("/a", Duration::ZERO).1, Answer::Respond { status: 200, ref body, .. } if body == "A"));
        assert!(matches!(r.answer("/p/x/y", Duration::ZERO).1, Answer::Respond { status: 201, .. }));
        assert!(matches!(r.answer("/b", Duration::ZERO).1, Answer::Respond { status: 404, .. }));
    }

    #[test]
    fn first_every_and_window_failures_count_per_route_and_reset() {
        let mut r = Router::new(
            spec("routes:\n  - {path: /f, fail: {first: 2, status: 503}}\n  - {path: /e, fail: {every: 3, with: reset}}\n  - {path: /w, fail: {window_ms: [0, 100]}}\n"),
            1,
        );
        let st = |a: Answer| match a {
            Answer::Respond { status, .. } => status,
            Answer::Reset => 0,
            Answer::Hold(_) => 1,
        };
        let f: Vec<u16> = (0..4).map(|_| st(r.answer("/f", Duration::ZERO).1)).collect();
        assert_eq!(f, [503, 503, 200, 200]);
        let e: Vec<u16> = (0..6).map(|_| st(r.answer("/e", Duration::ZERO).1)).collect();
        assert_eq!(e, [200, 200, 0, 200, 200, 0]);
        assert_eq!(st(r.answer("/w", Duration::from_millis(50)).1), 500);
        assert_eq!(st(r.answer("/w", Duration::from_millis(150)).1), 200);
        r.reset();
        assert_eq!(st(r.answer("/f", Duration::ZERO).1), 503);
    }

    #[test]
    fn seeded_draws_repeat_after_a_reset() {
        let mut r = Router::new(spec("routes:\n  - {path: /r, latency_ms: [10, 90], fail: {probability: 0.5}}\n"), 7);
        let run = |r: &mut Router| (0..20).map(|_| format!("{:?}", r.answer("/r", Duration::ZERO))).collect::<Vec<_>>();
        let a = run(&mut r);
        r.reset();
        assert_eq!(a, run(&mut r));
        assert!(a.iter().any(|x| x.contains("500")) && a.iter().any(|x| x.contains("status: 200")));
    }

    #[test]
    fn bad_routes_are_named() {
        assert!(spec("routes:\n  - {path: a}\n").validate().unwrap_err().contains("routes[0] (`a`)"));
        assert!(spec("routes:\n  - {path: /a, fail: {probability: 2}}\n").validate().unwrap_err().contains("probability"));
        assert!(serde_saphyr::from_str::<HttpSpec>("routes:\n  - {path: /a, colour: red}\n").is_err());
    }
}
