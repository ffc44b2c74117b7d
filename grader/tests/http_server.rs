//! The fixture HTTP server as a client meets it: answers, latency, injected failures, the record.
use grade::http::{HttpSpec, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn server(yaml: &str) -> Server {
    let spec: HttpSpec = serde_saphyr::from_str(yaml).expect("routes");
    spec.validate().expect("valid routes");
    Server::start(&spec, 42, None).expect("server starts")
}

/// Sends one HTTP/1.1 request with `Connection: close`; returns what came back, or the read error.
fn get(s: &Server, method: &str, path: &str, body: &str) -> std::io::Result<String> {
    let mut c = TcpStream::connect(("127.0.0.1", s.port))?;
    c.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(c, "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}", body.len())?;
    let mut out = String::new();
    c.read_to_string(&mut out)?;
    Ok(out)
}

fn control(s: &Server, method: &str, what: &str, body: &str) -> serde_json::Value {
    let raw = get(s, method, &format!("/__grade/{}/{what}", s.token), body).unwrap();
    let body = raw.split_once("\r\n\r\n").unwrap().1;
    serde_json::from_str(body).unwrap_or_else(|_| panic!("{raw}"))
}

#[test]
fn routes_answer_with_status_body_and_latency() {
    let s = server("routes:\n  - {path: /a, body: hello, latency_ms: 150}\n  - {path: '/p/*', status: 404}\n");
    let t = Instant::now();
    let a = get(&s, "GET", "/a", "").unwrap();
    assert!(t.elapsed() >= Duration::from_millis(150), "{:?}", t.elapsed());
    assert!(a.starts_with("HTTP/1.1 200") && a.ends_with("hello"), "{a}");
    assert!(get(&s, "GET", "/p/x", "").unwrap().starts_with("HTTP/1.1 404"));
    assert!(get(&s, "GET", "/nothing", "").unwrap().contains("no route for /nothing"));
}

#[test]
fn the_record_has_every_request_and_resets() {
    let s = server("routes:\n  - {path: /a, latency_ms: 50}\n");
    get(&s, "GET", "/a?x=1", "").unwrap();
    get(&s, "POST", "/a", "12345").unwrap();
    let r = control(&s, "GET", "requests", "");
    let reqs = r["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 2, "{r}");
    assert_eq!(reqs[0]["query"], "x=1");
    assert_eq!(reqs[1]["method"], "POST");
    assert_eq!(reqs[1]["body_bytes"], 5);
    let (start, end) = (reqs[0]["start_ms"].as_f64().unwrap(), reqs[0]["end_ms"].as_f64().unwrap());
    assert!(end - start >= 49.0, "{r}");
    control(&s, "POST", "reset", "");
    assert_eq!(control(&s, "GET", "requests", "")["requests"].as_array().unwrap().len(), 0);
}

#[test]
fn the_control_endpoints_need_the_token() {
    let s = server("routes: []\n");
    assert!(get(&s, "GET", "/__grade/0000/requests", "").unwrap().starts_with("HTTP/1.1 403"));
}

#[test]
fn a_check_can_replace_the_routes() {
    let s = server("routes: []\n");
    control(&s, "PUT", "routes", r#"{"routes": [{"path": "/new", "status": 201}]}"#);
    assert!(get(&s, "GET", "/new", "").unwrap().starts_with("HTTP/1.1 201"));
    let bad = get(&s, "PUT", &format!("/__grade/{}/routes", s.token), r#"{"routes": [{"path": "x"}]}"#).unwrap();
    assert!(bad.starts_with("HTTP/1.1 400") && bad.contains("a path starts with"), "{bad}");
}

#[test]
fn injected_failures_happen_as_configured() {
    let s = server(concat!(
        "routes:\n",
        "  - {path: /flaky, body: ok, fail: {first: 2, status: 503}}\n",
        "  - {path: /reset, fail: {with: reset}}\n",
        "  - {path: /hold, fail: {with: timeout, slow_ms: 300}}\n",
        "  - {path: /slow, body: '0123456789', fail: {with: slow_body, slow_ms: 300}}\n",
    ));
    let codes: Vec<String> = (0..3).map(|_| get(&s, "GET", "/flaky", "").unwrap()[9..12].to_string()).collect();
    assert_eq!(codes, ["503", "503", "200"]);
    let reset = get(&s, "GET", "/reset", "");
    assert_eq!(reset.map_err(|e| e.kind()), Err(std::io::ErrorKind::ConnectionReset));
    let t = Instant::now();
    assert_eq!(get(&s, "GET", "/hold", "").unwrap(), "", "held, then closed with no answer");
    assert!(t.elapsed() >= Duration::from_millis(300));
    let t = Instant::now();
    let slow = get(&s, "GET", "/slow", "").unwrap();
    assert!(slow.starts_with("HTTP/1.1 200") && slow.ends_with("0123456789"), "{slow}");
    assert!(t.elapsed() >= Duration::from_millis(250), "{:?}", t.elapsed());
    let reqs = control(&s, "GET", "requests", "");
    let injected: Vec<&str> = reqs["requests"].as_array().unwrap().iter().map(|r| r["injected"].as_str().unwrap()).collect();
    assert_eq!(injected, ["status", "status", "none", "reset", "timeout", "slow_body"]);
}

#[test]
fn concurrent_requests_overlap_on_the_server() {
    let s = server("routes:\n  - {path: /a, latency_ms: 200}\n");
    let t = Instant::now();
    std::thread::scope(|sc| {
        for _ in 0..8 {
            sc.spawn(|| get(&s, "GET", "/a", "").unwrap());
        }
    });
    assert!(t.elapsed() < Duration::from_millis(1200), "8 requests of 200 ms overlap: {:?}", t.elapsed());
    let reqs = control(&s, "GET", "requests", "");
    let reqs = reqs["requests"].as_array().unwrap();
    let latest_start = reqs.iter().map(|r| r["start_ms"].as_f64().unwrap()).fold(0.0, f64::max);
    let earliest_end = reqs.iter().map(|r| r["end_ms"].as_f64().unwrap()).fold(f64::MAX, f64::min);
    assert!(latest_start < earliest_end, "all 8 in flight at once");
}
