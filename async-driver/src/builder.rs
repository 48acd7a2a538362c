//! [`ClientBuilder`]: every setting of [`Config`], the seed, and the runtime's options.

use pn_core::{ClientError, Config};

use crate::client::{Client, default_seed};
use crate::listener::{DEFAULT_LISTENER_CAPACITY, Listeners, WhenFull};
use crate::runtime::Runtime;

/// Builds a [`Client`]; `build` validates the configuration and starts the client.
pub struct ClientBuilder<R: Runtime> {
    config: Config,
    seed: Option<u64>,
    listener_capacity: usize,
    when_full: WhenFull,
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
            .field("when_full", &self.when_full)
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
            when_full: WhenFull::default(),
            options: R::Options::default(),
        }
    }

    pn_core::config_setters!();

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

    /// Sets what the client does when a listener falls behind (default: drop its oldest).
    pub fn when_listener_full(mut self, when_full: WhenFull) -> Self {
        self.when_full = when_full;
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
        let listeners = Listeners::new(self.when_full);
        Client::start(
            self.config,
            seed,
            self.options,
            listeners,
            self.listener_capacity,
        )
    }
}
