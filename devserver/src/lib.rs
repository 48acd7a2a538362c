//! Local PubNub-compatible development server.
//!
//! Speaks the PubNub REST/long-poll wire protocol (publish, signal, fire, subscribe v2,
//! presence, channel groups, time) closely enough that the official SDKs work against it
//! unchanged, with fault injection for testing clients. It is independent of `pn-core`.
//!
//! ```no_run
//! use pn_devserver::{DevServer, Options};
//! let server = DevServer::start("127.0.0.1:0".parse().unwrap(), Options::default()).unwrap();
//! println!("listening on {}", server.origin());
//! ```
//!
//! Semantics worth knowing:
//! * Every subscribe key gets its own state; any key is accepted unless access control is on.
//! * A receive request with cursor `tt` gets the events on its channels newer than `tt` (kept
//!   per channel, `Options::history_per_channel` deep), at most `Options::queue_cap` of them
//!   (oldest dropped); its next `t` makes the following request get only newer ones.
//! * Filter expressions apply to messages and signals, never to presence events.

mod access;
mod body;
mod encoding;
mod errors;
mod faults;
mod filter;
mod groups;
mod history;
mod json;
mod message;
mod options;
mod parked;
mod presence;
mod presence_api;
mod publish;
mod request;
mod routes;
mod server;
mod signature;
mod state;
mod subscribe;
mod timetoken;

pub use faults::{Endpoint, Fault, FaultRule, Faults, RecordedRequest, Target};
pub use options::Options;
pub use server::{DevServer, serve};
