//! Sans-IO PubNub core.
#![forbid(unsafe_code)]

pub mod channel;
pub mod config;
mod core;
pub mod decode;
pub mod dedupe;
pub mod encoding;
pub mod endpoints;
pub mod error;
pub mod event;
pub mod presence;
pub mod publish;
pub mod reliable;
pub mod request;
pub mod retry;
pub mod rng;
pub mod signing;
pub mod status;
pub mod subscribe;
pub mod timetoken;
pub mod transcript;

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
