//! [`Client`]: the blocking PubNub client, and [`ClientBuilder`].

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use pn_core::{
    Channel, ChannelGroup, ClientError, Config, Core, Error, Event, Outcome, Subscribe, Timetoken,
};

use crate::driver::{Command, Driver, Msg, Session, Shared};
use crate::http::{DEFAULT_MAX_BODY, HttpSettings};
use crate::listener::{Listener, ListenerId, Registry};
use crate::pool::{LongPoller, WorkerPool};
use crate::threads::ThreadGauge;

/// The default number of threads sending regular requests.
pub const DEFAULT_WORKERS: usize = 4;

/// The blocking PubNub client. Cheap to clone: clones share one session.
///
/// A call sends its own request from the calling thread; a driver thread fires the core's
/// deadlines; a dedicated thread sends the subscribe long-poll; a small pool sends the
/// requests nobody waits on; callbacks run on a dispatcher thread. Commands block the calling
/// thread until their answer (or, for subscription changes, until the core took them, which
/// involves no I/O).
///
/// [`Client::close`] leaves the subscribed channels, waits for the leave answers (at most the
/// request timeout) and joins every thread. Dropping the last handle without `close` starts
/// the same shutdown in the background and returns at once.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Threads {
    driver: JoinHandle<()>,
    dispatcher: JoinHandle<()>,
}

struct Inner {
    tx: Sender<Msg>,
    shared: Shared,
    settings: Arc<HttpSettings>,
    /// The agent a caller sends its own requests with (the workers' one).
    agent: ureq::Agent,
    registry: Registry,
    gauge: ThreadGauge,
    threads: Mutex<Option<Threads>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The driver finishes the shutdown on its own; nothing here waits.
        let _ = self.tx.send(Msg::Close(None));
    }
}

/// Adapter settings besides the protocol [`Config`].
#[derive(Clone, Debug)]
struct Options {
    seed: Option<u64>,
    workers: usize,
    max_body: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: None,
            workers: DEFAULT_WORKERS,
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

fn random_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    RandomState::new().hash_one(nanos)
}

impl Client {
    /// A builder; `subscribe_key` and `user_id` are required.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client for `config`, which is validated first.
    pub fn new(config: Config) -> Result<Client, ClientError> {
        Client::start(config, Options::default())
    }

    fn start(config: Config, options: Options) -> Result<Client, ClientError> {
        let unix_time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let seed = options.seed.unwrap_or_else(random_seed);
        let core = Core::new(config, seed, Instant::now(), unix_time)?;
        let settings = Arc::new(HttpSettings {
            base_url: core.origin().base_url(),
            max_body: options.max_body,
            connect_timeout: core.config().request_timeout,
        });
        let spawn_failed = |e: std::io::Error| {
            ClientError::Failed(Error::Transport(pn_core::TransportError::new(
                pn_core::TransportErrorKind::Other,
                format!("cannot start a thread: {e}"),
            )))
        };
        let gauge = ThreadGauge::default();
        let registry = Registry::default();
        let (tx, rx) = mpsc::channel();
        let mut workers = WorkerPool::start(options.workers, settings.clone(), tx.clone(), &gauge)
            .map_err(spawn_failed)?;
        let mut long_poll = match LongPoller::start(settings.clone(), tx.clone(), &gauge) {
            Ok(l) => l,
            Err(e) => {
                workers.shutdown();
                return Err(spawn_failed(e));
            }
        };
        let (dtx, drx) = mpsc::channel();
        registry.set_dispatcher(dtx);
        let wake = tx.clone();
        registry.on_room(move || {
            let _ = wake.send(Msg::Wake);
        });
        let dispatch_registry = registry.clone();
        let dispatcher = match gauge.spawn("pn-blocking-dispatcher", move || {
            dispatch_registry.dispatch(drx)
        }) {
            Ok(h) => h,
            Err(e) => {
                workers.shutdown();
                long_poll.shutdown();
                return Err(spawn_failed(e));
            }
        };
        let agent = workers.agent();
        let shared = Shared::new(Session {
            core,
            workers,
            long_poll,
            registry: registry.clone(),
            waiters: HashMap::new(),
            closing: None,
            close_replies: Vec::new(),
            driver_looks_at: None,
            parked: None,
            driver: tx.clone(),
        });
        let driver = Driver {
            shared: shared.clone(),
            rx,
        };
        // If this spawn fails the driver is dropped, which drops its pools' job queues: the
        // I/O threads end; the dispatcher ends once the registry closes.
        let driver = gauge
            .spawn("pn-blocking-driver", move || driver.run())
            .map_err(|e| {
                registry.close();
                spawn_failed(e)
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                tx,
                shared,
                settings,
                agent,
                registry,
                gauge,
                threads: Mutex::new(Some(Threads { driver, dispatcher })),
            }),
        })
    }

    /// Runs a command and waits for its outcome, sending its requests from this thread.
    pub(crate) fn request(&self, cmd: Command) -> Result<Outcome, ClientError> {
        let (tx, rx) = mpsc::sync_channel(1);
        let own = self.inner.shared.lock().command(cmd, tx, Instant::now());
        for request in own {
            let result = self.inner.settings.execute(&self.inner.agent, &request);
            let mut session = self.inner.shared.lock();
            session.complete(request.id, result, Instant::now());
        }
        rx.recv().unwrap_or(Err(ClientError::Closed))
    }

    fn unit(&self, cmd: Command) -> Result<(), ClientError> {
        self.request(cmd).map(|_| ())
    }

    /// Subscribes to channels and groups (see [`Subscribe`]); returns once the core took it.
    pub fn subscribe(&self, subscribe: Subscribe) -> Result<(), ClientError> {
        self.unit(Command::Subscribe(subscribe))
    }

    /// Subscribes to these channels.
    pub fn subscribe_to<S: AsRef<str>>(&self, channels: &[S]) -> Result<(), ClientError> {
        self.subscribe(Subscribe::channels(
            channels.iter().map(|c| c.as_ref().to_owned()),
        )?)
    }

    /// Unsubscribes from channels and groups (sending `leave` unless suppressed).
    pub fn unsubscribe(
        &self,
        channels: &[Channel],
        groups: &[ChannelGroup],
    ) -> Result<(), ClientError> {
        self.unit(Command::Unsubscribe(channels.to_vec(), groups.to_vec()))
    }

    /// Unsubscribes from these channels.
    pub fn unsubscribe_from<S: AsRef<str>>(&self, channels: &[S]) -> Result<(), ClientError> {
        let channels = crate::operations::channels(channels)?;
        self.unit(Command::Unsubscribe(channels, Vec::new()))
    }

    /// Leaves everything and resets the subscription cursor.
    pub fn unsubscribe_all(&self) -> Result<(), ClientError> {
        self.unit(Command::UnsubscribeAll)
    }

    /// Stops receiving without leaving; [`Client::reconnect`] resumes from the same cursor.
    pub fn disconnect(&self) -> Result<(), ClientError> {
        self.unit(Command::Disconnect)
    }

    /// Resumes a stopped or failed subscription from its cursor.
    pub fn reconnect(&self) -> Result<(), ClientError> {
        self.unit(Command::Reconnect(None))
    }

    /// Resumes a stopped or failed subscription from `timetoken`.
    pub fn reconnect_from(&self, timetoken: Timetoken) -> Result<(), ClientError> {
        self.unit(Command::Reconnect(Some(timetoken)))
    }

    /// The service's current time.
    pub fn time(&self) -> Result<Timetoken, ClientError> {
        match self.request(Command::Time)? {
            Outcome::Time(t) => Ok(t),
            other => Err(crate::operations::unexpected(other)),
        }
    }

    /// Reads something from the core (cursor, subscribed channels, deadlines…), for diagnostics.
    pub fn inspect<T>(&self, f: impl FnOnce(&Core) -> T) -> T {
        f(&self.inner.shared.lock().core)
    }

    /// A new iterator over subscription events (messages and statuses) from now on.
    pub fn listen(&self) -> Listener {
        self.inner.registry.listen()
    }

    /// Calls `callback` on the dispatcher thread for every subscription event from now on.
    /// The callback may call the client (blocking calls included), but a callback that keeps
    /// a clone of the client keeps the session alive until [`Client::close`].
    pub fn add_listener(&self, callback: impl FnMut(&Event) + Send + 'static) -> ListenerId {
        self.inner.registry.add_callback(Box::new(callback))
    }

    /// Removes a callback: it gets no event that is not already being delivered to it.
    /// Whether it was registered.
    pub fn remove_listener(&self, id: ListenerId) -> bool {
        self.inner.registry.remove_callback(id)
    }

    /// The client's threads that are still running (driver, dispatcher, long-poll, workers).
    pub fn threads(&self) -> ThreadGauge {
        self.inner.gauge.clone()
    }

    /// Leaves every channel, waits for the leave answers (at most the request timeout), then
    /// stops and joins every thread of the client. Pending operations fail with
    /// [`ClientError::Closed`], listeners end, and later commands fail with `Closed`.
    /// Every clone is closed. Calling it again does nothing.
    pub fn close(&self) {
        let (tx, rx) = mpsc::channel();
        if self.inner.tx.send(Msg::Close(Some(tx))).is_ok() {
            let _ = rx.recv();
        }
        let threads = self
            .inner
            .threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(t) = threads {
            let _ = t.driver.join();
            // A callback may close the client from the dispatcher thread itself.
            if t.dispatcher.thread().id() != thread::current().id() {
                let _ = t.dispatcher.join();
            }
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("threads", &self.inner.gauge.live())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`]: every [`Config`] setting, plus the adapter's own.
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    config: Config,
    options: Options,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            config: Config::new("", ""),
            options: Options::default(),
        }
    }
}

impl ClientBuilder {
    pn_core::config_setters!();

    /// The seed of the core's randomness (jitter, ids); random by default.
    pub fn seed(mut self, seed: u64) -> Self {
        self.options.seed = Some(seed);
        self
    }

    /// How many threads send the regular requests no caller waits on, such as heartbeats and
    /// leaves (default 4, at least 1).
    pub fn worker_threads(mut self, threads: usize) -> Self {
        self.options.workers = threads;
        self
    }

    /// The largest response body accepted (default 16 MiB); larger ones fail as
    /// `BodyTooLarge`.
    pub fn max_response_body(mut self, bytes: u64) -> Self {
        self.options.max_body = bytes;
        self
    }

    /// Validates the configuration and starts the client.
    pub fn build(self) -> Result<Client, ClientError> {
        Client::start(self.config, self.options)
    }
}
