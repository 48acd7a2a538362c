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
//! * `Options::firehose` names a benchmark channel answered from nothing: every receive on it
//!   alone gets a full page of numbered messages at once.
//! * Filter expressions apply to messages and signals, never to presence events.
//! * Presence events carry `d` = `{action, uuid, timestamp, precise_timestamp, [data], occupancy}`
//!   and `u` = the `pn_*` metadata the service adds; interval events omit empty lists.
//! * Request targets of 64 KiB and more are refused by hyper itself (414 with an empty body,
//!   431 beyond ~400 KiB); below that, `Options::max_url_length` applies with the service's body.
//! * Not implemented: gzip-compressed publish bodies, history/storage, App Context, message
//!   actions, files, push, PAM v3 tokens (grants are configured, not issued), `timestamp` freshness
//!   checks on signed requests.

mod access;
mod body;
mod encoding;
mod errors;
mod faults;
mod filter;
mod firehose;
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
pub use options::{FIREHOSE_START, Options};
pub use server::{DevServer, serve};
