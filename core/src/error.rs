//! Errors, split by blame: the caller's (`ConfigError`, `CommandError`, raised before any I/O)
//! and the operation's (`Error`, raised by the network or the service over an operation's life).

use std::fmt;

use crate::channel::{Channel, ChannelGroup};
use crate::request::TransportError;
use crate::status::Category;

/// A configuration the core refuses to start with. The caller is at fault; retrying is useless.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// No subscribe key was given; every endpoint needs one.
    MissingSubscribeKey,
    /// A key holds characters that cannot appear in a URL path segment.
    InvalidKey {
        /// Which key (`publish`, `subscribe`, `secret`).
        which: &'static str,
    },
    /// The user id is empty.
    EmptyUserId,
    /// The user id is longer than the service allows.
    UserIdTooLong {
        /// Its length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// The user id holds a control character.
    InvalidUserId,
    /// The origin is not `host[:port]` or `http(s)://host[:port]`.
    InvalidOrigin {
        /// The origin as given.
        origin: String,
    },
    /// The presence timeout is outside what the service accepts.
    PresenceTimeoutOutOfRange {
        /// The value given, in seconds.
        seconds: u64,
        /// The smallest accepted value.
        min: u64,
        /// The largest accepted value.
        max: u64,
    },
    /// The heartbeat interval does not leave the service time to see a heartbeat before the
    /// presence timeout.
    HeartbeatIntervalTooLong {
        /// The interval given, in seconds.
        interval: u64,
        /// The presence timeout, in seconds.
        timeout: u64,
    },
    /// A timeout of zero would fail every request.
    ZeroTimeout {
        /// Which timeout.
        which: &'static str,
    },
    /// A timeout so long that it could never usefully pass.
    TimeoutTooLong {
        /// Which timeout.
        which: &'static str,
        /// The longest accepted.
        max: std::time::Duration,
    },
    /// A retry policy's numbers are out of range.
    InvalidRetryPolicy {
        /// What is wrong.
        reason: &'static str,
    },
    /// A size limit of zero.
    ZeroLimit {
        /// Which limit.
        which: &'static str,
    },
}

/// A command the core refuses before anything is queued. The caller is at fault; the same
/// command will fail again, and nothing was sent or changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// A channel, group or uuid is empty.
    EmptyName,
    /// A channel, group or uuid is longer than the service allows.
    NameTooLong {
        /// Its length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// A channel or group holds a character the service reserves.
    InvalidCharacter {
        /// The name.
        name: String,
        /// The offending character.
        character: char,
    },
    /// The name ends with the reserved `-pnpres` suffix.
    ReservedName {
        /// The name.
        name: String,
    },
    /// A timetoken is not a decimal number.
    InvalidTimetoken {
        /// The text given.
        value: String,
    },
    /// The command needs at least one channel or group.
    NoChannels,
    /// The request would hold more channels than allowed.
    TooManyChannels {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The message, URL-escaped with its channel name, exceeds the size limit.
    MessageTooLarge {
        /// The escaped size in bytes.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A custom message type is not 3–50 characters or starts with `-` or `_`.
    InvalidMessageType {
        /// The value given.
        value: String,
    },
    /// Publishing needs a publish key.
    MissingPublishKey,
    /// A message, meta or state is not valid JSON.
    InvalidJson {
        /// The parser's complaint.
        reason: String,
    },
    /// Meta or state must be a JSON object.
    NotAnObject {
        /// Which argument.
        what: &'static str,
    },
    /// The reliable-publish queue of a channel is full; try again after results arrive.
    QueueFull {
        /// The channel.
        channel: Channel,
        /// The queue's capacity.
        capacity: usize,
    },
}

/// Why an operation failed after it was sent. Who is at fault and whether retrying makes sense is
/// told by [`Error::category`] and [`Error::is_retriable`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The service answered with an error status or an error body. The service (or the caller's
    /// permissions) is at fault; 429 and 5xx may succeed later.
    Api {
        /// HTTP status (400 for a 200 whose body says failure).
        status: u16,
        /// The service's message.
        message: String,
        /// Channels the service named (access denied).
        channels: Vec<Channel>,
        /// Channel groups the service named (access denied).
        groups: Vec<ChannelGroup>,
        /// Seconds the service asked to wait before retrying (429).
        retry_after: Option<u64>,
    },
    /// The request never got a complete answer. The network is at fault; retrying may help.
    Transport(TransportError),
    /// The answer could not be understood (not UTF-8, not JSON, wrong shape). The peer is at
    /// fault; the same request may well succeed again.
    Malformed {
        /// HTTP status of the answer.
        status: u16,
        /// What is wrong with it.
        reason: String,
    },
    /// The operation was cancelled by a later command (unsubscribe, disconnect, close).
    Cancelled,
}

impl Error {
    /// The status category users of PubNub SDKs know this error by.
    pub fn category(&self) -> Category {
        match self {
            Error::Api { status: 400, .. } => Category::BadRequest,
            Error::Api { status: 403, .. } => Category::AccessDenied,
            Error::Api { .. } => Category::Unknown,
            Error::Transport(t) => t.category(),
            Error::Malformed { .. } => Category::MalformedResponse,
            Error::Cancelled => Category::Cancelled,
        }
    }

    /// The HTTP status of the answer, if one arrived.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Malformed { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the same request may succeed later (429, 5xx, network failures, garbled bodies).
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Api { status, .. } => *status == 429 || *status >= 500,
            Error::Transport(_) | Error::Malformed { .. } => true,
            Error::Cancelled => false,
        }
    }

    /// Whether a retry cannot duplicate a publish: the service provably did not act on it.
    pub fn request_not_processed(&self) -> bool {
        match self {
            Error::Api { status, .. } => *status == 429,
            Error::Transport(t) => t.kind.request_not_sent(),
            _ => false,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::MissingSubscribeKey => write!(f, "a subscribe key is required"),
            ConfigError::InvalidKey { which } => {
                write!(f, "the {which} key holds characters not allowed in a key")
            }
            ConfigError::EmptyUserId => write!(f, "a non-empty user id is required"),
            ConfigError::UserIdTooLong { chars, max } => {
                write!(
                    f,
                    "the user id has {chars} characters, at most {max} allowed"
                )
            }
            ConfigError::InvalidUserId => write!(f, "the user id holds a control character"),
            ConfigError::InvalidOrigin { origin } => write!(
                f,
                "origin {origin:?} is not host[:port] or http(s)://host[:port]"
            ),
            ConfigError::PresenceTimeoutOutOfRange { seconds, min, max } => write!(
                f,
                "presence timeout {seconds}s is outside {min}..={max} seconds"
            ),
            ConfigError::HeartbeatIntervalTooLong { interval, timeout } => write!(
                f,
                "heartbeat interval {interval}s must be shorter than the presence timeout {timeout}s"
            ),
            ConfigError::ZeroTimeout { which } => write!(f, "the {which} timeout must not be zero"),
            ConfigError::TimeoutTooLong { which, max } => {
                write!(f, "the {which} timeout must be at most {}s", max.as_secs())
            }
            ConfigError::InvalidRetryPolicy { reason } => {
                write!(f, "invalid retry policy: {reason}")
            }
            ConfigError::ZeroLimit { which } => write!(f, "the {which} limit must not be zero"),
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::EmptyName => write!(f, "a channel, group or uuid name is empty"),
            CommandError::NameTooLong { chars, max } => {
                write!(f, "a name has {chars} characters, at most {max} allowed")
            }
            CommandError::InvalidCharacter { name, character } => {
                write!(
                    f,
                    "name {name:?} holds the reserved character {character:?}"
                )
            }
            CommandError::ReservedName { name } => {
                write!(f, "name {name:?} ends with the reserved suffix -pnpres")
            }
            CommandError::InvalidTimetoken { value } => {
                write!(f, "{value:?} is not a timetoken (a decimal number)")
            }
            CommandError::NoChannels => write!(f, "at least one channel or group is needed"),
            CommandError::TooManyChannels { count, max } => {
                write!(f, "{count} channels given, at most {max} allowed")
            }
            CommandError::MessageTooLarge { size, limit } => write!(
                f,
                "message is {size} bytes URL-escaped with its channel, the limit is {limit}"
            ),
            CommandError::InvalidMessageType { value } => write!(
                f,
                "custom message type {value:?} must be 3-50 letters, digits, '-' or '_'"
            ),
            CommandError::MissingPublishKey => write!(f, "publishing needs a publish key"),
            CommandError::InvalidJson { reason } => write!(f, "invalid JSON: {reason}"),
            CommandError::NotAnObject { what } => write!(f, "{what} must be a JSON object"),
            CommandError::QueueFull { channel, capacity } => write!(
                f,
                "the publish queue of channel {channel} is full ({capacity} messages)"
            ),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api {
                status,
                message,
                channels,
                groups,
                ..
            } => {
                write!(f, "service answered {status}: {message}")?;
                if !channels.is_empty() {
                    write!(f, " (channels: {channels:?})")?;
                }
                if !groups.is_empty() {
                    write!(f, " (groups: {groups:?})")?;
                }
                Ok(())
            }
            Error::Transport(t) => write!(f, "{t}"),
            Error::Malformed { status, reason } => {
                write!(f, "malformed response (HTTP {status}): {reason}")
            }
            Error::Cancelled => write!(f, "cancelled"),
        }
    }
}

impl std::error::Error for ConfigError {}
impl std::error::Error for CommandError {}
impl std::error::Error for Error {}

/// Any failure a client built on the core reports: the union of the three kinds above, plus
/// the client having been closed. Shared by every adapter so that they fail alike.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// The configuration was refused (caller's fault).
    Config(ConfigError),
    /// The command was refused before anything was sent (caller's fault).
    Command(CommandError),
    /// The operation failed on the network or at the service.
    Failed(Error),
    /// The client was closed before the operation finished.
    Closed,
}

impl ClientError {
    /// The status category of this failure.
    pub fn category(&self) -> Category {
        match self {
            ClientError::Config(_) | ClientError::Command(_) => Category::BadRequest,
            ClientError::Failed(e) => e.category(),
            ClientError::Closed => Category::Cancelled,
        }
    }
}

impl From<ConfigError> for ClientError {
    fn from(e: ConfigError) -> Self {
        ClientError::Config(e)
    }
}

impl From<CommandError> for ClientError {
    fn from(e: CommandError) -> Self {
        ClientError::Command(e)
    }
}

impl From<Error> for ClientError {
    fn from(e: Error) -> Self {
        ClientError::Failed(e)
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Config(e) => write!(f, "configuration refused: {e}"),
            ClientError::Command(e) => write!(f, "command refused: {e}"),
            ClientError::Failed(e) => write!(f, "{} ({})", e, e.category()),
            ClientError::Closed => write!(f, "the client was closed"),
        }
    }
}

impl std::error::Error for ClientError {}
