//! The event-engine scenarios of protocol.md §6.9 (Gherkin version A) replayed on virtual time,
//! comparing the engine's transcript of events and invocations with the published vectors.
//!
//! Two deliberate differences, both listed where they apply:
//! - version A emits a status after every plain RECEIVE_SUCCESS; no SDK state table produces one
//!   (protocol.md §6.9 note 1) and there is no status to report, so we don't;
//! - on the first RECEIVE_FAILURE we emit `UnexpectedDisconnect` (retrying) so that statuses tell
//!   the story of an outage (`UnexpectedDisconnect` → `Reconnected`); version A is silent there.

mod support;

use pn_core::{Category, Response, Subscribe};
use support::*;

fn tokens(s: &str) -> Vec<String> {
    s.split(", ").map(str::to_owned).collect()
}

fn subscribe(h: &mut Harness) {
    h.core.record_transcript(true);
    h.core
        .subscribe(Subscribe::channels(["test"]).unwrap(), h.now)
        .unwrap();
}

#[test]
fn simple_subscribe() {
    let mut h = Harness::new(config(linear(3)));
    subscribe(&mut h);
    let hs = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&hs, "tt"), Some("0"));
    h.answer(hs.id, subscribe_body(100, 1, &[]));
    let rx = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&rx, "tt"), Some("100"));
    assert_eq!(query_param(&rx, "tr"), Some("1"));
    h.answer(
        rx.id,
        subscribe_body(101, 1, &[envelope("test", 101, r#""hi""#)]),
    );
    h.drain();
    let vector_a = "ev SUBSCRIPTION_CHANGED, inv HANDSHAKE, ev HANDSHAKE_SUCCESS, inv CANCEL_HANDSHAKE, inv EMIT_STATUS, inv RECEIVE_MESSAGES, ev RECEIVE_SUCCESS, inv CANCEL_RECEIVE_MESSAGES, inv EMIT_MESSAGES, inv EMIT_STATUS, inv RECEIVE_MESSAGES";
    let ours = vector_a.replace("inv EMIT_MESSAGES, inv EMIT_STATUS", "inv EMIT_MESSAGES");
    // Our sequence is exactly the one protocol.md §6.7 derives for the modern engine.
    let modern = "ev SUBSCRIPTION_CHANGED, inv HANDSHAKE, ev HANDSHAKE_SUCCESS, inv CANCEL_HANDSHAKE, inv EMIT_STATUS, inv RECEIVE_MESSAGES, ev RECEIVE_SUCCESS, inv CANCEL_RECEIVE_MESSAGES, inv EMIT_MESSAGES, inv RECEIVE_MESSAGES";
    assert_eq!(ours, modern);
    assert_eq!(h.core.take_transcript(), tokens(&ours));
    assert_eq!(h.statuses(), [Category::Connected]);
}

#[test]
fn subscribe_handshake_failure() {
    let mut h = Harness::new(config(linear(3)));
    subscribe(&mut h);
    let mut requests = 0;
    loop {
        for r in h.drain() {
            requests += 1;
            h.answer(r.id, Response::new(500, "{}"));
        }
        if !h.advance() {
            break;
        }
    }
    h.drain();
    let vector_a = "ev SUBSCRIPTION_CHANGED, inv HANDSHAKE, ev HANDSHAKE_FAILURE, inv CANCEL_HANDSHAKE, inv HANDSHAKE_RECONNECT, ev HANDSHAKE_RECONNECT_FAILURE, inv CANCEL_HANDSHAKE_RECONNECT, inv HANDSHAKE_RECONNECT, ev HANDSHAKE_RECONNECT_FAILURE, inv CANCEL_HANDSHAKE_RECONNECT, inv HANDSHAKE_RECONNECT, ev HANDSHAKE_RECONNECT_FAILURE, inv CANCEL_HANDSHAKE_RECONNECT, inv HANDSHAKE_RECONNECT, ev HANDSHAKE_RECONNECT_GIVEUP, inv CANCEL_HANDSHAKE_RECONNECT, inv EMIT_STATUS";
    assert_eq!(h.core.take_transcript(), tokens(vector_a));
    assert_eq!(requests, 4, "the handshake and three retries");
    assert_eq!(h.statuses(), [Category::Unknown]);
}

#[test]
fn subscribe_handshake_recovery() {
    let mut h = Harness::new(config(linear(3)));
    subscribe(&mut h);
    let first = h.expect_one("/v2/subscribe");
    h.answer(first.id, Response::new(503, "{}"));
    assert!(h.advance());
    let retry1 = h.expect_one("/v2/subscribe");
    h.answer(retry1.id, Response::new(503, "{}"));
    assert!(h.advance());
    let retry2 = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&retry2, "tt"), Some("0"));
    h.answer(retry2.id, subscribe_body(5, 2, &[]));
    let rx = h.expect_one("/v2/subscribe");
    h.answer(rx.id, subscribe_body(6, 2, &[envelope("test", 6, "1")]));
    h.drain();
    let vector_a = "ev SUBSCRIPTION_CHANGED, inv HANDSHAKE, ev HANDSHAKE_FAILURE, inv CANCEL_HANDSHAKE, inv HANDSHAKE_RECONNECT, ev HANDSHAKE_RECONNECT_FAILURE, inv CANCEL_HANDSHAKE_RECONNECT, inv HANDSHAKE_RECONNECT, ev HANDSHAKE_RECONNECT_SUCCESS, inv CANCEL_HANDSHAKE_RECONNECT, inv EMIT_STATUS, inv RECEIVE_MESSAGES, ev RECEIVE_SUCCESS, inv CANCEL_RECEIVE_MESSAGES, inv EMIT_MESSAGES, inv EMIT_STATUS, inv RECEIVE_MESSAGES";
    let ours = vector_a.replace("inv EMIT_MESSAGES, inv EMIT_STATUS", "inv EMIT_MESSAGES");
    assert_eq!(h.core.take_transcript(), tokens(&ours));
    assert_eq!(h.statuses(), [Category::Connected]);
}

#[test]
fn subscribe_receiving_recovery() {
    let mut h = Harness::new(config(linear(3)));
    subscribe(&mut h);
    let hs = h.expect_one("/v2/subscribe");
    h.answer(hs.id, subscribe_body(10, 3, &[]));
    let rx = h.expect_one("/v2/subscribe");
    h.core.handle_response(
        rx.id,
        Err(pn_core::TransportError::new(
            pn_core::TransportErrorKind::ConnectionLost,
            "reset",
        )),
        h.now,
    );
    assert!(h.advance());
    let retry = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&retry, "tt"), Some("10"), "the cursor is kept");
    h.answer(
        retry.id,
        subscribe_body(11, 3, &[envelope("test", 11, "2")]),
    );
    h.drain();
    let vector_a = "ev SUBSCRIPTION_CHANGED, inv HANDSHAKE, ev HANDSHAKE_SUCCESS, inv CANCEL_HANDSHAKE, inv EMIT_STATUS, inv RECEIVE_MESSAGES, ev RECEIVE_FAILURE, inv CANCEL_RECEIVE_MESSAGES, inv RECEIVE_RECONNECT, ev RECEIVE_RECONNECT_SUCCESS, inv CANCEL_RECEIVE_RECONNECT, inv EMIT_MESSAGES, inv EMIT_STATUS, inv RECEIVE_MESSAGES";
    let ours = vector_a.replace(
        "ev RECEIVE_FAILURE, inv CANCEL_RECEIVE_MESSAGES, inv RECEIVE_RECONNECT",
        "ev RECEIVE_FAILURE, inv CANCEL_RECEIVE_MESSAGES, inv EMIT_STATUS, inv RECEIVE_RECONNECT",
    );
    assert_eq!(h.core.take_transcript(), tokens(&ours));
    assert_eq!(
        h.statuses(),
        [
            Category::Connected,
            Category::UnexpectedDisconnect,
            Category::Reconnected
        ]
    );
}

// ----- presence (protocol.md §6.9, `[gherkin#43463889517]`) -----

fn presence_config(interval: u64, policy: pn_core::RetryPolicy) -> pn_core::Config {
    let mut c = config(policy);
    c.presence_timeout = Some(60);
    c.heartbeat_interval = Some(interval);
    c
}

/// Answers every subscribe with an empty receive and every heartbeat/leave with `heartbeat`.
fn answer_presence(h: &mut Harness, heartbeat: u16) -> Vec<pn_core::Request> {
    let sent = h.drain();
    for r in &sent {
        if r.path().ends_with("/heartbeat") || r.path().ends_with("/leave") {
            h.answer(
                r.id,
                Response::new(
                    heartbeat,
                    r#"{"status": 200, "message": "OK", "service": "Presence"}"#,
                ),
            );
        }
    }
    h.drain();
    sent
}

fn presence_only(transcript: Vec<String>) -> Vec<String> {
    const SUBSCRIBE: &[&str] = &[
        "SUBSCRIPTION_CHANGED",
        "HANDSHAKE",
        "CANCEL_HANDSHAKE",
        "RECEIVE_MESSAGES",
        "CANCEL_RECEIVE_MESSAGES",
        "EMIT_STATUS",
        "UNSUBSCRIBE_ALL",
    ];
    transcript
        .into_iter()
        .filter(|l| !SUBSCRIBE.contains(&l.split_once(' ').map_or("", |(_, n)| n)))
        .collect()
}

#[test]
fn presence_join() {
    let mut h = Harness::new(presence_config(20, linear(3)));
    subscribe(&mut h);
    let sent = answer_presence(&mut h, 200);
    let hb: Vec<_> = sent
        .iter()
        .filter(|r| r.path().ends_with("/heartbeat"))
        .collect();
    assert_eq!(hb.len(), 1);
    assert_eq!(query_param(hb[0], "heartbeat"), Some("60"));
    assert_eq!(
        presence_only(h.core.take_transcript()),
        tokens("ev JOINED, inv HEARTBEAT, ev HEARTBEAT_SUCCESS, inv WAIT")
    );
}

#[test]
fn presence_multiple_wait() {
    let mut h = Harness::new(presence_config(1, linear(3)));
    subscribe(&mut h);
    answer_presence(&mut h, 200);
    let start = h.now;
    for _ in 0..2 {
        assert!(h.advance());
        answer_presence(&mut h, 200);
    }
    assert_eq!(
        h.now - start,
        std::time::Duration::from_secs(2),
        "one heartbeat a second"
    );
    let vector = "ev JOINED, inv HEARTBEAT, ev HEARTBEAT_SUCCESS, inv WAIT, ev TIMES_UP, inv CANCEL_WAIT, inv HEARTBEAT, ev HEARTBEAT_SUCCESS, inv WAIT, ev TIMES_UP, inv CANCEL_WAIT, inv HEARTBEAT";
    let mut got = presence_only(h.core.take_transcript());
    got.truncate(tokens(vector).len());
    assert_eq!(got, tokens(vector));
}

#[test]
fn presence_join_with_an_error() {
    let mut h = Harness::new(presence_config(20, linear(3)));
    subscribe(&mut h);
    answer_presence(&mut h, 500);
    assert!(h.advance());
    answer_presence(&mut h, 200);
    assert_eq!(
        presence_only(h.core.take_transcript()),
        tokens(
            "ev JOINED, inv HEARTBEAT, ev HEARTBEAT_FAILURE, inv DELAYED_HEARTBEAT, ev HEARTBEAT_SUCCESS, inv CANCEL_DELAYED_HEARTBEAT, inv WAIT"
        )
    );
}

#[test]
fn presence_join_with_continuous_failures() {
    let mut h = Harness::new(presence_config(20, linear(3)));
    subscribe(&mut h);
    answer_presence(&mut h, 500);
    for _ in 0..3 {
        assert!(h.advance());
        answer_presence(&mut h, 500);
    }
    let vector = "ev JOINED, inv HEARTBEAT, ev HEARTBEAT_FAILURE, inv DELAYED_HEARTBEAT, ev HEARTBEAT_FAILURE, inv CANCEL_DELAYED_HEARTBEAT, inv DELAYED_HEARTBEAT, ev HEARTBEAT_FAILURE, inv CANCEL_DELAYED_HEARTBEAT, inv DELAYED_HEARTBEAT, ev HEARTBEAT_FAILURE, inv CANCEL_DELAYED_HEARTBEAT, inv DELAYED_HEARTBEAT, ev HEARTBEAT_GIVEUP, inv CANCEL_DELAYED_HEARTBEAT";
    assert_eq!(presence_only(h.core.take_transcript()), tokens(vector));
}

#[test]
fn presence_leave() {
    let mut h = Harness::new(presence_config(20, linear(3)));
    h.core.record_transcript(true);
    let three = Subscribe::channels(["first", "second", "third"]).unwrap();
    h.core.subscribe(three, h.now).unwrap();
    answer_presence(&mut h, 200);
    let two = [
        pn_core::Channel::new("first").unwrap(),
        pn_core::Channel::new("second").unwrap(),
    ];
    h.core.unsubscribe(&two, &[], h.now).unwrap();
    let sent = answer_presence(&mut h, 200);
    let leave = sent.iter().find(|r| r.path().ends_with("/leave")).unwrap();
    assert!(leave.path().contains("/channel/first,second/leave"));
    let hb = sent
        .iter()
        .find(|r| r.path().ends_with("/heartbeat"))
        .unwrap();
    assert!(hb.path().contains("/channel/third/heartbeat"));
    assert_eq!(
        presence_only(h.core.take_transcript()),
        tokens(
            "ev JOINED, inv HEARTBEAT, ev HEARTBEAT_SUCCESS, inv WAIT, ev LEFT, inv CANCEL_WAIT, inv LEAVE, inv HEARTBEAT, ev HEARTBEAT_SUCCESS, inv WAIT"
        )
    );
}

#[test]
fn presence_join_with_heartbeat_disabled() {
    let mut h = Harness::new(presence_config(0, linear(3)));
    subscribe(&mut h);
    let sent = answer_presence(&mut h, 200);
    assert!(sent.iter().all(|r| !r.path().ends_with("/heartbeat")));
    assert!(presence_only(h.core.take_transcript()).is_empty());
}
