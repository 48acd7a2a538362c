//! Event listeners: each one gets every message and status from the moment it was created.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};

use futures_core::Stream;
use pn_core::Event;

/// The default number of events a [`Listener`] buffers (see its buffering policy).
pub const DEFAULT_LISTENER_CAPACITY: usize = 1024;

/// What a client does when one of its listeners falls behind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WhenFull {
    /// Keep receiving; a full listener discards its oldest event (counted in
    /// [`Listener::dropped`]). A slow or forgotten listener never slows the others.
    #[default]
    DropOldest,
    /// Stop asking the service for more while any listener is more than half full: the next
    /// subscribe long-poll waits for room, so a burst waits at the service (which keeps up to 100
    /// messages per subscriber, dropping the oldest beyond) instead of being dropped here. A
    /// listener that is never read holds up the subscription: drop it to unregister it.
    HoldBack,
}

/// Wakes the driver once a listener that held up the subscription has room again.
#[derive(Debug, Default)]
struct Room {
    /// Set while the driver holds a long-poll back.
    waiting: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Room {
    fn notify(&self) {
        if self.waiting.swap(false, Ordering::AcqRel)
            && let Some(w) = lock(&self.waker).take()
        {
            w.wake();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Debug)]
struct Queue {
    events: VecDeque<Event>,
    capacity: usize,
    dropped: u64,
    closed: bool,
    /// Its listener was dropped: nothing is delivered to it, and it never holds anything back.
    gone: bool,
    waker: Option<Waker>,
}

impl Queue {
    /// At most half full (or gone): room for the answer of another long-poll.
    fn has_room(&self) -> bool {
        self.gone || self.events.len() <= self.capacity / 2
    }
}

type Shared = Mutex<Queue>;

/// A stream of [`Event::Message`] and [`Event::Status`] events (never operation results).
///
/// Buffering policy: each listener holds at most its capacity of undelivered events; what
/// happens when it falls behind is the client's [`WhenFull`] choice (by default the oldest
/// event is discarded and counted in [`Listener::dropped`]). Even when holding back, an answer
/// bigger than a listener's free half (a capacity below two of the service's pages of 100)
/// discards the oldest. The stream ends after the client is closed or its last handle is
/// dropped. Dropping the listener unregisters it.
#[derive(Debug)]
pub struct Listener {
    queue: Arc<Shared>,
    room: Arc<Room>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        // Marked first: until the queue itself is freed the driver still reaches it, and must
        // neither fill it again nor be held back by it when the notice below wakes it.
        {
            let mut q = lock(&self.queue);
            q.gone = true;
            q.events.clear();
        }
        self.room.notify();
    }
}

impl Listener {
    /// The next event, or `None` once the client is closed and the buffer is drained.
    pub async fn next(&mut self) -> Option<Event> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The next buffered event, without waiting.
    pub fn try_next(&mut self) -> Option<Event> {
        let mut q = lock(&self.queue);
        let event = q.events.pop_front();
        if q.has_room() {
            self.room.notify();
        }
        event
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
            if q.has_room() {
                self.room.notify();
            }
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
    room: Arc<Room>,
    when_full: WhenFull,
}

#[derive(Debug, Default)]
struct Registry {
    queues: Vec<Weak<Shared>>,
    closed: bool,
}

impl Listeners {
    /// No listeners yet; a full one will be handled as `when_full` says.
    pub(crate) fn new(when_full: WhenFull) -> Listeners {
        Listeners {
            when_full,
            ..Listeners::default()
        }
    }

    /// Registers a new listener buffering at most `capacity` events (at least 1).
    pub(crate) fn register(&self, capacity: usize) -> Listener {
        let mut reg = lock(&self.inner);
        let queue = Arc::new(Mutex::new(Queue {
            events: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
            closed: reg.closed,
            gone: false,
            waker: None,
        }));
        reg.queues.push(Arc::downgrade(&queue));
        Listener {
            queue,
            room: self.room.clone(),
        }
    }

    /// Whether the next long-poll may go: always when dropping the oldest, else when every
    /// listener is at most half full.
    pub(crate) fn has_room(&self) -> bool {
        if self.when_full == WhenFull::DropOldest {
            return true;
        }
        lock(&self.inner)
            .queues
            .iter()
            .filter_map(Weak::upgrade)
            .all(|q| lock(&q).has_room())
    }

    /// Ready once every listener has room; until then, wakes the task when one may have.
    pub(crate) fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        *lock(&self.room.waker) = Some(cx.waker().clone());
        self.room.waiting.store(true, Ordering::Release);
        if self.has_room() {
            self.room.waiting.store(false, Ordering::Release);
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// Hands `event` to every live listener (the last one gets it without a copy), forgetting
    /// dropped ones.
    pub(crate) fn deliver(&self, event: Event) {
        let mut reg = lock(&self.inner);
        reg.queues.retain(|weak| weak.strong_count() > 0);
        let last = reg.queues.len().saturating_sub(1);
        let mut event = Some(event);
        for (i, weak) in reg.queues.iter().enumerate() {
            let Some(queue) = weak.upgrade() else {
                continue;
            };
            let copy = if i == last {
                event.take()
            } else {
                event.clone()
            };
            let Some(copy) = copy else { break };
            let mut q = lock(&queue);
            if q.gone {
                continue;
            }
            if q.events.len() >= q.capacity {
                q.events.pop_front();
                q.dropped += 1;
            }
            q.events.push_back(copy);
            if let Some(w) = q.waker.take() {
                w.wake();
            }
        }
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
