//! A blocking PubNub client: [`pn_core`]'s sans-IO state machine driven by threads, HTTP by
//! [ureq](https://docs.rs/ureq) 3.
//!
//! ```no_run
//! use pn_blocking::Client;
//! use pn_core::Event;
//!
//! let client = Client::builder()
//!     .subscribe_key("demo")
//!     .publish_key("demo")
//!     .user_id("reader")
//!     .origin("http://127.0.0.1:8090")
//!     .build()?;
//! let events = client.listen();
//! client.subscribe_to(&["chat"])?;
//! let timetoken = client.publish("chat", "hello").send()?;
//! for event in events {
//!     if let Event::Message(m) = event {
//!         println!("{} at {:?}: {}", m.channel, m.timetoken, m.payload.get());
//!         break;
//!     }
//! }
//! client.close();
//! # let _ = timetoken;
//! # Ok::<(), pn_core::ClientError>(())
//! ```
//!
//! # Threads
//! * the **driver** owns the [`pn_core::Core`]. It waits on one channel for commands from
//!   [`Client`] handles and answers from the I/O threads, with a timeout of the core's next
//!   deadline. After every input it carries out every transport action and routes every event
//!   before it waits again: the core's contract.
//! * the **long-poll thread** sends subscribe long-polls, one at a time, on an agent of its
//!   own; a cancel shuts that agent down, which aborts the blocked call at once.
//! * a **worker pool** (4 by default) sends every other request through one shared agent. A
//!   cancelled regular request runs to its own timeout; the core ignores its late answer.
//! * the **dispatcher** calls the callbacks of [`Client::add_listener`], so that a callback
//!   may use the client, even blocking calls, without stalling the driver.
//!
//! # Shutdown
//! [`Client::close`] leaves the subscribed channels, waits for the leave answers (at most
//! `request_timeout`), shuts both agents down (aborting anything still in flight, the
//! long-poll included) and joins every thread. Dropping the last handle does the same on the
//! driver thread and returns at once; the threads end on their own shortly after.
//! [`Client::threads`] counts the threads still running.
//!
//! No protocol decision is made here: URLs, retries, categories and dedupe are the core's.
#![forbid(unsafe_code)]

mod client;
mod driver;
mod error_map;
mod http;
mod listener;
mod operations;
mod pool;
mod resolve;
mod threads;

pub use client::{Client, ClientBuilder, DEFAULT_WORKERS};
pub use http::DEFAULT_MAX_BODY;
pub use listener::{Listener, ListenerId};
pub use operations::{
    GetStateBuilder, HereNowBuilder, PublishBuilder, SetStateBuilder, WhereNowBuilder,
};
pub use pn_core;
pub use pn_core::{ClientError, Config, Event, Subscribe};
pub use std::sync::mpsc::{RecvError, RecvTimeoutError, TryRecvError};
pub use threads::ThreadGauge;
