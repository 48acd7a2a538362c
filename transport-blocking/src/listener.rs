//! Delivering subscription events to the user: [`Listener`] iterators and callbacks.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, RecvError, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use pn_core::Event;

/// Identifies a callback added with [`crate::Client::add_listener`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ListenerId(pub u64);

/// A callback, called on the client's dispatcher thread.
pub(crate) type Callback = Box<dyn FnMut(&Event) + Send + 'static>;

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
    channels: BTreeMap<u64, Sender<Event>>,
    callbacks: BTreeMap<u64, CallbackEntry>,
    /// Feeds the dispatcher thread, while it runs.
    dispatcher: Option<Sender<(u64, Event)>>,
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

    /// A new listener channel that gets every event from now on.
    pub fn listen(&self) -> Listener {
        let (tx, rx) = mpsc::channel();
        let mut s = self.lock();
        let id = s.next_id;
        s.next_id += 1;
        if !s.closed {
            s.channels.insert(id, tx);
        }
        Listener {
            id,
            rx,
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
        s.channels.retain(|_, tx| tx.send(event.clone()).is_ok());
        let seq = s.next_seq;
        s.next_seq += 1;
        if !s.callbacks.is_empty()
            && let Some(d) = &s.dispatcher
        {
            let _ = d.send((seq, event.clone()));
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
        while let Ok((seq, event)) = rx.recv() {
            for cb in self.callbacks_for(seq) {
                let mut cb = cb.lock().unwrap_or_else(PoisonError::into_inner);
                // A panicking callback must not stop the others from getting events.
                let _ = panic::catch_unwind(AssertUnwindSafe(|| (cb)(&event)));
            }
        }
    }
}

/// Receives every subscription event ([`Event::Message`] and [`Event::Status`]) published
/// after its creation by [`crate::Client::listen`]. Iterating blocks until the next event;
/// it ends when the client is closed. Dropping it unregisters it.
pub struct Listener {
    id: u64,
    rx: Receiver<Event>,
    registry: Weak<Mutex<State>>,
}

impl Listener {
    /// Waits for the next event.
    pub fn recv(&self) -> Result<Event, RecvError> {
        self.rx.recv()
    }

    /// Waits at most `timeout` for the next event.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Event, RecvTimeoutError> {
        self.rx.recv_timeout(timeout)
    }

    /// The next event if one is waiting.
    pub fn try_recv(&self) -> Result<Event, TryRecvError> {
        self.rx.try_recv()
    }
}

impl Iterator for Listener {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        self.rx.recv().ok()
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
    }
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener").field("id", &self.id).finish()
    }
}
