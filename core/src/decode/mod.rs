//! Decoders: response bytes in, typed answers or a typed [`Error`] out. Never panics.
//!
//! Every decoder first checks the HTTP status (non-2xx → [`Error::Api`] with whatever the body
//! says), then UTF-8 and JSON (→ [`Error::Malformed`]), then the shape. A 2xx body that reports
//! failure (`[0,"Message Too Large",…]`, `{"error":true,…}`) is an [`Error::Api`] too.

mod ack;
mod body;
mod error;
mod groups;
mod presence;
mod presence_event;
mod publish;
mod subscribe;
mod time;

#[cfg(test)]
mod proptests;

use crate::channel::{Channel, ChannelGroup};
use crate::error::Error;
use crate::event::{HereNow, Message, RawJson};
use crate::request::Response;
use crate::timetoken::{Cursor, Timetoken};

/// A decoded subscribe answer: the next cursor and the events.
#[derive(Debug)]
pub struct SubscribeBody {
    /// Where the next long-poll resumes (`t`), adopted verbatim.
    pub cursor: Cursor,
    /// The events in `m`, in order.
    pub messages: Vec<Message>,
    /// Why envelopes of `m` that lacked a channel, timetoken or payload were left out (the
    /// rest of the answer, cursor included, still counts, so a retry does not fetch them again).
    pub skipped: Vec<Error>,
}

/// Decodes a subscribe (handshake or receive) answer.
pub fn subscribe(response: &Response) -> Result<SubscribeBody, Error> {
    subscribe::decode(response)
}

/// Decodes a publish, signal or fire answer into the publish timetoken.
pub fn publish(response: &Response) -> Result<Timetoken, Error> {
    publish::decode(response)
}

/// Decodes a `/time/0` answer.
pub fn time(response: &Response) -> Result<Timetoken, Error> {
    time::decode(response)
}

/// Decodes a here_now answer; `requested` names the channels asked for (the single-channel
/// answer does not repeat its channel's name).
pub fn here_now(response: &Response, requested: &[Channel]) -> Result<HereNow, Error> {
    presence::here_now(response, requested)
}

/// Decodes a where_now answer.
pub fn where_now(response: &Response) -> Result<Vec<Channel>, Error> {
    presence::where_now(response)
}

/// Decodes a get-state answer into per-channel state.
pub fn get_state(
    response: &Response,
    requested: &[Channel],
) -> Result<Vec<(Channel, RawJson)>, Error> {
    presence::get_state(response, requested)
}

/// Decodes a set-state answer into the state the service stored.
pub fn set_state(response: &Response) -> Result<RawJson, Error> {
    presence::set_state(response)
}

/// Decodes an answer that only acknowledges (leave, heartbeat, channel-group changes).
pub fn ack(response: &Response) -> Result<(), Error> {
    ack::decode(response)
}

/// Decodes a list-channels-of-group answer.
pub fn group_channels(response: &Response) -> Result<Vec<Channel>, Error> {
    groups::channels(response)
}

/// Decodes a list-groups answer (`payload.groups`).
pub fn group_names(response: &Response) -> Result<Vec<ChannelGroup>, Error> {
    groups::groups(response)
}
