//! The HTTP server: accepting connections, per-request pipeline, lifecycle.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{ACCESS_CONTROL_ALLOW_HEADERS, CONTENT_LENGTH, HeaderValue, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::body::Body;
use crate::errors::{ApiError, Service, respond, service_error};
use crate::faults::{Endpoint, Fault, Faults};
use crate::options::Options;
use crate::request::{Req, parse_query};
use crate::routes::{self, Route};
use crate::signature::{self, Signed};
use crate::state::Shared;
use crate::{groups, presence_api, publish, subscribe};

/// Longest the presence timer sleeps, so timeouts fire within this of their deadline.
const TIMER_GRANULARITY: Duration = Duration::from_millis(250);

/// A running dev server on its own thread with its own tokio runtime; dropping it shuts it down.
#[derive(Debug)]
pub struct DevServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl DevServer {
    /// Binds `addr` (port 0 picks a free port) and serves on a background thread.
    pub fn start(addr: SocketAddr, options: Options) -> io::Result<DevServer> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(options));
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready, started) = mpsc::channel::<io::Result<()>>();
        let task_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("pn-devserver".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("pn-devserver-worker")
                    .enable_all()
                    .build();
                let runtime = match runtime {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let result = runtime.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(e) => {
                            let _ = ready.send(Err(e));
                            return Ok(());
                        }
                    };
                    let _ = ready.send(Ok(()));
                    run(listener, task_shared, async {
                        let _ = stopped.await;
                    })
                    .await
                });
                if let Err(e) = result {
                    eprintln!("pn-devserver: {e}");
                }
                runtime.shutdown_timeout(Duration::from_millis(100));
            })?;
        match started.recv() {
            Ok(Ok(())) => Ok(DevServer {
                addr,
                shared,
                stop: Some(stop),
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => Err(io::Error::other("dev server thread ended before starting")),
        }
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, e.g. `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `host:port`, the form SDK `origin` settings take.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Handle to this server's fault rules and request counters.
    pub fn faults(&self) -> Faults {
        self.shared.faults.clone()
    }

    /// How many receive long-polls are parked on the channel or group `name` right now.
    pub fn parked_subscribers(&self, name: &str) -> usize {
        self.shared.parked.count(name)
    }

    /// Blocks until at least `n` receive long-polls are parked on the channel or group `name`
    /// (so a publish now reaches them), or `timeout` passes; returns whether they were.
    pub fn wait_for_subscribers(&self, name: &str, n: usize, timeout: Duration) -> bool {
        self.shared.parked.wait(name, n, timeout)
    }

    /// Blocks until `uuid` is (or, with `present` false, is not) present on `channel` of
    /// `sub_key`, or `timeout` passes; returns whether it happened.
    pub fn wait_for_presence(
        &self,
        sub_key: &str,
        channel: &str,
        uuid: &str,
        present: bool,
        timeout: Duration,
    ) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let now_present = self
                .shared
                .lock()
                .keyset(sub_key)
                .is_some_and(|k| k.presence.is_present(channel, uuid));
            if now_present == present {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops accepting, ends long-polls, and waits for the server thread.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// Serves on `listener` until `shutdown` completes, then stops accepting, answers parked
/// long-polls, and closes connections (after `Options::shutdown_grace` at the latest).
pub async fn serve(
    listener: TcpListener,
    options: Options,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    run(listener, Arc::new(Shared::new(options)), shutdown).await
}

async fn run(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let timer = tokio::spawn(presence_timer(Arc::clone(&shared)));
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(connection(stream, Arc::clone(&shared)));
                }
                // e.g. out of file descriptors: back off instead of spinning
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    shared.closing.send_replace(true);
    let grace = tokio::time::sleep(shared.options.shutdown_grace);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            next = connections.join_next() => if next.is_none() { break },
            _ = &mut grace => break,
        }
    }
    connections.abort_all();
    timer.abort();
    Ok(())
}

/// Serves one connection until it closes; on shutdown, finishes the request in flight.
async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let mut closing = shared.closing.subscribe();
    let service = service_fn(move |request| handle(Arc::clone(&shared), request));
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = closing.wait_for(|c| *c) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// The error that makes hyper drop a connection without answering.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

/// Handles one request: records it, applies any fault, answers.
async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Dropped> {
    let method = request.method().as_str().to_owned();
    let target = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path().to_owned(), |pq| pq.to_string());
    let endpoint = Endpoint::of_path(request.uri().path());
    let fault = shared.faults.arrive(&method, &target, endpoint);
    let mut closing = shared.closing.subscribe();
    let response = match fault {
        None => answer(&shared, request).await,
        Some(Fault::CloseConnection) => return Err(Dropped),
        Some(Fault::Stall) => {
            let _ = closing.wait_for(|c| *c).await;
            return Err(Dropped);
        }
        Some(Fault::Delay(pause)) => {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = closing.wait_for(|c| *c) => {}
            }
            answer(&shared, request).await
        }
        Some(Fault::Status { code, retry_after }) => {
            let reason = StatusCode::from_u16(code)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Error");
            let mut response = service_error(Service::Balancer, code, reason);
            if let Some(secs) = retry_after {
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(secs));
            }
            response
        }
        Some(Fault::Truncate) => {
            let (mut parts, body) = answer(&shared, request).await.into_parts();
            let body = Body::truncated(body.bytes());
            parts
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(body.announced_len()));
            Response::from_parts(parts, body)
        }
    };
    if shared.log_requests {
        eprintln!(
            "pn-devserver: {method} {target} -> {}",
            response.status().as_u16()
        );
    }
    Ok(response)
}

/// The normal answer to a request.
async fn answer(shared: &Arc<Shared>, request: Request<Incoming>) -> Response<Body> {
    match process(shared, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn process(
    shared: &Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let options = &shared.options;
    let target_len = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if target_len > options.max_url_length {
        return Err(ApiError::UriTooLong);
    }
    let method = request.method().as_str().to_owned();
    if method == "OPTIONS" {
        let mut response = respond(200, Vec::new());
        response
            .headers_mut()
            .insert(ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("*"));
        return Ok(response);
    }
    if method != "GET" && method != "POST" {
        return Ok(service_error(Service::Balancer, 405, "Method Not Allowed"));
    }
    let path = request.uri().path().to_owned();
    let query = parse_query(request.uri().query().unwrap_or(""))
        .ok_or_else(|| ApiError::bad(Service::Balancer, "Invalid query encoding"))?;
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > options.max_body_size as u64) {
        return Err(ApiError::BodyTooLarge);
    }
    let route = routes::parse(&path)?;
    let body = Limited::new(request.into_body(), options.max_body_size)
        .collect()
        .await
        .map_err(|_| ApiError::BodyTooLarge)?
        .to_bytes();
    let req = Req {
        method,
        path,
        query,
        body,
    };
    if let Some(secret) = &options.secret_key {
        if route != Route::Time {
            let signed = Signed {
                method: &req.method,
                pub_key: options
                    .publish_key
                    .as_deref()
                    .or(route.pub_key())
                    .unwrap_or(""),
                sub_key: route.sub_key(),
                path: &req.path,
                query: &req.query,
                body: &req.body,
            };
            if !signature::verify(secret, &signed) {
                return Err(ApiError::InvalidSignature);
            }
        }
    }
    match route {
        Route::Time => Ok(respond(
            200,
            format!("[{}]", shared.timetoken()).into_bytes(),
        )),
        Route::Publish {
            signal,
            sub_key,
            channel,
            message,
            ..
        } => publish::handle(shared, &req, signal, &sub_key, &channel, message.as_deref()),
        Route::Subscribe { sub_key, channels } => {
            subscribe::handle(Arc::clone(shared), req, sub_key, channels).await
        }
        Route::Presence { sub_key, op } => presence_api::handle(shared, &req, &sub_key, op),
        Route::Groups { sub_key, op } => groups::handle(shared, &req, &sub_key, op),
    }
}

/// Times out presence and emits interval events.
async fn presence_timer(shared: Arc<Shared>) {
    let interval = shared.options.interval.max(Duration::from_millis(10));
    let mut next_interval = Instant::now() + interval;
    loop {
        let now = Instant::now();
        let tick = now >= next_interval;
        let limits = shared.limits();
        let mut next_deadline: Option<std::time::Instant> = None;
        let emitted = {
            let mut inner = shared.lock();
            let mut all = Vec::new();
            for (sub_key, keyset) in inner.keysets_mut() {
                let mut events = Vec::new();
                if let Some(deadline) = keyset.presence.expire(now.into_std(), limits, &mut events)
                {
                    next_deadline = Some(next_deadline.map_or(deadline, |d| d.min(deadline)));
                }
                if tick {
                    keyset.presence.interval_tick(limits, &mut events);
                }
                if !events.is_empty() {
                    all.push((sub_key.clone(), events));
                }
            }
            let emitted = !all.is_empty();
            for (sub_key, events) in all {
                inner.emit(&sub_key, events, &shared.options);
            }
            emitted
        };
        if emitted {
            shared.notify();
        }
        if tick {
            next_interval = now + interval;
        }
        let mut wake_at = next_interval.min(now + TIMER_GRANULARITY);
        if let Some(deadline) = next_deadline {
            wake_at = wake_at.min(Instant::from_std(deadline));
        }
        tokio::time::sleep_until(wake_at).await;
    }
}
