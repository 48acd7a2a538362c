//! What the core hands to the user: delivered messages, operation results and statuses.

use serde::de::DeserializeOwned;
pub use serde_json::value::RawValue;

use crate::channel::Channel;
use crate::error::Error;
use crate::status::{Operation, Status};
use crate::timetoken::{Region, Timetoken};

/// JSON kept exactly as the service sent it, parsed only on demand.
pub type RawJson = Box<RawValue>;

/// Identifies one user operation (publish, here_now, …) and its result.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct OperationId(pub u64);

/// Something for the user, pulled with [`crate::Core::poll_event`].
#[derive(Clone, Debug)]
pub enum Event {
    /// A message, signal, presence, object, action or file event from a subscription.
    Message(Message),
    /// A change in the subscription's condition (or a failed background operation).
    Status(Status),
    /// The result of an operation the user started.
    Result(OperationResult),
}

/// What kind of event a subscription delivered.
#[derive(Clone, PartialEq, Debug)]
pub enum MessageKind {
    /// A published message (`e` absent or 0).
    Message,
    /// A signal (`e` = 1).
    Signal,
    /// A presence event (channel ends in `-pnpres`).
    Presence(Presence),
    /// An App Context (objects) event (`e` = 2).
    Object,
    /// A message action (`e` = 3).
    MessageAction,
    /// A file event (`e` = 4).
    File,
}

impl MessageKind {
    /// The kind's name, as in the conformance event format.
    pub fn as_str(&self) -> &'static str {
        match self {
            MessageKind::Message => "message",
            MessageKind::Signal => "signal",
            MessageKind::Presence(_) => "presence",
            MessageKind::Object => "object",
            MessageKind::MessageAction => "message_action",
            MessageKind::File => "file",
        }
    }
}

/// One event delivered by a subscription.
#[derive(Clone, Debug)]
pub struct Message {
    /// What it is.
    pub kind: MessageKind,
    /// The channel it happened on (without `-pnpres`).
    pub channel: Channel,
    /// The group or wildcard it was delivered through (without `-pnpres`), if not direct.
    pub subscription: Option<Channel>,
    /// Its publish timetoken.
    pub timetoken: Timetoken,
    /// The region of its publish timetoken.
    pub region: Region,
    /// The publisher's user id, if the service told it.
    pub publisher: Option<String>,
    /// The payload, exactly as published.
    pub payload: RawJson,
    /// The publisher's metadata (`meta`).
    pub user_metadata: Option<RawJson>,
    /// The publisher's custom message type.
    pub custom_message_type: Option<String>,
    /// The publisher's sequence number.
    pub sequence: Option<u64>,
}

impl Message {
    /// Parses the payload into `T`. The payload is whatever JSON the publisher sent, so it can
    /// hold numbers, escapes or nesting that `T` cannot (`1e400`, a lone `\ud800`, more than 128
    /// levels for `serde_json::Value`); those give an error here, never a panic.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.payload.get())
    }

    /// The presence details, for presence events.
    pub fn presence(&self) -> Option<&Presence> {
        match &self.kind {
            MessageKind::Presence(p) => Some(p),
            _ => None,
        }
    }
}

/// What happened on a presence channel.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum PresenceAction {
    /// A user subscribed.
    Join,
    /// A user unsubscribed.
    Leave,
    /// A user's presence timed out.
    Timeout,
    /// A user's state changed.
    StateChange,
    /// Periodic summary above the announce limit.
    Interval,
    /// An action this client does not know.
    Other(String),
}

impl PresenceAction {
    /// The action's name on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            PresenceAction::Join => "join",
            PresenceAction::Leave => "leave",
            PresenceAction::Timeout => "timeout",
            PresenceAction::StateChange => "state-change",
            PresenceAction::Interval => "interval",
            PresenceAction::Other(s) => s,
        }
    }

    /// The action named `s` on the wire.
    pub fn from_wire(s: &str) -> PresenceAction {
        match s {
            "join" => PresenceAction::Join,
            "leave" => PresenceAction::Leave,
            "timeout" => PresenceAction::Timeout,
            "state-change" => PresenceAction::StateChange,
            "interval" => PresenceAction::Interval,
            other => PresenceAction::Other(other.into()),
        }
    }
}

/// The details of a presence event.
#[derive(Clone, Debug)]
pub struct Presence {
    /// What happened.
    pub action: PresenceAction,
    /// Whose presence changed (absent for interval events).
    pub uuid: Option<String>,
    /// How many users are on the channel now.
    pub occupancy: Option<u64>,
    /// When, in Unix seconds.
    pub timestamp: Option<u64>,
    /// The user's state, for join and state-change.
    pub state: Option<RawJson>,
    /// Users who joined since the last interval event.
    pub join: Option<Vec<String>>,
    /// Users who left since the last interval event.
    pub leave: Option<Vec<String>>,
    /// Users who timed out since the last interval event.
    pub timeout: Option<Vec<String>>,
    /// The deltas were too large: call here_now.
    pub here_now_refresh: Option<bool>,
}

impl PartialEq for Presence {
    fn eq(&self, other: &Self) -> bool {
        self.action == other.action
            && self.uuid == other.uuid
            && self.occupancy == other.occupancy
            && self.timestamp == other.timestamp
            && self.state.as_ref().map(|s| s.get()) == other.state.as_ref().map(|s| s.get())
            && self.join == other.join
            && self.leave == other.leave
            && self.timeout == other.timeout
            && self.here_now_refresh == other.here_now_refresh
    }
}

/// The result of one operation the user started.
#[derive(Clone, Debug)]
pub struct OperationResult {
    /// The id the command returned.
    pub id: OperationId,
    /// What kind of operation it was.
    pub operation: Operation,
    /// Its outcome.
    pub outcome: Result<Outcome, Error>,
}

/// A successful operation's answer.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// A publish or signal was accepted with this timetoken.
    Published(Timetoken),
    /// The service's current time.
    Time(Timetoken),
    /// Who is on which channel.
    HereNow(HereNow),
    /// The channels a user is on.
    WhereNow(Vec<Channel>),
    /// A user's state per channel.
    State(Vec<(Channel, RawJson)>),
    /// The state as the service stored it.
    StateSet(RawJson),
    /// A channel group's channels.
    GroupChannels(Vec<Channel>),
    /// The service acknowledged the operation (leave, heartbeat, group changes).
    Done,
}

/// The answer to here_now.
#[derive(Clone, Debug, Default)]
pub struct HereNow {
    /// Number of channels with occupants.
    pub total_channels: u64,
    /// Number of occupants over all channels.
    pub total_occupancy: u64,
    /// Per channel.
    pub channels: Vec<ChannelOccupancy>,
}

/// Who is on one channel.
#[derive(Clone, Debug)]
pub struct ChannelOccupancy {
    /// The channel.
    pub channel: Channel,
    /// How many users are on it.
    pub occupancy: u64,
    /// The users (empty when uuids were not asked for).
    pub occupants: Vec<Occupant>,
}

/// One user on a channel.
#[derive(Clone, Debug)]
pub struct Occupant {
    /// The user id.
    pub uuid: String,
    /// The user's state, when asked for.
    pub state: Option<RawJson>,
}
