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
//! * **the calling thread** sends its own requests. The [`pn_core::Core`] sits behind one mutex
//!   shared by every thread of the client: a call locks it, starts its operation, routes what
//!   the core has to do, unlocks, sends the operation's request itself, then locks again to hand
//!   the answer to the core, and finds its outcome waiting. No thread switch on the way.
//! * the **driver** fires the core's deadlines (retries, heartbeats, the watchdog), takes the
//!   answers of the I/O threads and closes the session. It sleeps on a channel until the
//!   earliest deadline it knows of; a caller wakes it only for an earlier one. Whoever holds the
//!   core carries out every transport action and routes every event before letting go of it:
//!   the core's contract.
//! * the **long-poll thread** sends subscribe long-polls, one at a time, on an agent of its
//!   own; a cancel shuts that agent down, which aborts the blocked call at once.
//! * a **worker pool** (4 by default) sends the requests no caller waits on (heartbeats,
//!   leaves, queued reliable publishes) through one shared agent. A cancelled regular request
//!   runs to its own timeout; the core ignores its late answer.
//! * the **dispatcher** calls the callbacks of [`Client::add_listener`], so that a callback
//!   may use the client, even blocking calls, without stalling the driver.
//!
//! # Slow listeners
//! Nothing is dropped on this side: once a [`Listener`] or the callbacks are more than
//! [`HOLD_BACK_ABOVE`] events behind, the next subscribe long-poll waits until they catch up, so
//! a burst waits at the service (which keeps up to 100 messages per subscriber) and memory stays
//! bounded. A listener that is never read stalls the subscription: drop it to unregister it.
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
pub use listener::{HOLD_BACK_ABOVE, Listener, ListenerId};
pub use operations::{
    GetStateBuilder, HereNowBuilder, PublishBuilder, SetStateBuilder, WhereNowBuilder,
};
pub use pn_core;
pub use pn_core::{ClientError, Config, Event, Subscribe};
pub use std::sync::mpsc::{RecvError, RecvTimeoutError, TryRecvError};
pub use threads::ThreadGauge;
