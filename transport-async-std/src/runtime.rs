//! [`AsyncStdRuntime`]: async-io timers and sockets, rustls, the crate's HTTP/1.1 client.

use std::sync::Arc;
use std::time::Instant;

use futures_rustls::TlsConnector;
use pn_async_driver::{BoxFuture, Runtime, TaskCounter};
use pn_core::{Origin, Request, RequestKind, Response, TransportError};

use crate::conn::connect;
use crate::http::exchange;
use crate::pool::Pool;
use crate::spawner::{Spawner, spawn_builtin};
use crate::tls;

/// The largest response body accepted by default (16 MiB); larger ones fail as `BodyTooLarge`.
pub const DEFAULT_MAX_BODY: usize = 16 << 20;

/// Settings of the async-std/smol runtime.
#[derive(Clone)]
pub struct AsyncStdOptions {
    /// Runs the client's tasks; `None`: a built-in executor on one background thread.
    pub spawner: Option<Spawner>,
    /// Largest response body accepted, in bytes.
    pub max_body: usize,
    /// Most idle kept-alive connections for regular requests.
    pub max_idle_connections: usize,
}

impl Default for AsyncStdOptions {
    fn default() -> Self {
        AsyncStdOptions {
            spawner: None,
            max_body: DEFAULT_MAX_BODY,
            max_idle_connections: 8,
        }
    }
}

impl std::fmt::Debug for AsyncStdOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncStdOptions")
            .field("spawner", &self.spawner.as_ref().map(|_| "custom"))
            .field("max_body", &self.max_body)
            .field("max_idle_connections", &self.max_idle_connections)
            .finish()
    }
}

struct Inner {
    regular: Pool,
    long_poll: Pool,
    tls: TlsConnector,
    spawner: Option<Spawner>,
    max_body: usize,
}

/// The async-io implementation of [`Runtime`], for async-std, smol or no executor at all.
///
/// Regular requests share a pool of kept-alive connections; long-polls use a separate pool of
/// one connection. Cancelling a request (dropping its future) closes its connection.
#[derive(Clone)]
pub struct AsyncStdRuntime(Arc<Inner>);

impl std::fmt::Debug for AsyncStdRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncStdRuntime")
            .field("max_body", &self.0.max_body)
            .finish_non_exhaustive()
    }
}

impl Runtime for AsyncStdRuntime {
    type Options = AsyncStdOptions;

    fn create(options: AsyncStdOptions, _tasks: TaskCounter) -> AsyncStdRuntime {
        // Idle connections sit in the pools unpolled, so this runtime spawns no tasks of its own.
        AsyncStdRuntime(Arc::new(Inner {
            regular: Pool::new(options.max_idle_connections),
            long_poll: Pool::new(1),
            tls: tls::connector(),
            spawner: options.spawner,
            max_body: options.max_body,
        }))
    }

    fn send(
        &self,
        origin: &Origin,
        request: Request,
    ) -> BoxFuture<'static, Result<Response, TransportError>> {
        let inner = self.0.clone();
        let origin = origin.clone();
        Box::pin(async move {
            let pool = match request.kind {
                RequestKind::LongPoll => &inner.long_poll,
                RequestKind::Regular => &inner.regular,
            };
            let mut stream = match pool.take() {
                Some(stream) => stream,
                None => connect(&origin, &inner.tls).await?,
            };
            let mut buf = Vec::new();
            let done = exchange(
                &mut stream,
                &mut buf,
                &origin.authority,
                &request,
                inner.max_body,
            )
            .await?;
            if done.reusable {
                pool.put(stream);
            }
            Ok(done.response)
        })
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        let timer = async_io::Timer::at(deadline);
        Box::pin(async move {
            timer.await;
        })
    }

    fn spawn(&self, task: BoxFuture<'static, ()>) {
        match &self.0.spawner {
            Some(spawn) => spawn(task),
            None => spawn_builtin(task),
        }
    }
}
