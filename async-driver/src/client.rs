//! [`Client`]: a cheap, cloneable handle to a running driver.

use std::hash::{BuildHasher, RandomState};
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use futures_channel::{mpsc, oneshot};
use pn_core::{
    Channel, ChannelGroup, ClientError, CommandError, Config, Core, Error, HereNowQuery,
    OperationId, Outcome, RawJson, Subscribe, Timetoken,
};
use serde::Serialize;

use crate::builder::ClientBuilder;
use crate::driver::{Command, Driver};
use crate::listener::{DEFAULT_LISTENER_CAPACITY, Listener, Listeners};
use crate::ops::{HereNowBuilder, PublishBuilder};
use crate::runtime::{Runtime, TaskCounter};

/// An async PubNub client running on runtime `R`; clones share one connection to the service.
///
/// Dropping the last handle stops the client at once (without sending leaves);
/// [`Client::close`] stops it gracefully.
pub struct Client<R: Runtime> {
    shared: Arc<Shared>,
    _runtime: PhantomData<fn() -> R>,
}

struct Shared {
    commands: mpsc::UnboundedSender<Command>,
    listeners: Arc<Listeners>,
    tasks: TaskCounter,
    closed: AtomicBool,
    listener_capacity: usize,
}

impl<R: Runtime> Clone for Client<R> {
    fn clone(&self) -> Self {
        Client {
            shared: self.shared.clone(),
            _runtime: PhantomData,
        }
    }
}

impl<R: Runtime> std::fmt::Debug for Client<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("closed", &self.is_closed())
            .field("live_tasks", &self.live_tasks())
            .finish()
    }
}

/// A seed that differs between clients and runs: the process's random hasher keys, the time,
/// and an address.
pub(crate) fn default_seed() -> u64 {
    let marker = 0u8;
    let time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    RandomState::new().hash_one((time, &marker as *const u8 as usize))
}

fn channels(names: &[&str]) -> Result<Vec<Channel>, ClientError> {
    Ok(names
        .iter()
        .map(|n| Channel::new(n))
        .collect::<Result<_, _>>()?)
}

fn groups(names: &[&str]) -> Result<Vec<ChannelGroup>, ClientError> {
    Ok(names
        .iter()
        .map(|n| ChannelGroup::new(n))
        .collect::<Result<_, _>>()?)
}

/// Turns an outcome of the wrong shape (a core bug) into an error rather than a panic.
pub(crate) fn expect<T>(
    outcome: Outcome,
    pick: impl FnOnce(Outcome) -> Option<T>,
) -> Result<T, ClientError> {
    pick(outcome).ok_or_else(|| {
        ClientError::Failed(Error::Malformed {
            status: 0,
            reason: "the core returned an outcome of another operation".into(),
        })
    })
}

impl<R: Runtime> Client<R> {
    /// A builder with every setting of [`Config`] plus the seed and the runtime's options.
    pub fn builder() -> ClientBuilder<R> {
        ClientBuilder::new()
    }

    /// Validates `config` and starts a client with the runtime's default options.
    pub fn new(config: Config) -> Result<Client<R>, ClientError> {
        ClientBuilder::new().config(config).build()
    }

    /// Starts the driver for a validated core (used by [`ClientBuilder::build`]).
    pub(crate) fn start(
        config: Config,
        seed: u64,
        options: R::Options,
        listeners: Listeners,
        listener_capacity: usize,
    ) -> Result<Client<R>, ClientError> {
        let unix_time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let core = Core::new(config, seed, Instant::now(), unix_time)?;
        let tasks = TaskCounter::new();
        let runtime = R::create(options, tasks.clone());
        let (commands, rx) = mpsc::unbounded();
        let listeners = Arc::new(listeners);
        let driver = Driver::new(core, runtime.clone(), tasks.clone(), rx, listeners.clone());
        runtime.spawn(tasks.track(driver));
        Ok(Client {
            shared: Arc::new(Shared {
                commands,
                listeners,
                tasks,
                closed: AtomicBool::new(false),
                listener_capacity,
            }),
            _runtime: PhantomData,
        })
    }

    fn send(&self, command: Command) -> Result<(), ClientError> {
        if self.is_closed() {
            return Err(ClientError::Closed);
        }
        self.shared
            .commands
            .unbounded_send(command)
            .map_err(|_| ClientError::Closed)
    }

    /// Starts an operation on the core and waits for its outcome.
    pub(crate) async fn operation(
        &self,
        start: impl FnOnce(&mut Core, Instant) -> Result<OperationId, CommandError> + Send + 'static,
    ) -> Result<Outcome, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Operation(Box::new(start), tx))?;
        rx.await.unwrap_or(Err(ClientError::Closed))
    }

    /// Runs `f` on the core inside the driver and returns its result.
    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Core, Instant) -> T + Send + 'static,
    ) -> Result<T, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Call(Box::new(move |core, now| {
            let _ = tx.send(f(core, now));
        })))?;
        rx.await.map_err(|_| ClientError::Closed)
    }

    /// Reads something from the core (cursor, subscribed channels, state…), for diagnostics.
    pub async fn inspect<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Core) -> T + Send + 'static,
    ) -> Result<T, ClientError> {
        self.call(move |core, _| f(core)).await
    }

    // ----- publish -----

    /// Publishes `message` to `channel`; adjust with the builder's setters, then `.await` it.
    pub fn publish<T: Serialize + ?Sized>(
        &self,
        channel: &str,
        message: &T,
    ) -> PublishBuilder<'_, R> {
        PublishBuilder::new(self, pn_core::Publish::new(channel, message))
    }

    /// Publishes already-serialized JSON to `channel`.
    pub fn publish_raw(&self, channel: &str, json: &str) -> PublishBuilder<'_, R> {
        PublishBuilder::new(self, pn_core::Publish::raw(channel, json))
    }

    /// Sends a signal (small, never stored) to `channel`.
    pub fn signal<T: Serialize + ?Sized>(
        &self,
        channel: &str,
        message: &T,
    ) -> PublishBuilder<'_, R> {
        PublishBuilder::new(self, pn_core::Publish::signal(channel, message))
    }

    /// Fires `message` to `channel`: neither stored nor replicated.
    pub fn fire<T: Serialize + ?Sized>(&self, channel: &str, message: &T) -> PublishBuilder<'_, R> {
        PublishBuilder::new(self, pn_core::Publish::fire(channel, message))
    }

    // ----- presence -----

    /// Asks who is on `channels` (every channel of the keyset when empty and no groups).
    pub fn here_now(&self, channels: &[&str]) -> HereNowBuilder<'_, R> {
        HereNowBuilder::new(self, HereNowQuery::channels(channels.iter().copied()))
    }

    /// Starts a here_now query (used by [`HereNowBuilder`]).
    pub(crate) async fn here_now_query(
        &self,
        query: HereNowQuery,
    ) -> Result<pn_core::HereNow, ClientError> {
        let outcome = self.operation(move |c, now| c.here_now(query, now)).await?;
        expect(outcome, |o| match o {
            Outcome::HereNow(h) => Some(h),
            _ => None,
        })
    }

    /// The channels `uuid` (default: this user) is on.
    pub async fn where_now(&self, uuid: Option<&str>) -> Result<Vec<Channel>, ClientError> {
        let uuid = uuid.map(str::to_owned);
        let outcome = self
            .operation(move |c, now| c.where_now(uuid.as_deref(), now))
            .await?;
        expect(outcome, |o| match o {
            Outcome::WhereNow(chs) => Some(chs),
            _ => None,
        })
    }

    /// Sets this user's presence state (a JSON object) on `channels`; returns it as stored.
    pub async fn set_state<T: Serialize + ?Sized>(
        &self,
        channels: &[&str],
        state: &T,
    ) -> Result<RawJson, ClientError> {
        self.set_state_on(channels, &[], state).await
    }

    /// Sets this user's presence state on channels and groups.
    pub async fn set_state_on<T: Serialize + ?Sized>(
        &self,
        channels: &[&str],
        groups: &[&str],
        state: &T,
    ) -> Result<RawJson, ClientError> {
        let chs = self::channels(channels)?;
        let grs = self::groups(groups)?;
        let json = serde_json_string(state)?;
        let outcome = self
            .operation(move |c, now| c.set_state(&chs, &grs, &json, now))
            .await?;
        expect(outcome, |o| match o {
            Outcome::StateSet(s) => Some(s),
            _ => None,
        })
    }

    /// Reads `uuid`'s (default: this user's) state on `channels`.
    pub async fn get_state(
        &self,
        channels: &[&str],
        uuid: Option<&str>,
    ) -> Result<Vec<(Channel, RawJson)>, ClientError> {
        let chs = self::channels(channels)?;
        let uuid = uuid.map(str::to_owned);
        let outcome = self
            .operation(move |c, now| c.get_state(&chs, &[], uuid.as_deref(), now))
            .await?;
        expect(outcome, |o| match o {
            Outcome::State(s) => Some(s),
            _ => None,
        })
    }

    /// The service's time.
    pub async fn time(&self) -> Result<Timetoken, ClientError> {
        let outcome = self.operation(|c, now| Ok(c.time(now))).await?;
        expect(outcome, |o| match o {
            Outcome::Time(t) => Some(t),
            _ => None,
        })
    }

    // ----- channel groups -----

    /// Adds `channels` to `group`.
    pub async fn add_channels_to_group(
        &self,
        group: &str,
        channels: &[&str],
    ) -> Result<(), ClientError> {
        self.change_group(group, channels, Core::add_channels_to_group)
            .await
    }

    /// Removes `channels` from `group`.
    pub async fn remove_channels_from_group(
        &self,
        group: &str,
        channels: &[&str],
    ) -> Result<(), ClientError> {
        self.change_group(group, channels, Core::remove_channels_from_group)
            .await
    }

    /// Adds `channels` to `group` or removes them, as `change` does on the core.
    async fn change_group(
        &self,
        group: &str,
        channels: &[&str],
        change: fn(
            &mut Core,
            &ChannelGroup,
            &[Channel],
            Instant,
        ) -> Result<OperationId, CommandError>,
    ) -> Result<(), ClientError> {
        let g = ChannelGroup::new(group)?;
        let chs = self::channels(channels)?;
        self.operation(move |c, now| change(c, &g, &chs, now))
            .await
            .map(drop)
    }

    /// The channels of `group`.
    pub async fn list_group_channels(&self, group: &str) -> Result<Vec<Channel>, ClientError> {
        let g = ChannelGroup::new(group)?;
        let outcome = self
            .operation(move |c, now| Ok(c.list_group_channels(&g, now)))
            .await?;
        expect(outcome, |o| match o {
            Outcome::GroupChannels(chs) => Some(chs),
            _ => None,
        })
    }

    /// Deletes `group`.
    pub async fn delete_group(&self, group: &str) -> Result<(), ClientError> {
        let g = ChannelGroup::new(group)?;
        self.operation(move |c, now| Ok(c.delete_group(&g, now)))
            .await
            .map(drop)
    }

    // ----- subscription -----

    /// Subscribes; returns once the core accepted the command (not when connected: watch the
    /// listeners for the `Connected` status).
    pub async fn subscribe(&self, subscribe: Subscribe) -> Result<(), ClientError> {
        self.call(move |c, now| c.subscribe(subscribe, now))
            .await?
            .map_err(ClientError::from)
    }

    /// Subscribes to `channels` (wildcards like `a.*` allowed).
    pub async fn subscribe_to(&self, channels: &[&str]) -> Result<(), ClientError> {
        self.subscribe(Subscribe::channels(channels.iter().copied())?)
            .await
    }

    /// Unsubscribes from `channels` and `groups`, sending a leave unless suppressed.
    pub async fn unsubscribe(&self, channels: &[&str], groups: &[&str]) -> Result<(), ClientError> {
        let chs = self::channels(channels)?;
        let grs = self::groups(groups)?;
        self.call(move |c, now| c.unsubscribe(&chs, &grs, now))
            .await?
            .map_err(ClientError::from)
    }

    /// Leaves everything and resets the cursor.
    pub async fn unsubscribe_all(&self) -> Result<(), ClientError> {
        self.call(|c, now| c.unsubscribe_all(now)).await
    }

    /// Stops receiving without leaving; [`Client::reconnect`] resumes from the same cursor.
    pub async fn disconnect(&self) -> Result<(), ClientError> {
        self.call(|c, now| c.disconnect(now)).await
    }

    /// Resumes a stopped or failed subscription from its cursor.
    pub async fn reconnect(&self) -> Result<(), ClientError> {
        self.call(|c, now| c.reconnect(None, now)).await
    }

    /// Resumes a stopped or failed subscription from `timetoken`.
    pub async fn reconnect_from(&self, timetoken: Timetoken) -> Result<(), ClientError> {
        self.call(move |c, now| c.reconnect(Some(timetoken), now))
            .await
    }

    // ----- events and life cycle -----

    /// A new listener for messages and statuses, with the builder's buffer capacity.
    pub fn listen(&self) -> Listener {
        self.listen_with_capacity(self.shared.listener_capacity)
    }

    /// A new listener buffering at most `capacity` events (see [`Listener`] for the policy).
    pub fn listen_with_capacity(&self, capacity: usize) -> Listener {
        self.shared.listeners.register(capacity)
    }

    /// How many listeners are alive.
    pub fn listener_count(&self) -> usize {
        self.shared.listeners.count()
    }

    /// Leaves every channel, waits for those leaves (at most the request timeout), and stops
    /// every task of the client. Afterwards every call returns [`ClientError::Closed`].
    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        let sent = self.shared.commands.unbounded_send(Command::Close(tx));
        self.shared.closed.store(true, Ordering::SeqCst);
        if sent.is_ok() {
            let _ = rx.await;
        }
    }

    /// Whether [`Client::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::SeqCst)
    }

    /// How many of the client's tasks (driver, requests, connections) are alive; 0 some time
    /// after the client stopped.
    pub fn live_tasks(&self) -> usize {
        self.shared.tasks.live()
    }

    /// Completes when every task of the client has ended (after [`Client::close`], or once
    /// every handle is dropped).
    pub fn tasks_finished(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.shared.tasks.idle()
    }

    /// The default listener capacity.
    pub const DEFAULT_LISTENER_CAPACITY: usize = DEFAULT_LISTENER_CAPACITY;
}

fn serde_json_string<T: Serialize + ?Sized>(value: &T) -> Result<String, ClientError> {
    serde_json::to_string(value).map_err(|e| {
        ClientError::Command(CommandError::InvalidJson {
            reason: e.to_string(),
        })
    })
}
