//! Async PubNub client for tokio, over hyper 1 (HTTP/1.1) and rustls.
//!
//! ```no_run
//! # async fn run() -> Result<(), pn_core::ClientError> {
//! let client = pn_hyper::Client::builder()
//!     .subscribe_key("demo")
//!     .publish_key("demo")
//!     .user_id("me")
//!     .origin("http://127.0.0.1:8090")
//!     .build()?;
//! let mut events = client.listen();
//! client.subscribe_to(&["chat"]).await?;
//! let timetoken = client.publish("chat", "hello").await?;
//! while let Some(event) = events.next().await {
//!     println!("{event:?}");
//! }
//! client.close().await;
//! # Ok(()) }
//! ```
//!
//! Build the client inside a tokio runtime, or pass a runtime handle through [`HyperOptions`]
//! (`ClientBuilder::runtime_options`); `build` panics otherwise, as `tokio::spawn` would. Every
//! protocol decision is made by `pn-core`; this crate only moves bytes: kept-alive connections
//! for regular requests, a connection of its own for each subscribe long-poll, request timeouts,
//! cancellation by dropping the request, and response bodies capped at
//! [`DEFAULT_MAX_BODY`].
#![forbid(unsafe_code)]

mod error_map;
mod runtime;
mod tls;

pub use runtime::{DEFAULT_MAX_BODY, HyperOptions, HyperRuntime};

pub use pn_async_driver::{Listener, WhenFull, pn_core};

/// The async PubNub client on tokio + hyper.
pub type Client = pn_async_driver::Client<HyperRuntime>;

/// The builder of [`Client`].
pub type ClientBuilder = pn_async_driver::ClientBuilder<HyperRuntime>;
