//! The presence heartbeat engine (protocol.md §6.10, classic form): heartbeats every interval
//! while subscribed, retried per policy after failures, with the Gherkin vocabulary for the
//! transcript. Pure: the core carries the invocations out.

use std::time::Duration;

use crate::error::Error;
use crate::retry::RetryPolicy;
use crate::rng::Rng;
use crate::transcript::Transcript;
use crate::transition;

/// Where the heartbeat loop is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Nothing to heartbeat for.
    Inactive,
    /// A heartbeat is in flight.
    Heartbeating,
    /// Waiting for the interval to pass.
    Cooldown,
    /// A heartbeat failed; waiting `delay`, then retrying.
    Reconnecting {
        /// 1 for the first retry.
        attempt: u32,
        /// The wait, or `None` to give up.
        delay: Option<Duration>,
    },
    /// The user disconnected.
    Stopped,
    /// Heartbeats failed for good until the subscription changes or reconnects.
    Failed,
}

/// What happens to the heartbeat loop.
#[derive(Debug)]
pub enum Input {
    /// Names were added to the subscription.
    Joined,
    /// Some names were removed; `remaining` tells whether any are left.
    Left {
        /// Whether names remain subscribed.
        remaining: bool,
        /// Whether a leave is to be sent.
        send_leave: bool,
    },
    /// A heartbeat succeeded.
    HeartbeatSuccess,
    /// A heartbeat failed.
    HeartbeatFailure(Error),
    /// The retry effect gave up.
    GiveUp,
    /// The interval passed.
    TimesUp,
    /// The user disconnected.
    Disconnect,
    /// The user reconnected.
    Reconnect,
}

/// An effect for the core to carry out.
#[derive(Debug, PartialEq, Eq)]
pub enum Invocation {
    /// Send a heartbeat now.
    Heartbeat,
    /// Wait the interval, then `TimesUp`.
    Wait,
    /// Stop waiting.
    CancelWait,
    /// Wait the retry delay, then heartbeat (or give up).
    DelayedHeartbeat,
    /// Stop the delayed heartbeat.
    CancelDelayedHeartbeat,
    /// Send a leave for the removed names.
    Leave,
}

impl Invocation {
    fn name(&self) -> &'static str {
        match self {
            Invocation::Heartbeat => "HEARTBEAT",
            Invocation::Wait => "WAIT",
            Invocation::CancelWait => "CANCEL_WAIT",
            Invocation::DelayedHeartbeat => "DELAYED_HEARTBEAT",
            Invocation::CancelDelayedHeartbeat => "CANCEL_DELAYED_HEARTBEAT",
            Invocation::Leave => "LEAVE",
        }
    }
}

fn input_name(input: &Input) -> &'static str {
    match input {
        Input::Joined => "JOINED",
        Input::Left { .. } => "LEFT",
        Input::HeartbeatSuccess => "HEARTBEAT_SUCCESS",
        Input::HeartbeatFailure(_) => "HEARTBEAT_FAILURE",
        Input::GiveUp => "HEARTBEAT_GIVEUP",
        Input::TimesUp => "TIMES_UP",
        Input::Disconnect => "DISCONNECT",
        Input::Reconnect => "RECONNECT",
    }
}

/// The heartbeat engine.
#[derive(Debug)]
pub struct Machine {
    state: State,
}

impl Default for Machine {
    fn default() -> Self {
        Machine {
            state: State::Inactive,
        }
    }
}

fn exit(state: &State) -> Option<Invocation> {
    match state {
        State::Cooldown => Some(Invocation::CancelWait),
        State::Reconnecting { .. } => Some(Invocation::CancelDelayedHeartbeat),
        _ => None,
    }
}

fn entry(state: &State) -> Option<Invocation> {
    match state {
        State::Heartbeating => Some(Invocation::Heartbeat),
        State::Cooldown => Some(Invocation::Wait),
        State::Reconnecting { .. } => Some(Invocation::DelayedHeartbeat),
        _ => None,
    }
}

impl Machine {
    /// The current state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Feeds one input; the invocations to carry out, in order.
    pub fn handle(
        &mut self,
        input: Input,
        policy: &RetryPolicy,
        rng: &mut Rng,
        transcript: &mut Transcript,
    ) -> Vec<Invocation> {
        use State::*;
        transcript.event(input_name(&input));
        let mut own = Vec::new();
        let next = match (&self.state, input) {
            (Inactive | Heartbeating | Cooldown | Reconnecting { .. } | Failed, Input::Joined) => {
                Heartbeating
            }
            (
                _,
                Input::Left {
                    remaining,
                    send_leave,
                },
            ) => {
                if send_leave && self.state != Stopped {
                    own.push(Invocation::Leave);
                }
                match (&self.state, remaining) {
                    (Stopped, _) => Stopped,
                    (_, true) => Heartbeating,
                    (_, false) => Inactive,
                }
            }
            (Heartbeating, Input::HeartbeatSuccess)
            | (Reconnecting { .. }, Input::HeartbeatSuccess) => Cooldown,
            (Heartbeating, Input::HeartbeatFailure(e)) => reconnecting(1, &e, policy, rng),
            (Reconnecting { attempt, .. }, Input::HeartbeatFailure(e)) => {
                reconnecting(attempt + 1, &e, policy, rng)
            }
            (Reconnecting { .. }, Input::GiveUp) => Failed,
            (Cooldown, Input::TimesUp) => Heartbeating,
            (Heartbeating | Cooldown | Reconnecting { .. } | Failed, Input::Disconnect) => Stopped,
            (Stopped | Failed, Input::Reconnect) => Heartbeating,
            _ => return Vec::new(),
        };
        let out = transition::invocations(
            exit(&self.state),
            own,
            entry(&next),
            Invocation::name,
            transcript,
        );
        self.state = next;
        out
    }

    /// The wait of the reconnecting state, if retrying.
    pub fn retry_delay(&self) -> Option<Duration> {
        match self.state {
            State::Reconnecting { delay, .. } => delay,
            _ => None,
        }
    }
}

fn reconnecting(attempt: u32, e: &Error, policy: &RetryPolicy, rng: &mut Rng) -> State {
    let delay = if e.is_retriable() {
        policy.delay(attempt, None, rng)
    } else {
        None
    };
    State::Reconnecting { attempt, delay }
}
