//! Status categories and status events, named as users of PubNub SDKs know them.

use std::fmt;
use std::time::Duration;

use crate::channel::{Channel, ChannelGroup};
use crate::error::Error;

/// What a status (or an error) means for the user.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Category {
    /// An operation succeeded.
    Acknowledgment,
    /// The subscription is receiving for the first time.
    Connected,
    /// The subscription is receiving again after an outage or a manual reconnect.
    Reconnected,
    /// The subscription stopped because the user asked (unsubscribe all, disconnect).
    Disconnected,
    /// The subscription lost its connection; see the status's retry field for what happens next.
    UnexpectedDisconnect,
    /// The channel or group set changed while receiving.
    SubscriptionChanged,
    /// The service refused the request for lack of permission (403).
    AccessDenied,
    /// The request timed out on the client.
    Timeout,
    /// The service rejected the request as malformed (400).
    BadRequest,
    /// The network failed (refused, reset, unreachable).
    NetworkIssues,
    /// The answer could not be understood.
    MalformedResponse,
    /// The operation was cancelled.
    Cancelled,
    /// Anything else (other 4xx, 5xx).
    Unknown,
}

impl Category {
    /// The category's name, as printed in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Acknowledgment => "Acknowledgment",
            Category::Connected => "Connected",
            Category::Reconnected => "Reconnected",
            Category::Disconnected => "Disconnected",
            Category::UnexpectedDisconnect => "UnexpectedDisconnect",
            Category::SubscriptionChanged => "SubscriptionChanged",
            Category::AccessDenied => "AccessDenied",
            Category::Timeout => "Timeout",
            Category::BadRequest => "BadRequest",
            Category::NetworkIssues => "NetworkIssues",
            Category::MalformedResponse => "MalformedResponse",
            Category::Cancelled => "Cancelled",
            Category::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of operation a status or result is about.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Operation {
    /// The subscribe loop (handshake and receive).
    Subscribe,
    /// Leaving channels.
    Unsubscribe,
    /// Publish.
    Publish,
    /// Signal.
    Signal,
    /// Presence heartbeat.
    Heartbeat,
    /// Setting presence state.
    SetState,
    /// Reading presence state.
    GetState,
    /// Who is on channels.
    HereNow,
    /// Which channels a user is on.
    WhereNow,
    /// The service's time.
    Time,
    /// Adding channels to a group.
    AddChannelsToGroup,
    /// Removing channels from a group.
    RemoveChannelsFromGroup,
    /// Listing a group's channels.
    ListGroupChannels,
    /// Deleting a group.
    DeleteGroup,
}

/// What the subscription will do after a failure.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Recovery {
    /// Nothing to recover from.
    None,
    /// The core will retry on its own: this is attempt number `attempt`, after `delay`.
    Retrying {
        /// 1 for the first retry.
        attempt: u32,
        /// How long until the retry.
        delay: Duration,
    },
    /// The core gave up; call `reconnect` to try again.
    GaveUp,
}

/// A change in the subscription's (or an operation's) condition.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Status {
    /// What happened.
    pub category: Category,
    /// Which operation it concerns.
    pub operation: Operation,
    /// The error behind it, for failures.
    pub error: Option<Error>,
    /// The channels subscribed (or affected) at the time.
    pub channels: Vec<Channel>,
    /// The channel groups subscribed (or affected) at the time.
    pub groups: Vec<ChannelGroup>,
    /// What happens next.
    pub recovery: Recovery,
}

impl Status {
    /// The HTTP status of the failure behind this status, if any.
    pub fn http_status(&self) -> Option<u16> {
        self.error.as_ref().and_then(Error::http_status)
    }
}
