//! Decoders: response bytes in, typed answers or a typed [`Error`] out. Never panics.

use crate::channel::Channel;
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
}

/// Decodes a subscribe (handshake or receive) answer.
pub fn subscribe(response: &Response) -> Result<SubscribeBody, Error> {
    let _ = response;
    todo!("decode helper")
}

/// Decodes a publish, signal or fire answer into the publish timetoken.
pub fn publish(response: &Response) -> Result<Timetoken, Error> {
    let _ = response;
    todo!("decode helper")
}

/// Decodes a `/time/0` answer.
pub fn time(response: &Response) -> Result<Timetoken, Error> {
    let _ = response;
    todo!("decode helper")
}

/// Decodes a here_now answer; `requested` names the channels asked for (the single-channel
/// answer does not repeat its channel's name).
pub fn here_now(response: &Response, requested: &[Channel]) -> Result<HereNow, Error> {
    let _ = (response, requested);
    todo!("decode helper")
}

/// Decodes a where_now answer.
pub fn where_now(response: &Response) -> Result<Vec<Channel>, Error> {
    let _ = response;
    todo!("decode helper")
}

/// Decodes a get-state answer into per-channel state.
pub fn get_state(
    response: &Response,
    requested: &[Channel],
) -> Result<Vec<(Channel, RawJson)>, Error> {
    let _ = (response, requested);
    todo!("decode helper")
}

/// Decodes a set-state answer into the state the service stored.
pub fn set_state(response: &Response) -> Result<RawJson, Error> {
    let _ = response;
    todo!("decode helper")
}

/// Decodes an answer that only acknowledges (leave, heartbeat, channel-group changes).
pub fn ack(response: &Response) -> Result<(), Error> {
    let _ = response;
    todo!("decode helper")
}

/// Decodes a list-channels-of-group answer.
pub fn group_channels(response: &Response) -> Result<Vec<Channel>, Error> {
    let _ = response;
    todo!("decode helper")
}
