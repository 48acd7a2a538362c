//! Event listeners: each one gets every message and status from the moment it was created.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};

use futures_core::Stream;
use pn_core::Event;

/// The default number of events a [`Listener`] buffers before dropping the oldest.
pub const DEFAULT_LISTENER_CAPACITY: usize = 1024;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Debug)]
struct Queue {
    events: VecDeque<Event>,
    capacity: usize,
    dropped: u64,
    closed: bool,
    waker: Option<Waker>,
}

type Shared = Mutex<Queue>;

/// A stream of [`Event::Message`] and [`Event::Status`] events (never operation results).
///
/// Buffering policy: each listener holds at most its capacity of undelivered events; when a new
/// event arrives at a full listener the oldest one is discarded and counted in
/// [`Listener::dropped`]. A slow listener therefore never slows the client or other listeners.
/// The stream ends after the client is closed or its last handle is dropped. Dropping the
/// listener unregisters it.
#[derive(Debug)]
pub struct Listener {
    queue: Arc<Shared>,
}

impl Listener {
    /// The next event, or `None` once the client is closed and the buffer is drained.
    pub async fn next(&mut self) -> Option<Event> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The next buffered event, without waiting.
    pub fn try_next(&mut self) -> Option<Event> {
        lock(&self.queue).events.pop_front()
    }

    /// How many events were discarded because this listener's buffer was full.
    pub fn dropped(&self) -> u64 {
        lock(&self.queue).dropped
    }
}

impl Stream for Listener {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let mut q = lock(&self.queue);
        if let Some(e) = q.events.pop_front() {
            return Poll::Ready(Some(e));
        }
        if q.closed {
            return Poll::Ready(None);
        }
        if !q.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            q.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// Every registered listener, shared by the client handles (which register) and the driver
/// (which delivers).
#[derive(Debug, Default)]
pub(crate) struct Listeners {
    inner: Mutex<Registry>,
}

#[derive(Debug, Default)]
struct Registry {
    queues: Vec<Weak<Shared>>,
    closed: bool,
}

impl Listeners {
    /// Registers a new listener buffering at most `capacity` events (at least 1).
    pub(crate) fn register(&self, capacity: usize) -> Listener {
        let mut reg = lock(&self.inner);
        let queue = Arc::new(Mutex::new(Queue {
            events: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
            closed: reg.closed,
            waker: None,
        }));
        reg.queues.push(Arc::downgrade(&queue));
        Listener { queue }
    }

    /// Hands `event` to every live listener, forgetting dropped ones.
    pub(crate) fn deliver(&self, event: &Event) {
        let mut reg = lock(&self.inner);
        reg.queues.retain(|weak| {
            let Some(queue) = weak.upgrade() else {
                return false;
            };
            let mut q = lock(&queue);
            if q.events.len() >= q.capacity {
                q.events.pop_front();
                q.dropped += 1;
            }
            q.events.push_back(event.clone());
            if let Some(w) = q.waker.take() {
                w.wake();
            }
            true
        });
    }

    /// Ends every listener's stream (after its buffered events) and those registered later.
    pub(crate) fn close(&self) {
        let mut reg = lock(&self.inner);
        reg.closed = true;
        for queue in reg.queues.drain(..).filter_map(|w| w.upgrade()) {
            let mut q = lock(&queue);
            q.closed = true;
            if let Some(w) = q.waker.take() {
                w.wake();
            }
        }
    }

    /// How many listeners are registered and alive.
    pub(crate) fn count(&self) -> usize {
        lock(&self.inner)
            .queues
            .iter()
            .filter(|w| w.strong_count() > 0)
            .count()
    }
}
