//! [`HyperRuntime`]: tokio timers and tasks, hyper 1 HTTP/1.1 with rustls.

use std::future::Future;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{CONTENT_LENGTH, HeaderValue, RETRY_AFTER};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use pn_async_driver::{BoxFuture, Runtime, TaskCounter};
use pn_core::{Method, Origin, Request, RequestKind, Response, TransportError, TransportErrorKind};
use tokio::runtime::Handle;

use crate::error_map;
use crate::tls;

/// The largest response body accepted by default (16 MiB); larger ones fail as `BodyTooLarge`.
pub const DEFAULT_MAX_BODY: usize = 16 << 20;

/// Settings of the hyper runtime.
#[derive(Clone, Debug)]
pub struct HyperOptions {
    /// Largest response body accepted, in bytes.
    pub max_body: usize,
    /// Most idle kept-alive connections for regular requests.
    pub max_idle_connections: usize,
    /// The tokio runtime to run on; `None`: the one current when the client is built.
    pub handle: Option<Handle>,
}

impl Default for HyperOptions {
    fn default() -> Self {
        HyperOptions {
            max_body: DEFAULT_MAX_BODY,
            max_idle_connections: 8,
            handle: None,
        }
    }
}

type HttpsClient = HttpClient<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Spawns hyper's connection tasks on tokio, counted by the client's [`TaskCounter`].
#[derive(Clone)]
struct TrackedExecutor {
    handle: Handle,
    tasks: TaskCounter,
}

impl<F> hyper::rt::Executor<F> for TrackedExecutor
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, task: F) {
        self.handle.spawn(self.tasks.track(task));
    }
}

/// The tokio + hyper implementation of [`Runtime`].
///
/// Regular requests share a pool of kept-alive connections; long-polls use a separate pool of
/// one connection, so a long-poll never waits behind (or holds up) another request. Cancelling a
/// request (dropping its future) closes its connection.
#[derive(Clone)]
pub struct HyperRuntime {
    regular: HttpsClient,
    long_poll: HttpsClient,
    handle: Handle,
    max_body: usize,
}

impl std::fmt::Debug for HyperRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HyperRuntime")
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

fn connector() -> HttpsConnector<HttpConnector> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls::client_config())
        .https_or_http()
        .enable_http1()
        .wrap_connector(http)
}

impl Runtime for HyperRuntime {
    type Options = HyperOptions;

    /// # Panics
    /// When no tokio runtime is given in the options and none is current.
    fn create(options: HyperOptions, tasks: TaskCounter) -> HyperRuntime {
        let handle = options.handle.unwrap_or_else(|| {
            Handle::try_current().unwrap_or_else(|_| {
                panic!("pn-hyper: build the client inside a tokio runtime or pass its handle")
            })
        });
        let executor = TrackedExecutor {
            handle: handle.clone(),
            tasks,
        };
        let regular = HttpClient::builder(executor.clone())
            .pool_max_idle_per_host(options.max_idle_connections)
            .build(connector());
        // A pool of its own, one connection deep: the next long-poll reuses the connection of
        // the last one, never one shared with regular requests.
        let long_poll = HttpClient::builder(executor)
            .pool_max_idle_per_host(1)
            .build(connector());
        HyperRuntime {
            regular,
            long_poll,
            handle,
            max_body: options.max_body,
        }
    }

    fn send(
        &self,
        origin: &Origin,
        request: Request,
    ) -> BoxFuture<'static, Result<Response, TransportError>> {
        let client = match request.kind {
            RequestKind::LongPoll => self.long_poll.clone(),
            RequestKind::Regular => self.regular.clone(),
        };
        let url = [
            origin.scheme(),
            "://",
            &origin.authority,
            &request.path_and_query,
        ]
        .concat();
        let max_body = self.max_body;
        Box::pin(async move {
            let http_request = build(&url, request)?;
            let response = client
                .request(http_request)
                .await
                .map_err(error_map::request_error)?;
            let status = response.status().as_u16();
            let headers = response.headers();
            let retry_after = headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let declared = headers
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|len| len > max_body as u64) {
                return Err(TransportError::new(
                    TransportErrorKind::BodyTooLarge,
                    format!("the answer declares more than {max_body} bytes"),
                ));
            }
            let body = Limited::new(response.into_body(), max_body)
                .collect()
                .await
                .map_err(error_map::body_error)?
                .to_bytes();
            Ok(Response {
                status,
                retry_after,
                body: Vec::from(body),
            })
        })
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }

    fn spawn(&self, task: BoxFuture<'static, ()>) {
        self.handle.spawn(task);
    }
}

/// The hyper request for a core request.
fn build(url: &str, request: Request) -> Result<hyper::Request<Full<Bytes>>, TransportError> {
    let method = match request.method {
        Method::Get => hyper::Method::GET,
        Method::Post => hyper::Method::POST,
    };
    let mut builder = hyper::Request::builder().method(method).uri(url);
    for (name, value) in &request.headers {
        let value = HeaderValue::from_str(value)
            .map_err(|e| TransportError::new(TransportErrorKind::Other, e.to_string()))?;
        builder = builder.header(*name, value);
    }
    let body = Full::new(Bytes::from(request.body.unwrap_or_default()));
    builder
        .body(body)
        .map_err(|e| TransportError::new(TransportErrorKind::Other, e.to_string()))
}
