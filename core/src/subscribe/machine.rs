//! The subscribe event engine: states, the events that move between them, and the invocations
//! (effects) each transition asks for. Pure: the core carries the invocations out.
//!
//! It follows the "classic" engine of protocol.md §6.8 (reconnecting states inside the machine),
//! whose event and invocation names the transcript uses: on every transition the exit
//! invocations of the old state come first, then the transition's own, then the entry
//! invocations of the new state, even when old and new are the same state.

use std::time::Duration;

use crate::error::Error;
use crate::event::Message;
use crate::retry::RetryPolicy;
use crate::rng::Rng;
use crate::status::{Category, Recovery};
use crate::timetoken::{Cursor, Timetoken};
use crate::transcript::Transcript;
use crate::transition;

/// Where the subscription is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Nothing subscribed.
    Unsubscribed,
    /// The handshake (`tt=0`) is in flight.
    Handshaking,
    /// The handshake failed; waiting to retry, then retrying.
    HandshakeReconnecting(Retry),
    /// The user disconnected before the handshake succeeded.
    HandshakeStopped,
    /// The handshake failed for good.
    HandshakeFailed(Error),
    /// A receive long-poll is in flight.
    Receiving,
    /// A receive failed; waiting to retry, then retrying.
    ReceiveReconnecting(Retry),
    /// The user disconnected while receiving.
    ReceiveStopped,
    /// Receiving failed for good.
    ReceiveFailed(Error),
}

/// The retry in progress in a reconnecting state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retry {
    /// 1 for the first retry.
    pub attempt: u32,
    /// The wait before it, or `None` when the policy gives up (or the error is final).
    pub delay: Option<Duration>,
    /// The failure that caused it.
    pub reason: Error,
}

/// What happens to the subscription.
#[derive(Debug)]
pub enum Input {
    /// The channel or group set changed.
    SubscriptionChanged,
    /// The set changed and the user asked to catch up from a timetoken.
    SubscriptionRestored(Timetoken),
    /// A handshake (or handshake retry) succeeded.
    HandshakeSuccess(Cursor, Vec<Message>),
    /// A handshake (or handshake retry) failed.
    HandshakeFailure(Error),
    /// A receive (or receive retry) succeeded.
    ReceiveSuccess(Cursor, Vec<Message>),
    /// A receive (or receive retry) failed.
    ReceiveFailure(Error),
    /// The reconnect effect gave up.
    GiveUp,
    /// The user disconnected.
    Disconnect,
    /// The user asked to reconnect, optionally from a timetoken.
    Reconnect(Option<Timetoken>),
    /// Everything was unsubscribed.
    UnsubscribeAll,
}

/// An effect for the core to carry out.
#[derive(Debug)]
pub enum Invocation {
    /// Send the handshake.
    Handshake,
    /// Abort the handshake.
    CancelHandshake,
    /// Wait the state's delay, then send the handshake again (or give up).
    HandshakeReconnect,
    /// Abort the handshake retry (its timer or its request).
    CancelHandshakeReconnect,
    /// Send a receive long-poll from the cursor.
    ReceiveMessages,
    /// Abort the receive long-poll.
    CancelReceiveMessages,
    /// Wait the state's delay, then send the receive again (or give up).
    ReceiveReconnect,
    /// Abort the receive retry (its timer or its request).
    CancelReceiveReconnect,
    /// Tell the user about a status change.
    EmitStatus(Category, Option<Error>, Recovery),
    /// Deliver events to the user.
    EmitMessages(Vec<Message>),
}

impl Invocation {
    /// The invocation's name in the event-engine vocabulary.
    pub fn name(&self) -> &'static str {
        match self {
            Invocation::Handshake => "HANDSHAKE",
            Invocation::CancelHandshake => "CANCEL_HANDSHAKE",
            Invocation::HandshakeReconnect => "HANDSHAKE_RECONNECT",
            Invocation::CancelHandshakeReconnect => "CANCEL_HANDSHAKE_RECONNECT",
            Invocation::ReceiveMessages => "RECEIVE_MESSAGES",
            Invocation::CancelReceiveMessages => "CANCEL_RECEIVE_MESSAGES",
            Invocation::ReceiveReconnect => "RECEIVE_RECONNECT",
            Invocation::CancelReceiveReconnect => "CANCEL_RECEIVE_RECONNECT",
            Invocation::EmitStatus(..) => "EMIT_STATUS",
            Invocation::EmitMessages(_) => "EMIT_MESSAGES",
        }
    }
}

/// The subscribe engine: its state and cursor.
#[derive(Debug)]
pub struct Machine {
    state: State,
    cursor: Cursor,
    /// A timetoken to keep (instead of the handshake's) once the next handshake succeeds.
    catch_up: Option<Timetoken>,
    /// Whether the subscription has been connected since the last unsubscribe-all.
    connected_before: bool,
}

impl Default for Machine {
    fn default() -> Self {
        Machine {
            state: State::Unsubscribed,
            cursor: Cursor::START,
            catch_up: None,
            connected_before: false,
        }
    }
}

fn retry(attempt: u32, reason: Error, policy: &RetryPolicy, rng: &mut Rng) -> Retry {
    let retry_after = match &reason {
        Error::Api { retry_after, .. } => *retry_after,
        _ => None,
    };
    let delay = if reason.is_retriable() {
        policy.delay(attempt, retry_after, rng)
    } else {
        None
    };
    Retry {
        attempt,
        delay,
        reason,
    }
}

fn gave_up_category(reason: &Error, receiving: bool) -> Category {
    match reason.category() {
        c @ (Category::AccessDenied | Category::BadRequest) => c,
        _ if receiving => Category::UnexpectedDisconnect,
        c => c,
    }
}

impl Machine {
    /// The current state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The cursor the next receive resumes from.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// Feeds one input; the invocations to carry out, in order.
    pub fn handle(
        &mut self,
        input: Input,
        policy: &RetryPolicy,
        rng: &mut Rng,
        transcript: &mut Transcript,
    ) -> Vec<Invocation> {
        transcript.event(input_name(&self.state, &input));
        let mut extra = Vec::new();
        let next = self.transition(input, policy, rng, &mut extra);
        let Some(next) = next else {
            return Vec::new();
        };
        let out = transition::invocations(
            exit_invocations(&self.state),
            extra,
            entry_invocations(&next),
            Invocation::name,
            transcript,
        );
        self.state = next;
        out
    }

    fn transition(
        &mut self,
        input: Input,
        policy: &RetryPolicy,
        rng: &mut Rng,
        extra: &mut Vec<Invocation>,
    ) -> Option<State> {
        use State::*;
        let status = |c, e, r| Invocation::EmitStatus(c, e, r);
        Some(match (&self.state, input) {
            (_, Input::UnsubscribeAll) => {
                self.cursor = Cursor::START;
                self.catch_up = None;
                self.connected_before = false;
                if self.state != Unsubscribed {
                    extra.push(status(Category::Disconnected, None, Recovery::None));
                }
                Unsubscribed
            }
            (Unsubscribed | Handshaking | HandshakeReconnecting(_), Input::SubscriptionChanged) => {
                Handshaking
            }
            (HandshakeFailed(_) | ReceiveFailed(_), Input::SubscriptionChanged) => {
                self.keep_cursor_through_handshake();
                Handshaking
            }
            (HandshakeStopped | ReceiveStopped, Input::SubscriptionChanged) => self.state.clone(),
            (Receiving | ReceiveReconnecting(_), Input::SubscriptionChanged) => {
                extra.push(status(Category::SubscriptionChanged, None, Recovery::None));
                Receiving
            }
            (HandshakeStopped | ReceiveStopped, Input::SubscriptionRestored(tt)) => {
                self.cursor = Cursor::at(tt);
                self.state.clone()
            }
            (Receiving | ReceiveReconnecting(_), Input::SubscriptionRestored(tt)) => {
                self.cursor = Cursor {
                    timetoken: tt,
                    region: self.cursor.region,
                };
                extra.push(status(Category::SubscriptionChanged, None, Recovery::None));
                Receiving
            }
            (_, Input::SubscriptionRestored(tt)) => {
                self.catch_up = Some(tt);
                Handshaking
            }
            (Handshaking | HandshakeReconnecting(_), Input::HandshakeSuccess(cursor, messages)) => {
                self.cursor = cursor;
                if let Some(tt) = self.catch_up.take() {
                    self.cursor.timetoken = tt;
                }
                let category = if self.connected_before {
                    Category::Reconnected
                } else {
                    Category::Connected
                };
                self.connected_before = true;
                extra.push(status(category, None, Recovery::None));
                if !messages.is_empty() {
                    extra.push(Invocation::EmitMessages(messages));
                }
                Receiving
            }
            (Handshaking, Input::HandshakeFailure(e)) => {
                HandshakeReconnecting(retry(1, e, policy, rng))
            }
            (HandshakeReconnecting(r), Input::HandshakeFailure(e)) => {
                HandshakeReconnecting(retry(r.attempt + 1, e, policy, rng))
            }
            (HandshakeReconnecting(r), Input::GiveUp) => {
                let reason = r.reason.clone();
                extra.push(status(
                    gave_up_category(&reason, false),
                    Some(reason.clone()),
                    Recovery::GaveUp,
                ));
                HandshakeFailed(reason)
            }
            (Receiving, Input::ReceiveSuccess(cursor, messages)) => {
                self.cursor = cursor;
                if !messages.is_empty() {
                    extra.push(Invocation::EmitMessages(messages));
                }
                Receiving
            }
            (ReceiveReconnecting(_), Input::ReceiveSuccess(cursor, messages)) => {
                self.cursor = cursor;
                if !messages.is_empty() {
                    extra.push(Invocation::EmitMessages(messages));
                }
                extra.push(status(Category::Reconnected, None, Recovery::None));
                Receiving
            }
            (Receiving, Input::ReceiveFailure(e)) => {
                let r = retry(1, e, policy, rng);
                if let Some(delay) = r.delay {
                    extra.push(status(
                        Category::UnexpectedDisconnect,
                        Some(r.reason.clone()),
                        Recovery::Retrying { attempt: 1, delay },
                    ));
                }
                ReceiveReconnecting(r)
            }
            (ReceiveReconnecting(r), Input::ReceiveFailure(e)) => {
                ReceiveReconnecting(retry(r.attempt + 1, e, policy, rng))
            }
            (ReceiveReconnecting(r), Input::GiveUp) => {
                let reason = r.reason.clone();
                extra.push(status(
                    gave_up_category(&reason, true),
                    Some(reason.clone()),
                    Recovery::GaveUp,
                ));
                ReceiveFailed(reason)
            }
            (Handshaking | HandshakeReconnecting(_), Input::Disconnect) => {
                extra.push(status(Category::Disconnected, None, Recovery::None));
                HandshakeStopped
            }
            (Receiving | ReceiveReconnecting(_), Input::Disconnect) => {
                extra.push(status(Category::Disconnected, None, Recovery::None));
                ReceiveStopped
            }
            (
                HandshakeStopped | HandshakeFailed(_) | ReceiveStopped | ReceiveFailed(_),
                Input::Reconnect(tt),
            ) => {
                match tt {
                    Some(tt) => self.catch_up = Some(tt),
                    None => self.keep_cursor_through_handshake(),
                }
                Handshaking
            }
            _ => return None,
        })
    }

    fn keep_cursor_through_handshake(&mut self) {
        if !self.cursor.is_start() && self.catch_up.is_none() {
            self.catch_up = Some(self.cursor.timetoken);
        }
    }
}

fn exit_invocations(state: &State) -> Vec<Invocation> {
    match state {
        State::Handshaking => vec![Invocation::CancelHandshake],
        State::HandshakeReconnecting(_) => vec![Invocation::CancelHandshakeReconnect],
        State::Receiving => vec![Invocation::CancelReceiveMessages],
        State::ReceiveReconnecting(_) => vec![Invocation::CancelReceiveReconnect],
        _ => Vec::new(),
    }
}

fn entry_invocations(state: &State) -> Vec<Invocation> {
    match state {
        State::Handshaking => vec![Invocation::Handshake],
        State::HandshakeReconnecting(_) => vec![Invocation::HandshakeReconnect],
        State::Receiving => vec![Invocation::ReceiveMessages],
        State::ReceiveReconnecting(_) => vec![Invocation::ReceiveReconnect],
        _ => Vec::new(),
    }
}

/// The event's name; results that arrive in a reconnecting state get the `*_RECONNECT_*` names.
fn input_name(state: &State, input: &Input) -> &'static str {
    let handshake_retry = matches!(state, State::HandshakeReconnecting(_));
    let receive_retry = matches!(state, State::ReceiveReconnecting(_));
    match input {
        Input::SubscriptionChanged => "SUBSCRIPTION_CHANGED",
        Input::SubscriptionRestored(_) => "SUBSCRIPTION_RESTORED",
        Input::HandshakeSuccess(..) if handshake_retry => "HANDSHAKE_RECONNECT_SUCCESS",
        Input::HandshakeSuccess(..) => "HANDSHAKE_SUCCESS",
        Input::HandshakeFailure(_) if handshake_retry => "HANDSHAKE_RECONNECT_FAILURE",
        Input::HandshakeFailure(_) => "HANDSHAKE_FAILURE",
        Input::ReceiveSuccess(..) if receive_retry => "RECEIVE_RECONNECT_SUCCESS",
        Input::ReceiveSuccess(..) => "RECEIVE_SUCCESS",
        Input::ReceiveFailure(_) if receive_retry => "RECEIVE_RECONNECT_FAILURE",
        Input::ReceiveFailure(_) => "RECEIVE_FAILURE",
        Input::GiveUp if receive_retry => "RECEIVE_RECONNECT_GIVEUP",
        Input::GiveUp => "HANDSHAKE_RECONNECT_GIVEUP",
        Input::Disconnect => "DISCONNECT",
        Input::Reconnect(_) => "RECONNECT",
        Input::UnsubscribeAll => "UNSUBSCRIBE_ALL",
    }
}
