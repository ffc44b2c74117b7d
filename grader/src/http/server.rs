//! The fixture server: hyper on a free loopback port, one per item run, answering by the routes in force
//! and recording every request. The check reads and steers it at `/__grade/<token>/...`.
use super::routes::{Answer, HttpSpec, Router};
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::{Request, Response};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::future::Future;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

type BoxedBody = BoxBody<Bytes, Infallible>;

/// One request as the server saw it. Times are milliseconds since the last reset.
#[derive(Debug, Clone, Serialize)]
struct Record {
    id: u64,
    connection: u64,
    method: String,
    path: String,
    query: Option<String>,
    headers: BTreeMap<String, String>,
    body_bytes: usize,
    start_ms: f64,
    end_ms: Option<f64>,
    status: Option<u16>,
    /// `none`, or the failure injected: `status`, `reset`, `timeout`, `slow_body`; `abandoned` when the
    /// client went away before the answer.
    injected: &'static str,
}

struct Shared {
    router: Mutex<Router>,
    log: Mutex<Vec<Record>>,
    epoch: Mutex<Instant>,
    ids: AtomicU64,
    token: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn ms(&self, at: Instant) -> f64 {
        at.saturating_duration_since(*lock(&self.epoch)).as_secs_f64() * 1000.0
    }
}

/// A running fixture server; it stops, and drops every connection, when dropped.
pub struct Server {
    pub port: u16,
    pub token: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("grade-http")
            .enable_all()
            .build()
            .expect("a tokio runtime for the fixture server")
    })
}

impl Server {
    /// Starts serving `spec` on a free port of 127.0.0.1: in `net` when given (the run's own network
    /// namespace, where only that run can reach it), else on the machine's loopback.
    pub fn start(spec: &HttpSpec, seed: u64, net: Option<&crate::runner::jail::Netns>) -> std::io::Result<Server> {
        let any: std::net::SocketAddr = ([127, 0, 0, 1], 0).into();
        let std_listener = match net {
            Some(n) => n.listen(any)?,
            None => std::net::TcpListener::bind(any)?,
        };
        std_listener.set_nonblocking(true)?;
        let port = std_listener.local_addr()?.port();
        let token = format!("{:016x}", rand::random::<u64>());
        let shared = Arc::new(Shared {
            router: Mutex::new(Router::new(spec.clone(), seed)),
            log: Mutex::new(Vec::new()),
            epoch: Mutex::new(Instant::now()),
            ids: AtomicU64::new(0),
            token: token.clone(),
        });
        let rt = runtime();
        let listener = {
            let _guard = rt.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        rt.spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            let mut next_conn = 0u64;
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => {
                        if let Ok((stream, _)) = accepted {
                            next_conn += 1;
                            conns.spawn(serve(stream, shared.clone(), next_conn));
                        }
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
            conns.abort_all();
        });
        Ok(Server { port, token, stop: Some(stop) })
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve(stream: tokio::net::TcpStream, shared: Arc<Shared>, conn: u64) {
    let _ = stream.set_nodelay(true);
    let fd = stream.as_raw_fd();
    let abort = Arc::new(Notify::new());
    let io = hyper_util::rt::TokioIo::new(stream);
    let svc_abort = abort.clone();
    let service = hyper::service::service_fn(move |req| handle(shared.clone(), conn, fd, svc_abort.clone(), req));
    let connection = hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(io, service);
    tokio::select! {
        _ = connection => {}
        _ = abort.notified() => {}
    }
}

/// Records a request's end when dropped unfinished (the client went away first).
struct Guard {
    shared: Arc<Shared>,
    id: u64,
    done: bool,
}

impl Guard {
    fn finish(&mut self, status: Option<u16>, injected: Option<&'static str>) {
        self.done = true;
        let end = self.shared.ms(Instant::now());
        if let Some(r) = lock(&self.shared.log).iter_mut().rev().find(|r| r.id == self.id) {
            r.end_ms = Some(end);
            r.status = status;
            if let Some(i) = injected {
                r.injected = i;
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.done {
            self.finish(None, Some("abandoned"));
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    conn: u64,
    fd: RawFd,
    abort: Arc<Notify>,
    req: Request<Incoming>,
) -> Result<Response<BoxedBody>, Infallible> {
    let path = req.uri().path().to_string();
    if let Some(rest) = path.strip_prefix("/__grade/") {
        return Ok(control(&shared, rest, req).await);
    }
    let arrived = Instant::now();
    let since = arrived.saturating_duration_since(*lock(&shared.epoch));
    let (latency, answer) = lock(&shared.router).answer(&path, since);
    let id = shared.ids.fetch_add(1, Ordering::Relaxed);
    let headers = req
        .headers()
        .iter()
        .take(32)
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).chars().take(200).collect()))
        .collect();
    lock(&shared.log).push(Record {
        id,
        connection: conn,
        method: req.method().to_string(),
        path,
        query: req.uri().query().map(String::from),
        headers,
        body_bytes: 0,
        start_ms: since.as_secs_f64() * 1000.0,
        end_ms: None,
        status: None,
        injected: "none",
    });
    let mut guard = Guard { shared: shared.clone(), id, done: false };
    let body_bytes = req.into_body().collect().await.map(|b| b.to_bytes().len()).unwrap_or(0);
    if let Some(r) = lock(&shared.log).iter_mut().rev().find(|r| r.id == id) {
        r.body_bytes = body_bytes;
    }
    tokio::time::sleep(latency.saturating_sub(arrived.elapsed())).await;
    match answer {
        Answer::Respond { status, body, content_type, headers, slow } => {
            let injected_status = status >= 500 && body.starts_with("injected failure");
            let mut builder = Response::builder().status(status).header("content-type", content_type);
            for (k, v) in &headers {
                builder = builder.header(k.as_str(), v.as_str());
            }
            let body: BoxedBody = match slow {
                Some(over) => SlowBody::new(Bytes::from(body), over, guard, status).boxed(),
                None => {
                    guard.finish(Some(status), injected_status.then_some("status"));
                    Full::new(Bytes::from(body)).boxed()
                }
            };
            Ok(builder.body(body).unwrap_or_else(|_| plain(500, "bad route headers".into())))
        }
        Answer::Reset => {
            // SO_LINGER 0, then dropping the connection sends a TCP reset instead of a clean close.
            let linger = nix::libc::linger { l_onoff: 1, l_linger: 0 };
            // SAFETY: the connection that owns `fd` is alive until `abort` is acted on, after this returns.
            let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
            let _ = nix::sys::socket::setsockopt(&borrowed, nix::sys::socket::sockopt::Linger, &linger);
            guard.finish(None, Some("reset"));
            abort.notify_one();
            std::future::pending::<()>().await;
            unreachable!()
        }
        Answer::Hold(d) => {
            tokio::time::sleep(d).await;
            guard.finish(None, Some("timeout"));
            abort.notify_one();
            std::future::pending::<()>().await;
            unreachable!()
        }
    }
}

fn plain(status: u16, text: String) -> Response<BoxedBody> {
    let mut r = Response::new(Full::new(Bytes::from(text)).boxed());
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    r
}

fn json(value: serde_json::Value) -> Response<BoxedBody> {
    let mut r = plain(200, value.to_string());
    r.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
    r
}

/// `GET requests`, `POST reset`, `PUT routes` (JSON `{routes: [...]}`): the check's side of the server.
async fn control(shared: &Shared, rest: &str, req: Request<Incoming>) -> Response<BoxedBody> {
    let Some((token, what)) = rest.split_once('/') else { return plain(404, "no such control".into()) };
    if token != shared.token {
        return plain(403, "not the grader's token".into());
    }
    match (req.method().as_str(), what) {
        ("GET", "requests") => {
            let log = lock(&shared.log).clone();
            json(serde_json::json!({"requests": log}))
        }
        ("POST", "reset") => {
            reset(shared);
            json(serde_json::json!({"ok": true}))
        }
        ("PUT", "routes") => {
            let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            match serde_json::from_slice::<HttpSpec>(&body) {
                Ok(spec) => match spec.validate() {
                    Ok(()) => {
                        lock(&shared.router).replace(spec);
                        reset(shared);
                        json(serde_json::json!({"ok": true}))
                    }
                    Err(e) => plain(400, e),
                },
                Err(e) => plain(400, format!("routes: {e}")),
            }
        }
        _ => plain(404, format!("no control `{} {what}`", req.method())),
    }
}

fn reset(shared: &Shared) {
    lock(&shared.router).reset();
    lock(&shared.log).clear();
    *lock(&shared.epoch) = Instant::now();
}

/// A body sent a piece at a time over a given duration (an injected slow body).
struct SlowBody {
    chunks: VecDeque<Bytes>,
    remaining: u64,
    every: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
    guard: Option<(Guard, u16)>,
}

impl SlowBody {
    fn new(body: Bytes, over: Duration, guard: Guard, status: u16) -> SlowBody {
        let pieces = body.len().clamp(1, 10);
        let size = body.len().div_ceil(pieces).max(1);
        let chunks: VecDeque<Bytes> =
            (0..body.len()).step_by(size).map(|i| body.slice(i..(i + size).min(body.len()))).collect();
        let every = over / (chunks.len().max(1) as u32);
        SlowBody {
            remaining: body.len() as u64,
            chunks,
            every,
            sleep: Box::pin(tokio::time::sleep(every)),
            guard: Some((guard, status)),
        }
    }
}

impl Body for SlowBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.chunks.is_empty() {
            if let Some((mut g, status)) = self.guard.take() {
                g.finish(Some(status), Some("slow_body"));
            }
            return Poll::Ready(None);
        }
        if self.sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let every = self.every;
        self.sleep.as_mut().reset(tokio::time::Instant::now() + every);
        let chunk = self.chunks.pop_front().unwrap_or_default();
        self.remaining -= chunk.len() as u64;
        if self.chunks.is_empty() {
            // hyper may not ask again once the exact length is sent.
            if let Some((mut g, status)) = self.guard.take() {
                g.finish(Some(status), Some("slow_body"));
            }
        }
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}
