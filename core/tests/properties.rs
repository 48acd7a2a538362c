//! Model-based property tests: arbitrary sequences of commands, answers (good, bad and garbled),
//! transport failures and clock jumps, with the core's invariants checked after every step:
//!
//! - it never panics;
//! - at most one subscribe long-poll is in flight, counting sends and cancels in the order the
//!   core emits them (so a new long-poll never starts before the old one is cancelled);
//! - the core's own count of requests in flight agrees with the transport's view;
//! - no message event (channel, timetoken, payload) is delivered twice;
//! - the cursor goes back to `tt=0` only on unsubscribe-all (or an unsubscribe that empties the
//!   set), never silently;
//! - after `handle_timeout(now)` the next deadline is `None` or later than `now`;
//! - every request is percent-encoded exactly once: its names decode back to the names given.
//!
//! Plus: arbitrary Unicode channel and group names survive the trip through a built request.

mod support;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use pn_core::encoding::decode;
use pn_core::{
    Channel, ChannelGroup, Config, Event, HereNowQuery, Publish, ReliablePublish, Request,
    RequestId, RequestKind, Response, RetryPolicy, Subscribe, Timetoken, TransportAction,
    TransportErrorKind,
};
use proptest::prelude::*;
use support::*;

/// Channel names, one with `%` (so `%25` is expected for it only), one with non-ASCII and space.
const CHANNELS: [&str; 4] = ["a", "b", "c ü", "d%x"];
const GROUPS: [&str; 2] = ["g1", "g 2"];
const PAYLOADS: [&str; 3] = ["1", r#""hi""#, r#"{"k":[1,2]}"#];

#[derive(Clone, Debug)]
enum Status {
    Code(u16),
    TooMany(Option<u64>),
}

#[derive(Clone, Debug)]
enum Body {
    Subscribe {
        tt: u64,
        region: u32,
        envelopes: Vec<(usize, u64, usize)>,
    },
    Published,
    Garbage(Vec<u8>),
    InvalidUtf8,
    Empty,
    Truncated(u64, usize),
}

#[derive(Clone, Debug)]
enum Jump {
    Small(u64),
    ToDeadline,
    Huge(u64),
}

#[derive(Clone, Debug)]
enum Step {
    Subscribe {
        channels: Vec<usize>,
        groups: Vec<usize>,
        presence: bool,
        timetoken: Option<u64>,
    },
    Unsubscribe {
        channels: Vec<usize>,
        groups: Vec<usize>,
    },
    UnsubscribeAll,
    Disconnect,
    Reconnect(Option<u64>),
    Publish(usize, usize),
    HereNow,
    Time,
    Respond {
        pick: usize,
        status: Status,
        body: Body,
    },
    Fail {
        pick: usize,
        kind: TransportErrorKind,
    },
    Jump(Jump),
}

fn status() -> impl Strategy<Value = Status> {
    prop_oneof![
        6 => Just(Status::Code(200)),
        1 => prop::sample::select(vec![400u16, 403, 404, 500, 503]).prop_map(Status::Code),
        1 => prop::option::of(0u64..20).prop_map(Status::TooMany),
    ]
}

fn envelope_ref() -> impl Strategy<Value = (usize, u64, usize)> {
    // Few distinct timetokens and payloads, so duplicates of earlier envelopes are common.
    (0..CHANNELS.len(), 1u64..6, 0..PAYLOADS.len())
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        6 => (1u64..1_000_000, 0u32..5, prop::collection::vec(envelope_ref(), 0..=3))
            .prop_map(|(tt, region, envelopes)| Body::Subscribe { tt, region, envelopes }),
        1 => Just(Body::Published),
        1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(Body::Garbage),
        1 => Just(Body::InvalidUtf8),
        1 => Just(Body::Empty),
        1 => (1u64..1_000_000, 0usize..60).prop_map(|(tt, cut)| Body::Truncated(tt, cut)),
    ]
}

fn transport_kind() -> impl Strategy<Value = TransportErrorKind> {
    prop::sample::select(vec![
        TransportErrorKind::Connect,
        TransportErrorKind::Timeout,
        TransportErrorKind::ConnectionLost,
        TransportErrorKind::Tls,
        TransportErrorKind::BodyTooLarge,
        TransportErrorKind::Other,
    ])
}

fn names(n: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0..n, 0..=n)
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (names(CHANNELS.len()), names(GROUPS.len()), any::<bool>(),
              prop::option::weighted(0.2, 1u64..1_000_000))
            .prop_map(|(channels, groups, presence, timetoken)| Step::Subscribe {
                channels, groups, presence, timetoken
            }),
        2 => (names(CHANNELS.len()), names(GROUPS.len()))
            .prop_map(|(channels, groups)| Step::Unsubscribe { channels, groups }),
        1 => Just(Step::UnsubscribeAll),
        1 => Just(Step::Disconnect),
        1 => prop::option::weighted(0.3, 1u64..1_000_000).prop_map(Step::Reconnect),
        2 => (0..CHANNELS.len(), 0..PAYLOADS.len()).prop_map(|(c, p)| Step::Publish(c, p)),
        1 => Just(Step::HereNow),
        1 => Just(Step::Time),
        10 => (any::<usize>(), status(), body())
            .prop_map(|(pick, status, body)| Step::Respond { pick, status, body }),
        2 => (any::<usize>(), transport_kind()).prop_map(|(pick, kind)| Step::Fail { pick, kind }),
        4 => prop_oneof![
            (1u64..5_000).prop_map(Jump::Small),
            Just(Jump::ToDeadline),
            (1u64..3 * 24 * 3600).prop_map(Jump::Huge),
        ].prop_map(Step::Jump),
    ]
}

fn subscribe_json(tt: u64, region: u32, envelopes: &[(usize, u64, usize)]) -> String {
    let envs: Vec<String> = envelopes
        .iter()
        .map(|&(c, t, p)| envelope(CHANNELS[c], t, PAYLOADS[p]))
        .collect();
    format!(
        r#"{{"t":{{"t":"{tt}","r":{region}}},"m":[{}]}}"#,
        envs.join(",")
    )
}

fn response(status: &Status, body: &Body) -> Response {
    let bytes = match body {
        Body::Subscribe {
            tt,
            region,
            envelopes,
        } => subscribe_json(*tt, *region, envelopes).into_bytes(),
        Body::Published => br#"[1,"Sent","17000000000000000"]"#.to_vec(),
        Body::Garbage(b) => b.clone(),
        Body::InvalidUtf8 => b"{\"t\":\xff\xfe}".to_vec(),
        Body::Empty => Vec::new(),
        Body::Truncated(tt, cut) => {
            let full = subscribe_json(*tt, 1, &[(0, 1, 1)]);
            full.as_bytes()[..(*cut).min(full.len() - 1)].to_vec()
        }
    };
    match status {
        Status::Code(c) => Response::new(*c, bytes),
        Status::TooMany(after) => Response {
            status: 429,
            retry_after: after.map(|s| s.to_string()),
            body: bytes,
        },
    }
}

/// The transport's view of the core, and the invariants.
struct Model {
    h: Harness,
    in_flight: BTreeMap<RequestId, Request>,
    delivered: HashSet<(String, u64, String)>,
}

impl Model {
    fn new(config: Config) -> Model {
        Model {
            h: Harness::new(config),
            in_flight: BTreeMap::new(),
            delivered: HashSet::new(),
        }
    }

    /// Drains every output in order, checking the invariants as it goes.
    fn drain(&mut self) -> Result<(), TestCaseError> {
        while let Some(action) = self.h.core.poll_transmit() {
            match action {
                TransportAction::Send(r) => {
                    check_encoding(&r)?;
                    prop_assert!(
                        self.in_flight.insert(r.id, r.clone()).is_none(),
                        "request id reused"
                    );
                    let polls = self
                        .in_flight
                        .values()
                        .filter(|r| r.kind == RequestKind::LongPoll)
                        .count();
                    prop_assert!(polls <= 1, "{polls} long-polls in flight");
                }
                TransportAction::Cancel(id) => {
                    prop_assert!(
                        self.in_flight.remove(&id).is_some(),
                        "cancel of {id:?}, which is not in flight"
                    );
                }
            }
        }
        prop_assert_eq!(self.h.core.in_flight(), self.in_flight.len());
        while let Some(e) = self.h.core.poll_event() {
            if let Event::Message(m) = e {
                let key = (
                    m.channel.as_str().to_owned(),
                    m.timetoken.0,
                    m.payload.get().to_owned(),
                );
                prop_assert!(
                    self.delivered.insert(key.clone()),
                    "delivered twice: {key:?}"
                );
            }
        }
        Ok(())
    }

    fn pick(&self, pick: usize) -> Option<RequestId> {
        if self.in_flight.is_empty() {
            return None;
        }
        self.in_flight
            .keys()
            .nth(pick % self.in_flight.len())
            .copied()
    }

    fn apply(&mut self, step: &Step) -> Result<(), TestCaseError> {
        let h = &mut self.h;
        let now = h.now;
        let before = h.core.cursor();
        let mut may_reset = false;
        match step {
            Step::Subscribe {
                channels,
                groups,
                presence,
                timetoken,
            } => {
                let mut sub = Subscribe::channels(channels.iter().map(|&i| CHANNELS[i]))
                    .and_then(|s| s.groups(groups.iter().map(|&i| GROUPS[i])))
                    .unwrap()
                    .with_presence(*presence);
                sub.timetoken = timetoken.map(Timetoken);
                let r = h.core.subscribe(sub, now);
                prop_assert_eq!(r.is_err(), channels.is_empty() && groups.is_empty());
            }
            Step::Unsubscribe { channels, groups } => {
                let chs: Vec<Channel> = channels
                    .iter()
                    .map(|&i| Channel::new(CHANNELS[i]).unwrap())
                    .collect();
                let gs: Vec<ChannelGroup> = groups
                    .iter()
                    .map(|&i| ChannelGroup::new(GROUPS[i]).unwrap())
                    .collect();
                let was_subscribed = !h.core.subscribed_channels().is_empty()
                    || !h.core.subscribed_groups().is_empty();
                let r = h.core.unsubscribe(&chs, &gs, now);
                prop_assert_eq!(r.is_err(), chs.is_empty() && gs.is_empty());
                let empty = h.core.subscribed_channels().is_empty()
                    && h.core.subscribed_groups().is_empty();
                may_reset = r.is_ok() && (empty || !was_subscribed);
            }
            Step::UnsubscribeAll => {
                h.core.unsubscribe_all(now);
                may_reset = true;
            }
            Step::Disconnect => h.core.disconnect(now),
            Step::Reconnect(tt) => h.core.reconnect(tt.map(Timetoken), now),
            Step::Publish(c, p) => {
                let publish = Publish::raw(CHANNELS[*c], PAYLOADS[*p]).unwrap();
                h.core.publish(publish, now).unwrap();
            }
            Step::HereNow => {
                let q = HereNowQuery {
                    channels: vec![Channel::new(CHANNELS[2]).unwrap()],
                    groups: vec![ChannelGroup::new(GROUPS[1]).unwrap()],
                    include_uuids: true,
                    include_state: false,
                };
                h.core.here_now(q, now).unwrap();
            }
            Step::Time => {
                let _ = h.core.time(now);
            }
            Step::Respond { pick, status, body } => {
                if let Some(id) = self.pick(*pick) {
                    self.in_flight.remove(&id);
                    let h = &mut self.h;
                    h.core.handle_response(id, Ok(response(status, body)), now);
                }
            }
            Step::Fail { pick, kind } => {
                if let Some(id) = self.pick(*pick) {
                    self.in_flight.remove(&id);
                    let h = &mut self.h;
                    h.core.handle_response(id, Err(transport_error(*kind)), now);
                }
            }
            Step::Jump(jump) => {
                let target = match jump {
                    Jump::Small(ms) => now + Duration::from_millis(*ms),
                    Jump::ToDeadline => h.core.poll_timeout().unwrap_or(now).max(now),
                    Jump::Huge(s) => now + Duration::from_secs(*s),
                };
                h.now = target;
                h.core.handle_timeout(target);
                if let Some(next) = h.core.poll_timeout() {
                    prop_assert!(
                        next > target,
                        "after handle_timeout the deadline did not move forward ({:?} ≤ now)",
                        target - next
                    );
                }
            }
        }
        self.drain()?;
        let after = self.h.core.cursor();
        if !may_reset && !before.is_start() {
            prop_assert!(
                !after.is_start(),
                "the cursor was reset from {before:?} by {step:?}"
            );
        }
        Ok(())
    }
}

/// Every name in the request decodes to one of the alphabet's names (or its `-pnpres`), every
/// byte is unreserved, `%`, or a delimiter, and `%25` appears only for the name holding `%`.
fn check_encoding(r: &Request) -> Result<(), TestCaseError> {
    let pq = &r.path_and_query;
    prop_assert!(
        pq.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%/?&=,".contains(&b)),
        "raw reserved byte in {pq}"
    );
    prop_assert!(
        !pq.replace("d%25x", "").contains("%25"),
        "double encoding in {pq}"
    );
    for segment in r.path().split('/') {
        prop_assert!(decode(segment).is_some(), "segment {segment} is not UTF-8");
    }
    let known = |n: &str| {
        let base = n.strip_suffix("-pnpres").unwrap_or(n);
        CHANNELS.contains(&base) || GROUPS.contains(&base)
    };
    let list = if r.path().starts_with("/v2/subscribe/") {
        path_segments(r).get(3).map(|s| s.to_string())
    } else if r.path().starts_with("/v2/presence/") && r.path().contains("/channel/") {
        path_segments(r).get(5).map(|s| s.to_string())
    } else {
        None
    };
    if let Some(list) = list {
        for n in decoded_names(&list) {
            prop_assert!(known(&n), "unknown name {n:?} in {pq}");
        }
    }
    if let Some(raw) = query_param(r, "channel-group") {
        for n in decoded_names(raw) {
            prop_assert!(known(&n), "unknown group {n:?} in {pq}");
        }
    }
    if r.path().starts_with("/publish/") {
        let seg = path_segments(r);
        let channel = decode(seg[4]).unwrap();
        prop_assert!(CHANNELS.contains(&channel.as_str()), "{channel}");
        let message = decode(seg[6]).unwrap();
        prop_assert!(PAYLOADS.contains(&message.as_str()), "{message}");
    }
    Ok(())
}

fn config_for(variant: u8) -> Config {
    let mut c = config(RetryPolicy::Linear {
        delay: Duration::from_secs(2),
        max_retries: 3,
    });
    if variant & 1 != 0 {
        c.heartbeat_interval = Some(10);
        c.presence_timeout = Some(30);
    }
    if variant & 2 != 0 {
        c.reliable_publish = Some(ReliablePublish {
            queue_capacity: 1000,
            max_per_second: Some(5),
            ..ReliablePublish::default()
        });
    }
    if variant & 4 != 0 {
        c.retry_policy = RetryPolicy::default_exponential();
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_for_any_sequence(
        variant in 0u8..8,
        steps in prop::collection::vec(step(), 1..80),
    ) {
        let mut m = Model::new(config_for(variant));
        for s in &steps {
            m.apply(s)?;
        }
        // However it ended, leaving everything and running the clock out goes quiet: no
        // long-poll, heartbeat or retry keeps going.
        m.h.core.unsubscribe_all(m.h.now);
        m.drain()?;
        for _ in 0..1000 {
            let Some(t) = m.h.core.poll_timeout() else { break };
            m.h.now = m.h.now.max(t);
            m.h.core.handle_timeout(m.h.now);
            m.drain()?;
            let ids: Vec<RequestId> = m.in_flight.keys().copied().collect();
            for id in ids {
                m.in_flight.remove(&id);
                m.h.core.handle_response(id, Ok(Response::new(200, r#"[1,"Sent","1"]"#)), m.h.now);
            }
            m.drain()?;
        }
        prop_assert_eq!(m.h.core.poll_timeout(), None);
        prop_assert!(m.in_flight.values().all(|r| r.kind != RequestKind::LongPoll));
    }

    #[test]
    fn names_round_trip_through_subscribe_requests(
        channel in "[^,:*\\pC]{1,30}",
        group in "[^,:*\\pC]{1,30}",
    ) {
        prop_assume!(Channel::new(&channel).is_ok() && ChannelGroup::new(&group).is_ok());
        let mut h = Harness::new(config(linear(3)));
        let sub = Subscribe::channels([channel.as_str()]).unwrap()
            .groups([group.as_str()]).unwrap()
            .with_presence(true);
        h.core.subscribe(sub, h.now).unwrap();
        let r = h.expect_one("/v2/subscribe");
        let seg = path_segments(&r);
        prop_assert_eq!(seg.len(), 5);
        let mut expected = vec![channel.clone(), format!("{channel}-pnpres")];
        expected.sort();
        expected.dedup();
        prop_assert_eq!(decoded_names(seg[3]), expected);
        let mut groups = vec![group.clone(), format!("{group}-pnpres")];
        groups.sort();
        groups.dedup();
        prop_assert_eq!(decoded_names(query_param(&r, "channel-group").unwrap()), groups);
        prop_assert!(!r.path_and_query.contains("%25") || channel.contains('%') || group.contains('%'));
    }

    #[test]
    fn names_and_messages_round_trip_through_publish_requests(
        channel in "[^,:*\\pC]{1,30}",
        text in "\\PC{0,40}",
        post in any::<bool>(),
    ) {
        prop_assume!(Channel::parse(&channel, pn_core::NameUse::Publish).is_ok());
        let mut h = Harness::new(config(linear(3)));
        let message = serde_json::json!({ "text": text, "n": [1, 2.5, null] });
        let publish = Publish::new(&channel, &message).unwrap().use_post(post);
        let r = h.core.publish_request(publish, h.now).unwrap();
        let seg = path_segments(&r);
        prop_assert_eq!(seg[0], "publish");
        prop_assert_eq!(decode(seg[4]).unwrap(), channel.clone());
        let sent: serde_json::Value = if post {
            prop_assert_eq!(seg.len(), 6);
            serde_json::from_slice(r.body.as_deref().unwrap()).unwrap()
        } else {
            prop_assert_eq!(seg.len(), 7);
            serde_json::from_str(&decode(seg[6]).unwrap()).unwrap()
        };
        prop_assert_eq!(sent, message);
        prop_assert!(h.core.poll_transmit().is_none(), "publish_request sends nothing");
    }
}
