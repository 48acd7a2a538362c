//! Model-based property tests (proptest-state-machine): a reference model of the subscription —
//! subscribed channels and groups (presence names included), the engine's phase, the expected
//! cursor, whether a long-poll should be in flight, the messages a fake server holds and those
//! the user must have received — checked step by step against the real [`Core`] paired with a
//! small sans-IO fake server on virtual time.
//!
//! The fake server keeps a log of published messages (increasing timetokens), answers a
//! handshake with its latest timetoken and a receive with the messages after the request's `tt`
//! on the requested channels and groups (at most [`PAGE`] at a time, like the service's own
//! cap), reads everything from the request's path and query, and can be told to fail the
//! in-flight long-poll (500, 429 with `Retry-After`, a lost connection; a stuck one times out
//! when time advances) or to change region and re-deliver the last message before the cursor.
//!
//! Checked after every step:
//! - the core's subscribed names equal the model's;
//! - at most one long-poll is in flight (sends and cancels in the order the core emits them),
//!   and one is in flight exactly when the model says so, asking for what the model expects
//!   (names, `tt`, `tr`);
//! - the cursor equals the model's;
//! - the messages delivered are exactly the model's, in order: no duplicate even after a
//!   re-delivery, timetokens increasing per channel;
//! - every message published to a subscribed channel while the subscription had a cursor (and
//!   not lost to an unsubscribe or unsubscribe-all window) has been delivered once the cursor
//!   has passed it;
//! - the statuses follow the model (`Connected` once per session, `UnexpectedDisconnect` then
//!   `Reconnected` around failures, `Disconnected` on disconnect and unsubscribe-all);
//! - nothing is left waiting on the clock when no long-poll is running or scheduled.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use pn_core::{
    Category, Channel, ChannelGroup, Cursor, Event, Recovery, Region, Request, RequestId,
    RequestKind, Response, RetryPolicy, Subscribe, Timetoken, TransportAction, TransportErrorKind,
};
use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use support::{Harness, config, decoded_names, decoded_param, path_segments};

/// Channels one can subscribe to directly.
const CHANNELS: [&str; 3] = ["a", "b", "c"];
/// Channel groups and their (fixed) member channels.
const GROUPS: [(&str, &str); 2] = [("g1", "x"), ("g2", "y")];
/// Every channel the server publishes to.
const PUBLISHED: [&str; 5] = ["a", "b", "c", "x", "y"];
/// Most messages in one receive answer; a longer backlog takes several long-polls.
const PAGE: usize = 3;
/// Retries before the subscription gives up.
const MAX_RETRIES: u32 = 2;
/// The server's first timetoken.
const FIRST_TT: u64 = 17_000_000_000_000_000;

/// Names one can unsubscribe from: the channels and their presence names.
fn channel_names() -> Vec<String> {
    CHANNELS
        .iter()
        .flat_map(|c| [c.to_string(), format!("{c}-pnpres")])
        .collect()
}

fn group_names() -> Vec<String> {
    GROUPS
        .iter()
        .flat_map(|(g, _)| [g.to_string(), format!("{g}-pnpres")])
        .collect()
}

/// What the fake server does to the in-flight long-poll instead of answering it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    Status500,
    TooMany,
    ConnectionLost,
}

#[derive(Clone, Debug)]
enum Transition {
    Subscribe {
        channels: Vec<usize>,
        groups: Vec<usize>,
        presence: bool,
    },
    /// Indices into [`channel_names`] and [`group_names`].
    Unsubscribe {
        channels: Vec<usize>,
        groups: Vec<usize>,
    },
    UnsubscribeAll,
    Disconnect,
    Reconnect,
    /// The server logs a message on `PUBLISHED[i]`.
    Publish(usize),
    /// The server answers the in-flight long-poll.
    Answer,
    /// The server fails the in-flight long-poll.
    Fail(Failure),
    /// The server switches region; its next receive answer re-delivers an old message.
    RegionChange,
    /// Virtual time jumps to the core's next deadline.
    Advance,
}

/// Where the subscription is. `attempt` counts retries (0: not retrying); `waiting`: a retry
/// timer runs and no request is in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Handshake { attempt: u32, waiting: bool },
    Receive { attempt: u32, waiting: bool },
    HandshakeStopped,
    ReceiveStopped,
    HandshakeFailed,
    ReceiveFailed,
}

/// One message in the server's log.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Logged {
    channel: &'static str,
    tt: u64,
    n: u64,
}

/// The reference model: the subscription as the user should see it, and the fake server.
#[derive(Clone, Debug)]
struct Model {
    channels: BTreeSet<String>,
    groups: BTreeSet<String>,
    phase: Phase,
    /// `(tt, region)`; `(0, None)` before the first handshake.
    cursor: (u64, Option<u32>),
    /// The cursor timetoken a pending handshake keeps instead of the server's.
    catch_up: Option<u64>,
    connected_before: bool,
    // the server
    log: Vec<Logged>,
    server_tt: u64,
    region: u32,
    redeliver: bool,
    // expectations
    delivered: Vec<(String, u64)>,
    /// Messages the user must get once the cursor passes them.
    required: BTreeSet<(String, u64)>,
    statuses: Vec<Category>,
}

impl Model {
    fn new() -> Model {
        Model {
            channels: BTreeSet::new(),
            groups: BTreeSet::new(),
            phase: Phase::Idle,
            cursor: (0, None),
            catch_up: None,
            connected_before: false,
            log: Vec::new(),
            server_tt: FIRST_TT,
            region: 1,
            redeliver: false,
            delivered: Vec::new(),
            required: BTreeSet::new(),
            statuses: Vec::new(),
        }
    }

    fn in_flight(&self) -> bool {
        matches!(
            self.phase,
            Phase::Handshake { waiting: false, .. } | Phase::Receive { waiting: false, .. }
        )
    }

    /// Whether messages on `channel` reach this subscription (directly or through a group).
    fn receives(&self, channel: &str) -> bool {
        self.channels.contains(channel)
            || GROUPS
                .iter()
                .any(|(g, member)| *member == channel && self.groups.contains(*g))
    }

    fn keep_cursor_through_handshake(&mut self) {
        if self.cursor.0 != 0 && self.catch_up.is_none() {
            self.catch_up = Some(self.cursor.0);
        }
    }

    /// The set changed (and is not empty).
    fn subscription_changed(&mut self) {
        self.phase = match self.phase {
            Phase::Idle | Phase::Handshake { .. } => Phase::Handshake {
                attempt: 0,
                waiting: false,
            },
            Phase::HandshakeFailed | Phase::ReceiveFailed => {
                self.keep_cursor_through_handshake();
                Phase::Handshake {
                    attempt: 0,
                    waiting: false,
                }
            }
            p @ (Phase::HandshakeStopped | Phase::ReceiveStopped) => p,
            Phase::Receive { .. } => {
                self.statuses.push(Category::SubscriptionChanged);
                Phase::Receive {
                    attempt: 0,
                    waiting: false,
                }
            }
        };
    }

    fn unsubscribe_all(&mut self) {
        self.channels.clear();
        self.groups.clear();
        self.cursor = (0, None);
        self.catch_up = None;
        self.connected_before = false;
        self.required.clear();
        if self.phase != Phase::Idle {
            self.statuses.push(Category::Disconnected);
        }
        self.phase = Phase::Idle;
    }

    /// The messages a receive from `tt` gets on the current names, and its next timetoken.
    fn page(&self, tt: u64) -> (Vec<Logged>, u64) {
        let mut newer: Vec<Logged> = self
            .log
            .iter()
            .filter(|m| m.tt > tt && self.receives(m.channel))
            .cloned()
            .collect();
        let next = if newer.len() > PAGE {
            newer.truncate(PAGE);
            newer[PAGE - 1].tt
        } else {
            self.server_tt
        };
        if self.redeliver
            && let Some(old) = self
                .log
                .iter()
                .rev()
                .find(|m| m.tt <= tt && self.receives(m.channel))
        {
            newer.insert(0, old.clone());
        }
        (newer, next)
    }

    fn deliver(&mut self, messages: Vec<Logged>) {
        for m in messages {
            let key = (m.channel.to_string(), m.tt);
            if !self.delivered.contains(&key) {
                self.delivered.push(key);
            }
        }
    }

    fn fail(&mut self, category: Category) {
        let (attempt, handshake) = match self.phase {
            Phase::Handshake { attempt, .. } => (attempt, true),
            Phase::Receive { attempt, .. } => (attempt, false),
            _ => unreachable!("no long-poll to fail"),
        };
        let next = attempt + 1;
        let retry = next <= MAX_RETRIES;
        self.phase = match (handshake, retry) {
            (true, true) => Phase::Handshake {
                attempt: next,
                waiting: true,
            },
            (true, false) => {
                self.statuses.push(category);
                Phase::HandshakeFailed
            }
            (false, true) => {
                if attempt == 0 {
                    self.statuses.push(Category::UnexpectedDisconnect);
                }
                Phase::Receive {
                    attempt: next,
                    waiting: true,
                }
            }
            (false, false) => {
                self.statuses.push(Category::UnexpectedDisconnect);
                Phase::ReceiveFailed
            }
        };
    }
}

fn indices(n: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0..n, 0..=2)
}

impl ReferenceStateMachine for Model {
    type State = Model;
    type Transition = Transition;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model::new()).boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Transition> {
        let commands = prop_oneof![
            3 => (indices(CHANNELS.len()), indices(GROUPS.len()), prop::bool::weighted(0.3))
                .prop_map(|(channels, groups, presence)| Transition::Subscribe {
                    channels, groups, presence
                }),
            2 => (indices(2 * CHANNELS.len()), indices(2 * GROUPS.len()))
                .prop_map(|(channels, groups)| Transition::Unsubscribe { channels, groups }),
            1 => Just(Transition::UnsubscribeAll),
            1 => Just(Transition::Disconnect),
            1 => Just(Transition::Reconnect),
            5 => (0..PUBLISHED.len()).prop_map(Transition::Publish),
            1 => Just(Transition::RegionChange),
            2 => Just(Transition::Advance),
        ];
        if !state.in_flight() {
            return commands.boxed();
        }
        // The server's side of the long-poll in flight.
        prop_oneof![
            16 => commands,
            6 => Just(Transition::Answer),
            2 => prop_oneof![
                Just(Failure::Status500),
                Just(Failure::TooMany),
                Just(Failure::ConnectionLost)
            ].prop_map(Transition::Fail),
        ]
        .boxed()
    }

    fn preconditions(state: &Model, t: &Transition) -> bool {
        match t {
            Transition::Answer | Transition::Fail(_) => state.in_flight(),
            _ => true,
        }
    }

    fn apply(mut s: Model, t: &Transition) -> Model {
        match t {
            Transition::Subscribe {
                channels,
                groups,
                presence,
            } => {
                if channels.is_empty() && groups.is_empty() {
                    return s; // a typed error, nothing changes
                }
                let before = (s.channels.len(), s.groups.len());
                for &c in channels {
                    s.channels.insert(CHANNELS[c].to_string());
                    if *presence {
                        s.channels.insert(format!("{}-pnpres", CHANNELS[c]));
                    }
                }
                for &g in groups {
                    s.groups.insert(GROUPS[g].0.to_string());
                    if *presence {
                        s.groups.insert(format!("{}-pnpres", GROUPS[g].0));
                    }
                }
                if (s.channels.len(), s.groups.len()) != before {
                    s.subscription_changed();
                }
            }
            Transition::Unsubscribe { channels, groups } => {
                if channels.is_empty() && groups.is_empty() {
                    return s;
                }
                let before = s.channels.len() + s.groups.len();
                for &c in channels {
                    let name = &channel_names()[c];
                    s.channels.remove(name);
                    s.channels.remove(&format!("{name}-pnpres"));
                }
                for &g in groups {
                    let name = &group_names()[g];
                    s.groups.remove(name);
                    s.groups.remove(&format!("{name}-pnpres"));
                }
                if s.channels.len() + s.groups.len() == before {
                    return s;
                }
                if s.channels.is_empty() && s.groups.is_empty() {
                    s.unsubscribe_all();
                } else {
                    let still: Vec<(String, u64)> = s
                        .required
                        .iter()
                        .filter(|(c, _)| s.receives(c))
                        .cloned()
                        .collect();
                    s.required = still.into_iter().collect();
                    s.subscription_changed();
                }
            }
            Transition::UnsubscribeAll => s.unsubscribe_all(),
            Transition::Disconnect => match s.phase {
                Phase::Handshake { .. } => {
                    s.statuses.push(Category::Disconnected);
                    s.phase = Phase::HandshakeStopped;
                }
                Phase::Receive { .. } => {
                    s.statuses.push(Category::Disconnected);
                    s.phase = Phase::ReceiveStopped;
                }
                _ => {}
            },
            Transition::Reconnect => {
                if matches!(
                    s.phase,
                    Phase::HandshakeStopped
                        | Phase::ReceiveStopped
                        | Phase::HandshakeFailed
                        | Phase::ReceiveFailed
                ) {
                    s.keep_cursor_through_handshake();
                    s.phase = Phase::Handshake {
                        attempt: 0,
                        waiting: false,
                    };
                }
            }
            Transition::Publish(i) => {
                s.server_tt += 1 + *i as u64;
                let m = Logged {
                    channel: PUBLISHED[*i],
                    tt: s.server_tt,
                    n: s.log.len() as u64,
                };
                if s.cursor.0 != 0 && s.receives(m.channel) {
                    s.required.insert((m.channel.to_string(), m.tt));
                }
                s.log.push(m);
            }
            Transition::Answer => match s.phase {
                Phase::Handshake { .. } => {
                    s.cursor = (s.catch_up.take().unwrap_or(s.server_tt), Some(s.region));
                    s.statuses.push(if s.connected_before {
                        Category::Reconnected
                    } else {
                        Category::Connected
                    });
                    s.connected_before = true;
                    s.phase = Phase::Receive {
                        attempt: 0,
                        waiting: false,
                    };
                }
                Phase::Receive { attempt, .. } => {
                    let (messages, next) = s.page(s.cursor.0);
                    s.redeliver = false;
                    s.cursor = (next, Some(s.region));
                    s.deliver(messages);
                    if attempt > 0 {
                        s.statuses.push(Category::Reconnected);
                    }
                    s.phase = Phase::Receive {
                        attempt: 0,
                        waiting: false,
                    };
                }
                _ => unreachable!("precondition: a long-poll is in flight"),
            },
            Transition::Fail(f) => s.fail(match f {
                Failure::Status500 | Failure::TooMany => Category::Unknown,
                Failure::ConnectionLost => Category::NetworkIssues,
            }),
            Transition::RegionChange => {
                s.region += 1;
                s.redeliver = true;
            }
            Transition::Advance => match s.phase {
                Phase::Handshake {
                    attempt,
                    waiting: true,
                } => {
                    s.phase = Phase::Handshake {
                        attempt,
                        waiting: false,
                    }
                }
                Phase::Receive {
                    attempt,
                    waiting: true,
                } => {
                    s.phase = Phase::Receive {
                        attempt,
                        waiting: false,
                    }
                }
                // The long-poll in flight is never answered: the core's watchdog fires.
                Phase::Handshake { .. } | Phase::Receive { .. } => s.fail(Category::Timeout),
                _ => {}
            },
        }
        s
    }
}

// ----- the system under test: the real core and a fake server -----

/// A sans-IO fake PubNub server: a message log, answers computed from the request alone.
#[derive(Debug)]
struct FakeServer {
    log: Vec<Logged>,
    tt: u64,
    region: u32,
    redeliver: bool,
}

fn envelope(m: &Logged, region: u32, group: Option<&str>) -> String {
    let b = group.map(|g| format!(r#","b":"{g}""#)).unwrap_or_default();
    format!(
        r#"{{"a":"1","f":0,"i":"pub-user","s":1,"p":{{"t":"{}","r":{region}}},"k":"sub","c":"{}"{b},"d":{{"n":{}}}}}"#,
        m.tt, m.channel, m.n
    )
}

impl FakeServer {
    /// The answer to subscribe request `r`, from its path and query only.
    fn answer(&mut self, r: &Request) -> Response {
        let segments = path_segments(r);
        assert_eq!(&segments[..3], ["v2", "subscribe", "sub"], "{r:?}");
        assert_eq!(segments[4], "0");
        let channels = decoded_names(segments[3]);
        let groups = decoded_param(r, "channel-group")
            .map(|g| decoded_names(&g))
            .unwrap_or_default();
        let tt: u64 = decoded_param(r, "tt").unwrap().parse().unwrap();
        if tt == 0 {
            return self.body(self.tt, &[]);
        }
        // Through which name (None: directly) a channel's messages reach this request.
        let route = |channel: &str| -> Option<Option<&str>> {
            if channels.iter().any(|c| c == channel) {
                return Some(None);
            }
            GROUPS
                .iter()
                .find(|(g, member)| *member == channel && groups.iter().any(|x| x == g))
                .map(|(g, _)| Some(*g))
        };
        let mut page: Vec<String> = Vec::new();
        if std::mem::take(&mut self.redeliver)
            && let Some(old) = self
                .log
                .iter()
                .rev()
                .find(|m| m.tt <= tt && route(m.channel).is_some())
        {
            page.push(envelope(old, self.region, route(old.channel).unwrap()));
        }
        let newer: Vec<&Logged> = self
            .log
            .iter()
            .filter(|m| m.tt > tt && route(m.channel).is_some())
            .collect();
        let next = if newer.len() > PAGE {
            newer[PAGE - 1].tt
        } else {
            self.tt
        };
        for m in newer.into_iter().take(PAGE) {
            page.push(envelope(m, self.region, route(m.channel).unwrap()));
        }
        self.body(next, &page)
    }

    fn body(&self, tt: u64, envelopes: &[String]) -> Response {
        Response::new(
            200,
            format!(
                r#"{{"t":{{"t":"{tt}","r":{}}},"m":[{}]}}"#,
                self.region,
                envelopes.join(",")
            ),
        )
    }
}

struct Sut {
    h: Harness,
    server: FakeServer,
    /// The long-poll in flight, as the transport sees it.
    long_poll: Option<Request>,
    delivered: Vec<(String, u64)>,
    /// The model's phase before the step being applied.
    phase: Phase,
    /// Each status's category and whether it says the core gave up.
    statuses: Vec<(Category, bool)>,
}

impl Sut {
    /// Carries out every transport action (answering leaves at once) and collects the events.
    fn drain(&mut self) {
        loop {
            let mut leaves = Vec::new();
            while let Some(action) = self.h.core.poll_transmit() {
                match action {
                    TransportAction::Send(r) if r.kind == RequestKind::LongPoll => {
                        assert!(
                            self.long_poll.is_none(),
                            "a second long-poll {r:?} while {:?} is in flight",
                            self.long_poll
                        );
                        self.long_poll = Some(r);
                    }
                    TransportAction::Send(r) => {
                        assert!(
                            r.path().starts_with("/v2/presence/") && r.path().ends_with("/leave"),
                            "unexpected request {r:?}"
                        );
                        leaves.push(r.id);
                    }
                    TransportAction::Cancel(id) => {
                        if self.long_poll.as_ref().is_some_and(|r| r.id == id) {
                            self.long_poll = None;
                        }
                    }
                }
            }
            while let Some(e) = self.h.core.poll_event() {
                match e {
                    Event::Message(m) => {
                        self.delivered
                            .push((m.channel.as_str().to_string(), m.timetoken.0));
                    }
                    Event::Status(s) => self
                        .statuses
                        .push((s.category, s.recovery == Recovery::GaveUp)),
                    other => panic!("unexpected event {other:?}"),
                }
            }
            if leaves.is_empty() {
                return;
            }
            for id in leaves {
                let ok = r#"{"status":200,"message":"OK","action":"leave","service":"Presence"}"#;
                self.h.answer(id, Response::new(200, ok));
            }
        }
    }

    fn take_long_poll(&mut self) -> Request {
        self.long_poll
            .take()
            .expect("the model expects a long-poll in flight")
    }

    fn respond(&mut self, id: RequestId, result: Result<Response, TransportErrorKind>) {
        let result = result.map_err(support::transport_error);
        self.h.core.handle_response(id, result, self.h.now);
    }
}

fn channel(name: &str) -> Channel {
    Channel::new(name).unwrap()
}

fn group(name: &str) -> ChannelGroup {
    ChannelGroup::new(name).unwrap()
}

struct CoreTest;

impl StateMachineTest for CoreTest {
    type SystemUnderTest = Sut;
    type Reference = Model;

    fn init_test(_: &Model) -> Sut {
        let mut c = config(RetryPolicy::Linear {
            delay: Duration::from_secs(2),
            max_retries: MAX_RETRIES,
        });
        c.dedupe_cache_size = 10_000;
        Sut {
            h: Harness::new(c),
            server: FakeServer {
                log: Vec::new(),
                tt: FIRST_TT,
                region: 1,
                redeliver: false,
            },
            long_poll: None,
            delivered: Vec::new(),
            phase: Phase::Idle,
            statuses: Vec::new(),
        }
    }

    fn apply(mut sut: Sut, model: &Model, t: Transition) -> Sut {
        let now = sut.h.now;
        let before = std::mem::replace(&mut sut.phase, model.phase);
        match t {
            Transition::Subscribe {
                channels,
                groups,
                presence,
            } => {
                let names: Vec<&str> = channels.iter().map(|&c| CHANNELS[c]).collect();
                let result = Subscribe::channels(names).and_then(|s| {
                    s.groups(groups.iter().map(|&g| GROUPS[g].0))
                        .map(|s| s.with_presence(presence))
                });
                let result = result.and_then(|s| sut.h.core.subscribe(s, now));
                let empty = channels.is_empty() && groups.is_empty();
                assert_eq!(result.is_err(), empty, "{result:?}");
            }
            Transition::Unsubscribe { channels, groups } => {
                let chs: Vec<Channel> = channels
                    .iter()
                    .map(|&c| channel(&channel_names()[c]))
                    .collect();
                let gs: Vec<ChannelGroup> =
                    groups.iter().map(|&g| group(&group_names()[g])).collect();
                let result = sut.h.core.unsubscribe(&chs, &gs, now);
                assert_eq!(result.is_err(), chs.is_empty() && gs.is_empty());
            }
            Transition::UnsubscribeAll => sut.h.core.unsubscribe_all(now),
            Transition::Disconnect => sut.h.core.disconnect(now),
            Transition::Reconnect => sut.h.core.reconnect(None, now),
            Transition::Publish(i) => {
                let last = model.log.last().expect("the model logged it");
                assert_eq!(last.channel, PUBLISHED[i]);
                sut.server.tt = last.tt;
                sut.server.log.push(last.clone());
            }
            Transition::Answer => {
                let r = sut.take_long_poll();
                let response = sut.server.answer(&r);
                sut.respond(r.id, Ok(response));
            }
            Transition::Fail(f) => {
                let r = sut.take_long_poll();
                let result = match f {
                    Failure::Status500 => Ok(Response::new(500, r#"{"error":"boom"}"#)),
                    Failure::TooMany => Ok(Response {
                        status: 429,
                        retry_after: Some("1".into()),
                        body: br#"{"status":429,"error":true,"message":"Too many requests"}"#
                            .to_vec(),
                    }),
                    Failure::ConnectionLost => Err(TransportErrorKind::ConnectionLost),
                };
                sut.respond(r.id, result);
            }
            Transition::RegionChange => {
                sut.server.region += 1;
                sut.server.redeliver = true;
            }
            Transition::Advance => match sut.h.core.poll_timeout() {
                Some(at) => {
                    assert!(
                        matches!(before, Phase::Handshake { .. } | Phase::Receive { .. }),
                        "a deadline {at:?} in phase {before:?}"
                    );
                    sut.h.now = sut.h.now.max(at);
                    sut.h.core.handle_timeout(sut.h.now);
                    if let Some(next) = sut.h.core.poll_timeout() {
                        assert!(next > sut.h.now, "a deadline left in the past");
                    }
                }
                None => assert!(
                    !matches!(before, Phase::Handshake { .. } | Phase::Receive { .. }),
                    "nothing to wait for in phase {before:?}"
                ),
            },
        }
        sut.drain();
        if let Some(r) = &sut.long_poll {
            check_long_poll(r, model);
        }
        sut
    }

    fn check_invariants(sut: &Sut, model: &Model) {
        let channels: BTreeSet<String> = sut
            .h
            .core
            .subscribed_channels()
            .iter()
            .map(|c| c.as_str().to_string())
            .collect();
        let groups: BTreeSet<String> = sut
            .h
            .core
            .subscribed_groups()
            .iter()
            .map(|g| g.as_str().to_string())
            .collect();
        assert_eq!(channels, model.channels, "subscribed channels");
        assert_eq!(groups, model.groups, "subscribed groups");
        assert_eq!(
            sut.long_poll.is_some(),
            model.in_flight(),
            "long-poll in flight in phase {:?}",
            model.phase
        );
        let expected_cursor = Cursor {
            timetoken: Timetoken(model.cursor.0),
            region: model.cursor.1.map(Region),
        };
        assert_eq!(sut.h.core.cursor(), expected_cursor, "cursor");
        assert_eq!(sut.delivered, model.delivered, "delivered messages");
        let mut last: BTreeMap<&str, u64> = BTreeMap::new();
        for (c, tt) in &sut.delivered {
            let prev = last.insert(c, *tt);
            assert!(prev.is_none_or(|p| p < *tt), "{c}: {tt} after {prev:?}");
        }
        for (c, tt) in &model.required {
            if *tt <= model.cursor.0 {
                assert!(
                    sut.delivered.contains(&(c.clone(), *tt)),
                    "message {c}@{tt} was passed by the cursor but never delivered"
                );
            }
        }
        let categories: Vec<Category> = sut.statuses.iter().map(|s| s.0).collect();
        assert_eq!(categories, model.statuses, "statuses");
        check_status_story(&sut.statuses);
    }
}

/// The long-poll asks for the model's names from the model's cursor.
fn check_long_poll(r: &Request, model: &Model) {
    let segments = path_segments(r);
    let channels: Vec<String> = model.channels.iter().cloned().collect();
    assert_eq!(decoded_names(segments[3]), channels, "{r:?}");
    let groups: Vec<String> = model.groups.iter().cloned().collect();
    let sent_groups = decoded_param(r, "channel-group")
        .map(|g| decoded_names(&g))
        .unwrap_or_default();
    assert_eq!(sent_groups, groups, "{r:?}");
    let tt = decoded_param(r, "tt").unwrap();
    let tr = decoded_param(r, "tr");
    match model.phase {
        Phase::Handshake { .. } => {
            assert_eq!(tt, "0", "{r:?}");
            assert_eq!(tr, None);
        }
        Phase::Receive { .. } => {
            assert_eq!(tt, model.cursor.0.to_string(), "{r:?}");
            assert_eq!(tr, model.cursor.1.map(|r| r.to_string()), "{r:?}");
        }
        p => panic!("a long-poll in phase {p:?}"),
    }
}

/// The statuses tell a coherent story on their own: `Connected` at most once between two
/// `Disconnected`; `Reconnected` only after a `Connected`; an `UnexpectedDisconnect` that retries
/// is followed by `Reconnected`, a final `UnexpectedDisconnect` (gave up), `Disconnected` or
/// `SubscriptionChanged` (a fresh long-poll) before any other status.
fn check_status_story(statuses: &[(Category, bool)]) {
    let mut session = false;
    let mut ever = false;
    let mut outage = false;
    for &(category, gave_up) in statuses {
        if outage {
            assert!(
                matches!(
                    category,
                    Category::Reconnected
                        | Category::UnexpectedDisconnect
                        | Category::Disconnected
                        | Category::SubscriptionChanged
                ),
                "{category:?} during an outage: {statuses:?}"
            );
            assert!(
                category != Category::UnexpectedDisconnect || gave_up,
                "two outages at once: {statuses:?}"
            );
            outage = false;
        }
        match category {
            Category::Connected => {
                assert!(!session, "Connected twice in one session: {statuses:?}");
                session = true;
                ever = true;
            }
            Category::Reconnected => assert!(ever, "Reconnected first: {statuses:?}"),
            Category::Disconnected => session = false,
            Category::UnexpectedDisconnect => outage = !gave_up,
            _ => {}
        }
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        max_shrink_iters: 20_000,
        failure_persistence: None,
        .. ProptestConfig::default()
    })]

    #[test]
    fn core_follows_the_subscription_model(sequential 1..40 => CoreTest);
}
