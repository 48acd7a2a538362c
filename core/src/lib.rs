//! Sans-IO PubNub core: the whole PubNub publish/subscribe protocol as one deterministic state
//! machine. Commands go in, HTTP request descriptors come out; response bytes go in, events and
//! statuses come out. It has no sockets, threads, clock, runtime or global state, so it runs
//! inside any executor, an embedded loop, or a test that plays a day of traffic in a microsecond.
//!
//! # The event-loop contract
//!
//! 1. Make one change: a command ([`Core::publish`], [`Core::subscribe`], …), an answer
//!    ([`Core::handle_response`]) or the passing of time ([`Core::handle_timeout`]). Every input
//!    takes `now`; the core never reads a clock.
//! 2. Drain every output: [`Core::poll_transmit`] until `None` (send requests, abort cancelled
//!    ones, *in order*: a new long-poll is never queued before the old one's cancel), then
//!    [`Core::poll_event`] until `None` (messages, statuses, operation results).
//! 3. Wait until [`Core::poll_timeout`], an answer, or a new command — whichever comes first —
//!    and go back to 1.
//!
//! Every [`Request`] carries its own timeout and whether it is a long-poll (which deserves a
//! connection of its own). Answers to requests the core cancelled are ignored, so a transport
//! may deliver them late or never. Randomness (retry jitter) comes from the seed given to
//! [`Core::new`]. Errors are split by blame: [`ConfigError`] and [`CommandError`] are the
//! caller's and are returned before anything is queued; [`Error`] is the network's or the
//! service's and arrives in events.
//!
//! The adapters `pn-hyper`, `pn-async-std` and `pn-blocking` implement this loop; a transport of
//! your own fits in about fifty lines (see `transport-hyper/examples/custom_transport.rs`).
//!
//! # Driving the core by hand
//!
//! ```
//! use std::time::{Duration, Instant};
//! use pn_core::{Config, Core, Event, Outcome, Publish, Response, Subscribe, TransportAction};
//!
//! let config = Config::new("demo", "alice").with_publish_key("demo");
//! let mut now = Instant::now();
//! let mut core = Core::new(config, 7, now, Duration::from_secs(1_700_000_000)).unwrap();
//!
//! // Subscribe: the core asks for a handshake (tt=0) on a long-poll.
//! core.subscribe(Subscribe::channels(["chat"]).unwrap(), now).unwrap();
//! let Some(TransportAction::Send(handshake)) = core.poll_transmit() else { panic!() };
//! assert!(handshake.path_and_query.starts_with("/v2/subscribe/demo/chat/0?tt=0"));
//! core.handle_response(handshake.id, Ok(Response::new(200, r#"{"t":{"t":"100","r":4},"m":[]}"#)), now);
//! let Some(Event::Status(connected)) = core.poll_event() else { panic!() };
//! assert_eq!(connected.category, pn_core::Category::Connected);
//!
//! // Receive: the next long-poll resumes from the cursor and delivers a message.
//! let Some(TransportAction::Send(receive)) = core.poll_transmit() else { panic!() };
//! assert!(receive.path_and_query.contains("tt=100&tr=4"));
//! let body = r#"{"t":{"t":"101","r":4},"m":[{"a":"1","f":0,"i":"bob","p":{"t":"101","r":4},"k":"demo","c":"chat","d":{"text":"hi"}}]}"#;
//! now += Duration::from_millis(30);
//! core.handle_response(receive.id, Ok(Response::new(200, body)), now);
//! let Some(Event::Message(m)) = core.poll_event() else { panic!() };
//! assert_eq!((m.channel.as_str(), m.payload.get()), ("chat", r#"{"text":"hi"}"#));
//!
//! // Publish: a regular request; its timetoken comes back as an operation result.
//! let _next_long_poll = core.poll_transmit();
//! let op = core.publish(Publish::new("chat", &"hello").unwrap(), now).unwrap();
//! let Some(TransportAction::Send(publish)) = core.poll_transmit() else { panic!() };
//! core.handle_response(publish.id, Ok(Response::new(200, r#"[1,"Sent","102"]"#)), now);
//! let Some(Event::Result(r)) = core.poll_event() else { panic!() };
//! assert_eq!(r.id, op);
//! assert!(matches!(r.outcome, Ok(Outcome::Published(tt)) if tt.0 == 102));
//! ```
#![forbid(unsafe_code)]

pub mod channel;
pub mod config;
mod config_setters;
mod core;
pub mod decode;
pub mod dedupe;
pub mod encoding;
pub mod endpoints;
pub mod error;
pub mod event;
pub mod presence;
pub mod publish;
mod publish_options;
pub mod reliable;
pub mod replay;
pub mod request;
pub mod retry;
pub mod rng;
pub mod signing;
pub mod status;
pub mod subscribe;
pub mod timetoken;
pub mod transcript;
mod transition;

pub use crate::core::{Core, HereNowQuery, Subscribe, WATCHDOG_GRACE};
pub use channel::{Channel, ChannelGroup, NameUse};
pub use config::{Config, DuplicatePolicy, Origin, ReliablePublish};
pub use error::{ClientError, CommandError, ConfigError, Error};
pub use event::{
    ChannelOccupancy, Event, HereNow, Message, MessageKind, Occupant, OperationId, OperationResult,
    Outcome, Presence, PresenceAction, RawJson, RawValue,
};
pub use publish::Publish;
pub use request::{
    Method, Request, RequestId, RequestKind, Response, TransportAction, TransportError,
    TransportErrorKind,
};
pub use retry::RetryPolicy;
pub use status::{Category, Operation, Recovery, Status};
pub use timetoken::{Cursor, Region, Timetoken};

#[doc(hidden)]
pub use serde as __serde;
