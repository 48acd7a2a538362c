//! Async PubNub client for async-std and smol (or any executor), built on the primitives they
//! run on: `async-io` sockets and timers, `futures-rustls`, and a small HTTP/1.1 client.
//!
//! ```no_run
//! use pn_async_std::{Client, SpawnerExt};
//! # async fn run() -> Result<(), pn_core::ClientError> {
//! let client = Client::builder()
//!     .subscribe_key("demo")
//!     .publish_key("demo")
//!     .user_id("me")
//!     .origin("http://127.0.0.1:8090")
//!     // Optional: run the client's tasks on your executor (default: a built-in thread).
//!     .spawner(|task| {
//!         async_std::task::spawn(task);
//!     })
//!     .build()?;
//! let mut events = client.listen();
//! client.subscribe_to(&["chat"]).await?;
//! client.publish("chat", "hello").await?;
//! if let Some(event) = events.next().await {
//!     println!("{event:?}");
//! }
//! client.close().await;
//! # Ok(()) }
//! ```
//!
//! async-std is discontinued upstream; this crate depends on none of it. Its tasks (one driver,
//! one per request in flight) run on the spawner given to the builder, or else on a built-in
//! `async-executor` thread, so it works under async-std, smol, or a plain `block_on`.
#![forbid(unsafe_code)]

mod conn;
mod http;
mod pool;
mod runtime;
mod spawner;
mod tls;

pub use runtime::{AsyncStdOptions, AsyncStdRuntime, DEFAULT_MAX_BODY};
pub use spawner::Spawner;

pub use pn_async_driver::{BoxFuture, Listener, WhenFull, pn_core};

/// The async PubNub client on async-io (async-std, smol).
pub type Client = pn_async_driver::Client<AsyncStdRuntime>;

/// The builder of [`Client`].
pub type ClientBuilder = pn_async_driver::ClientBuilder<AsyncStdRuntime>;

/// Adds `.spawner(…)` to [`ClientBuilder`].
pub trait SpawnerExt {
    /// Runs the client's tasks with `spawn` instead of the built-in executor thread.
    fn spawner(self, spawn: impl Fn(BoxFuture<'static, ()>) + Send + Sync + 'static) -> Self;
}

impl SpawnerExt for ClientBuilder {
    fn spawner(mut self, spawn: impl Fn(BoxFuture<'static, ()>) + Send + Sync + 'static) -> Self {
        self.runtime_options_mut().spawner = Some(std::sync::Arc::new(spawn));
        self
    }
}
