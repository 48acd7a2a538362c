//! One client over the three adapters, blocking on the async ones, so that each command is
//! written once. The two async adapters share `pn_async_driver::Client`, so their arms run
//! the same code under their own executor; the blocking adapter has its own call shapes.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use pn_async_std::SpawnerExt;

use pn_core::{
    Channel, ClientError, CommandError, Config, Event, HereNow, HereNowQuery, Publish, RawJson,
    RawValue, Subscribe, Timetoken,
};

use crate::args::{Global, TransportKind};
use crate::error::Result;

/// The client configuration the global options describe.
pub fn config(g: &Global) -> Result<Config> {
    let user_id = g
        .user_id
        .clone()
        .unwrap_or_else(|| format!("pn-cli-{}", std::process::id()));
    let mut config = Config::new(g.sub_key.clone(), user_id).with_origin(g.origin.clone());
    config.publish_key = Some(g.pub_key.clone()).filter(|k| !k.is_empty());
    config.secret_key = g.secret_key.clone();
    config.auth_token = g.auth.clone();
    config.validate()?;
    Ok(config)
}

/// `text` checked to be one JSON value, kept exactly as written.
pub fn raw_json(text: &str) -> Result<Box<RawValue>, CommandError> {
    serde_json::from_str(text).map_err(|e| CommandError::InvalidJson {
        reason: e.to_string(),
    })
}

/// A publish or signal, described once for every transport and for `--dry-run`.
#[derive(Debug, Clone)]
pub struct Message {
    /// The channel.
    pub channel: String,
    /// The message, valid JSON.
    pub json: Box<RawValue>,
    /// A signal rather than a publish.
    pub signal: bool,
    /// `store`.
    pub store: Option<bool>,
    /// `ttl` in hours.
    pub ttl: Option<u32>,
    /// `meta`, valid JSON.
    pub meta: Option<Box<RawValue>>,
    /// Send in a POST body.
    pub post: bool,
}

impl Message {
    /// The same message as a core [`Publish`] (for building the request without sending).
    pub fn to_publish(&self) -> Result<Publish, CommandError> {
        let mut p = if self.signal {
            Publish::signal(&self.channel, &*self.json)?
        } else {
            Publish::raw(&self.channel, self.json.get())?
        };
        p = p.use_post(self.post);
        if let Some(store) = self.store {
            p = p.store(store);
        }
        if let Some(ttl) = self.ttl {
            p = p.ttl(ttl);
        }
        if let Some(meta) = &self.meta {
            p = p.meta_raw(meta.get())?;
        }
        Ok(p)
    }
}

/// Applies a [`Message`]'s options to either adapter's publish builder (same method names).
macro_rules! publish_builder {
    ($client:expr, $m:expr) => {{
        let m: &Message = $m;
        // The JSON was checked when the message was made: hand it on as a value, unparsed.
        let mut b = if m.signal {
            $client.signal(&m.channel, &*m.json)
        } else {
            $client.publish(&m.channel, &*m.json)
        };
        b = b.use_post(m.post);
        if let Some(store) = m.store {
            b = b.store(store);
        }
        if let Some(ttl) = m.ttl {
            b = b.ttl(ttl);
        }
        if let Some(meta) = &m.meta {
            b = b.meta(&**meta);
        }
        b
    }};
}

/// Runs `$async` (an expression using `.await` on `$c`, the `pn_async_driver::Client`) on the
/// async adapters' executors, or `$blocking` on the blocking client.
macro_rules! each {
    ($self:expr, $c:ident => async $async:expr, blocking $blocking:expr) => {
        match &$self.inner {
            Inner::Hyper { rt, client: $c, .. } => rt.block_on(async { $async }),
            Inner::AsyncStd {
                local, client: $c, ..
            } => local.block_on(async { $async }),
            Inner::Blocking { client: $c, .. } => $blocking,
        }
    };
}

enum Inner {
    Hyper {
        rt: tokio::runtime::Runtime,
        client: pn_hyper::Client,
        events: pn_hyper::Listener,
    },
    AsyncStd {
        local: LocalTasks,
        client: pn_async_std::Client,
        events: pn_async_std::Listener,
    },
    Blocking {
        client: pn_blocking::Client,
        events: pn_blocking::Listener,
    },
}

/// Where an async client's tasks (tokio's for hyper, an `async-executor`'s for async-std) run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Executor {
    /// On a worker thread of their own: the client makes progress between calls (needed when
    /// several clients are driven in turn, as `pn demo` and `pn chaos` do).
    Background,
    /// On the calling thread, only while one of this client's calls runs: no thread hop per
    /// call, for one client driven from one thread (`pn bench`).
    CallingThread,
}

/// Where the async-std client's tasks run: the adapter's own background thread, or an executor
/// that runs them on the calling thread while a call blocks (see [`Executor`]).
enum LocalTasks {
    /// The adapter's built-in executor thread.
    Background,
    /// This executor, run by every blocking call.
    CallingThread(Arc<async_executor::Executor<'static>>),
}

impl LocalTasks {
    /// Runs `future` to completion on this thread, with the client's tasks if they live here.
    fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        match self {
            LocalTasks::Background => futures_lite::future::block_on(future),
            LocalTasks::CallingThread(executor) => async_io::block_on(executor.run(future)),
        }
    }
}

/// A client of the chosen transport with one event listener, registered before anything is
/// subscribed so that no status is missed. The async clients hold back rather than drop events
/// when the command reading them falls behind (`WhenFull::HoldBack`): one reader, nothing lost.
pub struct Client {
    inner: Inner,
}

impl Client {
    /// Starts a client of `kind` for `config`, its tasks running in the background.
    pub fn connect(kind: TransportKind, config: Config) -> Result<Client> {
        Self::connect_on(kind, config, Executor::Background)
    }

    /// Starts a client of `kind` for `config` whose tokio tasks run where `executor` says.
    pub fn connect_on(kind: TransportKind, config: Config, executor: Executor) -> Result<Client> {
        let inner = match kind {
            TransportKind::Hyper => {
                let rt = match executor {
                    Executor::Background => tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(1)
                        .enable_all()
                        .build()?,
                    Executor::CallingThread => tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?,
                };
                let client = rt.block_on(async {
                    pn_hyper::ClientBuilder::new()
                        .config(config)
                        .when_listener_full(pn_hyper::WhenFull::HoldBack)
                        .build()
                })?;
                let events = client.listen();
                Inner::Hyper { rt, client, events }
            }
            TransportKind::AsyncStd => {
                let mut builder = pn_async_std::ClientBuilder::new()
                    .config(config)
                    .when_listener_full(pn_async_std::WhenFull::HoldBack);
                let local = match executor {
                    Executor::Background => LocalTasks::Background,
                    Executor::CallingThread => {
                        let tasks = Arc::new(async_executor::Executor::new());
                        let spawner = tasks.clone();
                        builder = builder.spawner(move |task| spawner.spawn(task).detach());
                        LocalTasks::CallingThread(tasks)
                    }
                };
                let client = builder.build()?;
                let events = client.listen();
                Inner::AsyncStd {
                    local,
                    client,
                    events,
                }
            }
            TransportKind::Blocking => {
                let client = pn_blocking::Client::new(config)?;
                let events = client.listen();
                Inner::Blocking { client, events }
            }
        };
        Ok(Client { inner })
    }

    /// Publishes (or signals) `m`; its timetoken.
    pub fn publish(&self, m: &Message) -> Result<Timetoken, ClientError> {
        each!(self, c => async publish_builder!(c, m).await,
              blocking publish_builder!(c, m).send())
    }

    /// The service's time.
    pub fn time(&self) -> Result<Timetoken, ClientError> {
        each!(self, c => async c.time().await, blocking c.time())
    }

    /// Who is on the query's channels and groups.
    pub fn here_now(&self, q: &HereNowQuery) -> Result<HereNow, ClientError> {
        let chans: Vec<&str> = q.channels.iter().map(Channel::as_str).collect();
        let groups: Vec<&str> = q.groups.iter().map(|g| g.as_str()).collect();
        each!(self, c => async c.here_now(&chans)
                .groups(&groups)
                .include_uuids(q.include_uuids)
                .include_state(q.include_state)
                .await,
              blocking c.here_now(&chans)
                .groups(&groups)
                .include_uuids(q.include_uuids)
                .include_state(q.include_state)
                .send())
    }

    /// The channels `uuid` (default: this user) is on.
    pub fn where_now(&self, uuid: Option<&str>) -> Result<Vec<Channel>, ClientError> {
        each!(self, c => async c.where_now(uuid).await,
        blocking match uuid {
            Some(u) => c.where_now().uuid(u).send(),
            None => c.where_now().send(),
        })
    }

    /// `uuid`'s (default: this user's) state on `channels`.
    pub fn get_state(
        &self,
        channels: &[&str],
        uuid: Option<&str>,
    ) -> Result<Vec<(Channel, RawJson)>, ClientError> {
        each!(self, c => async c.get_state(channels, uuid).await,
        blocking match uuid {
            Some(u) => c.get_state(channels).uuid(u).send(),
            None => c.get_state(channels).send(),
        })
    }

    /// Sets this user's state (a JSON object) on `channels`; the state as stored.
    pub fn set_state(&self, channels: &[&str], state: &RawValue) -> Result<RawJson, ClientError> {
        each!(self, c => async c.set_state(channels, state).await,
              blocking c.set_state(channels, state).send())
    }

    /// Subscribes; events arrive through [`Client::next_event`].
    pub fn subscribe(&self, s: Subscribe) -> Result<(), ClientError> {
        each!(self, c => async c.subscribe(s).await, blocking c.subscribe(s))
    }

    /// The next message or status, waiting until `deadline` (forever if `None`); `None` once
    /// the deadline passed or the client is closed.
    pub fn next_event(&mut self, deadline: Option<Instant>) -> Option<Event> {
        match &mut self.inner {
            Inner::Hyper { rt, events, .. } => rt.block_on(async {
                match deadline {
                    Some(d) => tokio::time::timeout_at(d.into(), events.next())
                        .await
                        .ok()
                        .flatten(),
                    None => events.next().await,
                }
            }),
            Inner::AsyncStd { local, events, .. } => {
                use futures_lite::FutureExt;
                local.block_on(async {
                    match deadline {
                        Some(d) => {
                            events
                                .next()
                                .or(async {
                                    async_io::Timer::at(d).await;
                                    None
                                })
                                .await
                        }
                        None => events.next().await,
                    }
                })
            }
            Inner::Blocking { events, .. } => match deadline {
                Some(d) => events
                    .recv_timeout(d.saturating_duration_since(Instant::now()))
                    .ok(),
                None => events.recv().ok(),
            },
        }
    }

    /// Something another thread (a Ctrl-C handler) can call to unsubscribe from everything:
    /// the leave goes out and the subscription ends with a `Disconnected` status.
    pub fn leave_handle(&self) -> Box<dyn FnOnce() + Send> {
        match &self.inner {
            Inner::Hyper { rt, client, .. } => {
                let (runtime, client) = (rt.handle().clone(), client.clone());
                Box::new(move || {
                    let _ = runtime.block_on(client.unsubscribe_all());
                })
            }
            Inner::AsyncStd { client, .. } => {
                let client = client.clone();
                Box::new(move || {
                    let _ = futures_lite::future::block_on(client.unsubscribe_all());
                })
            }
            Inner::Blocking { client, .. } => {
                let client = client.clone();
                Box::new(move || {
                    let _ = client.unsubscribe_all();
                })
            }
        }
    }

    /// Leaves the subscribed channels and stops the client's tasks or threads.
    pub fn close(self) {
        each!(self, c => async c.close().await, blocking c.close())
    }
}
