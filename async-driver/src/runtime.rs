//! The trait an async runtime implements to carry the client's I/O, and the task counter.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Instant;

use pn_core::{Origin, Request, Response, TransportError};

/// A boxed, sendable future (what [`Runtime`] methods hand out and take).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What an async runtime provides to the client: HTTP, timers and task spawning.
///
/// Implementations make no protocol decisions: they send what the core asks, as asked.
/// Long-polls ([`pn_core::RequestKind::LongPoll`]) must get a connection of their own; other
/// requests may share kept-alive connections. The driver enforces [`Request::timeout`] itself
/// and cancels a request by dropping its future, which must then abort the exchange.
pub trait Runtime: Clone + Send + Sync + Unpin + Sized + 'static {
    /// Settings the runtime is created from, chosen on the client builder.
    type Options: Default + Send;

    /// Creates the runtime; every task it spawns on its own must be tracked by `tasks`.
    fn create(options: Self::Options, tasks: TaskCounter) -> Self;

    /// Sends `request` to `origin` and reads the whole answer.
    fn send(
        &self,
        origin: &Origin,
        request: Request,
    ) -> BoxFuture<'static, Result<Response, TransportError>>;

    /// A future that completes at `deadline`.
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()>;

    /// Runs `task` to completion in the background.
    fn spawn(&self, task: BoxFuture<'static, ()>);
}

/// Counts a client's live tasks (driver, requests, connections); cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct TaskCounter(Arc<Count>);

#[derive(Debug, Default)]
struct Count {
    live: AtomicUsize,
    idle_wakers: Mutex<Vec<Waker>>,
}

/// Keeps a [`TaskCounter`] incremented while it lives.
#[derive(Debug)]
pub struct TaskGuard(Arc<Count>);

impl TaskCounter {
    /// A counter at zero.
    pub fn new() -> TaskCounter {
        TaskCounter::default()
    }

    /// How many tracked tasks are alive.
    pub fn live(&self) -> usize {
        self.0.live.load(Ordering::SeqCst)
    }

    /// Completes when no tracked task is alive.
    pub fn idle(&self) -> impl Future<Output = ()> + Send + 'static {
        let count = self.0.clone();
        std::future::poll_fn(move |cx| {
            let mut wakers = count
                .idle_wakers
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if count.live.load(Ordering::SeqCst) == 0 {
                return Poll::Ready(());
            }
            wakers.push(cx.waker().clone());
            Poll::Pending
        })
    }

    /// Counts one more task until the guard is dropped.
    pub fn guard(&self) -> TaskGuard {
        self.0.live.fetch_add(1, Ordering::SeqCst);
        TaskGuard(self.0.clone())
    }

    /// Wraps `task` so that it counts as live from now until it finishes or is dropped.
    pub fn track<F: Future + Send + 'static>(&self, task: F) -> BoxFuture<'static, F::Output> {
        let guard = self.guard();
        Box::pin(async move {
            let _guard = guard;
            task.await
        })
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        let mut wakers = self
            .0
            .idle_wakers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.0.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            for waker in wakers.drain(..) {
                waker.wake();
            }
        }
    }
}
