//! [`ClientBuilder`]: every setting of [`Config`], the seed, and the runtime's options.

use std::time::Duration;

use pn_core::{ClientError, Config, ReliablePublish, RetryPolicy};

use crate::client::{Client, default_seed};
use crate::listener::DEFAULT_LISTENER_CAPACITY;
use crate::runtime::Runtime;

/// Builds a [`Client`]; `build` validates the configuration and starts the client.
pub struct ClientBuilder<R: Runtime> {
    config: Config,
    seed: Option<u64>,
    listener_capacity: usize,
    options: R::Options,
}

impl<R: Runtime> Default for ClientBuilder<R> {
    fn default() -> Self {
        ClientBuilder::new()
    }
}

impl<R: Runtime> std::fmt::Debug for ClientBuilder<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("seed", &self.seed)
            .field("listener_capacity", &self.listener_capacity)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> ClientBuilder<R> {
    /// A builder with [`Config::new`]'s defaults and no keys or user id yet.
    pub fn new() -> Self {
        ClientBuilder {
            config: Config::new(String::new(), String::new()),
            seed: None,
            listener_capacity: DEFAULT_LISTENER_CAPACITY,
            options: R::Options::default(),
        }
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets the subscribe key (required).
    pub fn subscribe_key(mut self, key: impl Into<String>) -> Self {
        self.config.subscribe_key = key.into();
        self
    }

    /// Sets the publish key.
    pub fn publish_key(mut self, key: impl Into<String>) -> Self {
        self.config.publish_key = Some(key.into());
        self
    }

    /// Sets the secret key (every request is then signed).
    pub fn secret_key(mut self, key: impl Into<String>) -> Self {
        self.config.secret_key = Some(key.into());
        self
    }

    /// Sets the user id (required).
    pub fn user_id(mut self, user_id: impl Into<String>) -> Self {
        self.config.user_id = user_id.into();
        self
    }

    /// Sets the access token sent as `auth`.
    pub fn auth_token(mut self, token: impl Into<String>) -> Self {
        self.config.auth_token = Some(token.into());
        self
    }

    /// Sets the origin (`https://host[:port]`, `http://host[:port]` or `host[:port]`).
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.config.origin = origin.into();
        self
    }

    /// Sets the server-side filter expression.
    pub fn filter_expression(mut self, expression: impl Into<String>) -> Self {
        self.config.filter_expression = Some(expression.into());
        self
    }

    /// Sets the presence timeout in seconds (20..=320).
    pub fn presence_timeout(mut self, seconds: u64) -> Self {
        self.config.presence_timeout = Some(seconds);
        self
    }

    /// Sends a presence heartbeat every `seconds` (0: none).
    pub fn heartbeat_interval(mut self, seconds: u64) -> Self {
        self.config.heartbeat_interval = Some(seconds);
        self
    }

    /// Whether to skip `leave` requests when unsubscribing.
    pub fn suppress_leave_events(mut self, on: bool) -> Self {
        self.config.suppress_leave_events = on;
        self
    }

    /// Sets the client-side timeout of subscribe long-polls.
    pub fn subscribe_timeout(mut self, timeout: Duration) -> Self {
        self.config.subscribe_timeout = timeout;
        self
    }

    /// Sets the client-side timeout of every other request.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// Sets how the subscribe loop and heartbeats retry.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.config.retry_policy = policy;
        self
    }

    /// Sets how many recent events are remembered to drop re-deliveries (0: off).
    pub fn dedupe_cache_size(mut self, size: usize) -> Self {
        self.config.dedupe_cache_size = size;
        self
    }

    /// Sets the largest message publish accepts.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.config.max_message_size = bytes;
        self
    }

    /// Sets the most channels plus groups one subscription may hold.
    pub fn max_subscribed_names(mut self, count: usize) -> Self {
        self.config.max_subscribed_names = count;
        self
    }

    /// Turns on ordered, retried publishing.
    pub fn reliable_publish(mut self, settings: ReliablePublish) -> Self {
        self.config.reliable_publish = Some(settings);
        self
    }

    /// Sets the `pnsdk` name.
    pub fn sdk_name(mut self, name: impl Into<String>) -> Self {
        self.config.sdk_name = name.into();
        self
    }

    /// Seeds the core's randomness (retry jitter), for reproducible tests.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Sets how many events each new listener buffers (see [`crate::Listener`]).
    pub fn listener_capacity(mut self, capacity: usize) -> Self {
        self.listener_capacity = capacity;
        self
    }

    /// Replaces the runtime's options.
    pub fn runtime_options(mut self, options: R::Options) -> Self {
        self.options = options;
        self
    }

    /// The runtime's options, for adapters' builder extensions.
    pub fn runtime_options_mut(&mut self) -> &mut R::Options {
        &mut self.options
    }

    /// The configuration so far.
    pub fn config_ref(&self) -> &Config {
        &self.config
    }

    /// Validates the configuration and starts the client.
    pub fn build(self) -> Result<Client<R>, ClientError> {
        let seed = self.seed.unwrap_or_else(default_seed);
        Client::start(self.config, seed, self.options, self.listener_capacity)
    }
}
