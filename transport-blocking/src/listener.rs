//! Delivering subscription events to the user: [`Listener`] iterators and callbacks.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvError, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use pn_core::Event;

/// Identifies a callback added with [`crate::Client::add_listener`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ListenerId(pub u64);

/// A callback, called on the client's dispatcher thread.
pub(crate) type Callback = Box<dyn FnMut(&Event) + Send + 'static>;

/// How many undelivered events a listener (or the callbacks) may have before the client holds
/// the subscription back: the next long-poll waits until they catch up.
pub const HOLD_BACK_ABOVE: usize = 512;

/// Events handed to one consumer (a listener, or the dispatcher) and not yet taken.
///
/// The counts and [`Room::waiting`] use `SeqCst`: a consumer decrements a count then reads the
/// flag while the session sets the flag then reads the counts, and only a single total order
/// guarantees that one of them sees the other's write.
#[derive(Debug, Default)]
struct Backlog(AtomicUsize);

/// Tells the client when a consumer that held the subscription back has caught up.
#[derive(Default)]
struct Room {
    /// Set while a long-poll is held back.
    waiting: AtomicBool,
    notify: Mutex<Option<Box<dyn Fn() + Send + Sync>>>,
}

impl Backlog {
    fn added(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// One event taken; tells `room` if that made room.
    fn taken(&self, room: &Room) {
        let left = self.0.fetch_sub(1, Ordering::SeqCst).saturating_sub(1);
        if left <= HOLD_BACK_ABOVE && room.waiting.swap(false, Ordering::SeqCst) {
            room.notify();
        }
    }

    fn over(&self) -> bool {
        self.0.load(Ordering::SeqCst) > HOLD_BACK_ABOVE
    }
}

impl Room {
    fn notify(&self) {
        if let Some(f) = &*self.notify.lock().unwrap_or_else(PoisonError::into_inner) {
            f();
        }
    }
}

struct ListenerEntry {
    tx: Sender<Event>,
    backlog: Arc<Backlog>,
}

struct CallbackEntry {
    /// The first event sequence number this callback gets.
    from: u64,
    callback: Arc<Mutex<Callback>>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    /// Sequence number of the next event published.
    next_seq: u64,
    closed: bool,
    channels: BTreeMap<u64, ListenerEntry>,
    callbacks: BTreeMap<u64, CallbackEntry>,
    /// Feeds the dispatcher thread, while it runs.
    dispatcher: Option<Sender<(u64, Event)>>,
    /// Events queued for the dispatcher and not yet dispatched.
    dispatch_backlog: Arc<Backlog>,
    room: Arc<Room>,
}

/// Everyone who wants subscription events: listener channels and callbacks.
#[derive(Clone, Default)]
pub(crate) struct Registry(Arc<Mutex<State>>);

impl Registry {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Connects the dispatcher thread's queue.
    pub fn set_dispatcher(&self, tx: Sender<(u64, Event)>) {
        self.lock().dispatcher = Some(tx);
    }

    /// Sets what to call when a consumer that held the subscription back has caught up.
    pub fn on_room(&self, notify: impl Fn() + Send + Sync + 'static) {
        let room = self.lock().room.clone();
        *room.notify.lock().unwrap_or_else(PoisonError::into_inner) = Some(Box::new(notify));
    }

    /// Whether every listener and the callbacks are at most [`HOLD_BACK_ABOVE`] events behind.
    /// When not, the next consumer to catch up calls the [`Registry::on_room`] hook.
    pub fn has_room(&self) -> bool {
        let s = self.lock();
        s.room.waiting.store(true, Ordering::SeqCst);
        let behind =
            s.dispatch_backlog.over() || s.channels.values().any(|entry| entry.backlog.over());
        if !behind {
            s.room.waiting.store(false, Ordering::SeqCst);
        }
        !behind
    }

    /// A new listener channel that gets every event from now on.
    pub fn listen(&self) -> Listener {
        let (tx, rx) = mpsc::channel();
        let mut s = self.lock();
        let id = s.next_id;
        s.next_id += 1;
        let backlog = Arc::new(Backlog::default());
        if !s.closed {
            let entry = ListenerEntry {
                tx,
                backlog: backlog.clone(),
            };
            s.channels.insert(id, entry);
        }
        Listener {
            id,
            rx,
            backlog,
            room: s.room.clone(),
            registry: Arc::downgrade(&self.0),
        }
    }

    /// Adds a callback that gets every event from now on.
    pub fn add_callback(&self, callback: Callback) -> ListenerId {
        let mut s = self.lock();
        let id = s.next_id;
        s.next_id += 1;
        let from = s.next_seq;
        s.callbacks.insert(
            id,
            CallbackEntry {
                from,
                callback: Arc::new(Mutex::new(callback)),
            },
        );
        ListenerId(id)
    }

    /// Removes a callback; whether it was there.
    pub fn remove_callback(&self, id: ListenerId) -> bool {
        self.lock().callbacks.remove(&id.0).is_some()
    }

    /// Hands `event` to every listener and (through the dispatcher) every callback.
    pub fn publish(&self, event: &Event) {
        let mut s = self.lock();
        s.channels.retain(|_, entry| {
            entry.backlog.added();
            entry.tx.send(event.clone()).is_ok()
        });
        let seq = s.next_seq;
        s.next_seq += 1;
        if !s.callbacks.is_empty()
            && let Some(d) = &s.dispatcher
            && d.send((seq, event.clone())).is_ok()
        {
            s.dispatch_backlog.added();
        }
    }

    /// The callbacks that should see event number `seq`.
    fn callbacks_for(&self, seq: u64) -> Vec<Arc<Mutex<Callback>>> {
        self.lock()
            .callbacks
            .values()
            .filter(|c| c.from <= seq)
            .map(|c| c.callback.clone())
            .collect()
    }

    /// Ends every listener (their iterators return `None` once drained), stops the
    /// dispatcher after the events already queued, and refuses new listeners.
    pub fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        s.channels.clear();
        s.dispatcher = None;
    }

    /// The dispatcher thread's body: calls the callbacks for each event until closed.
    pub fn dispatch(&self, rx: Receiver<(u64, Event)>) {
        let (backlog, room) = {
            let s = self.lock();
            (s.dispatch_backlog.clone(), s.room.clone())
        };
        while let Ok((seq, event)) = rx.recv() {
            for cb in self.callbacks_for(seq) {
                let mut cb = cb.lock().unwrap_or_else(PoisonError::into_inner);
                // A panicking callback must not stop the others from getting events.
                let _ = panic::catch_unwind(AssertUnwindSafe(|| (cb)(&event)));
            }
            backlog.taken(&room);
        }
    }
}

/// Receives every subscription event ([`Event::Message`] and [`Event::Status`]) published
/// after its creation by [`crate::Client::listen`]. Iterating blocks until the next event;
/// it ends when the client is closed. Dropping it unregisters it.
///
/// Nothing is dropped for a slow listener: once it is more than [`HOLD_BACK_ABOVE`] events
/// behind, the client holds the subscription back (the next long-poll waits, so a burst waits
/// at the service) until it catches up. A listener that is never read therefore stalls the
/// subscription: drop it to unregister it. Callbacks are held to the same bound.
pub struct Listener {
    id: u64,
    rx: Receiver<Event>,
    backlog: Arc<Backlog>,
    room: Arc<Room>,
    registry: Weak<Mutex<State>>,
}

impl Listener {
    /// Waits for the next event.
    pub fn recv(&self) -> Result<Event, RecvError> {
        self.took(self.rx.recv())
    }

    /// Waits at most `timeout` for the next event.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Event, RecvTimeoutError> {
        self.took(self.rx.recv_timeout(timeout))
    }

    /// The next event if one is waiting.
    pub fn try_recv(&self) -> Result<Event, TryRecvError> {
        self.took(self.rx.try_recv())
    }

    /// Counts an event taken off the channel.
    fn took<E>(&self, received: Result<Event, E>) -> Result<Event, E> {
        if received.is_ok() {
            self.backlog.taken(&self.room);
        }
        received
    }
}

impl Iterator for Listener {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        self.recv().ok()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(state) = self.registry.upgrade() {
            state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .channels
                .remove(&self.id);
        }
        // Whatever it held back is free to go.
        if self.room.waiting.swap(false, Ordering::SeqCst) {
            self.room.notify();
        }
    }
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener").field("id", &self.id).finish()
    }
}
