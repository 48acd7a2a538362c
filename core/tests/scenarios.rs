//! Named scenarios on virtual time: what the core sends, cancels and emits, in what order and
//! when, for the situations protocol.md §3–§8 single out.

mod support;

use std::time::{Duration, Instant};

use pn_core::{
    Category, Channel, ChannelGroup, DuplicatePolicy, Event, Operation, Outcome, Publish, Recovery,
    ReliablePublish, Request, RequestKind, Response, RetryPolicy, Subscribe, Timetoken,
    TransportAction, TransportErrorKind,
};
use support::*;

fn ch(name: &str) -> Channel {
    Channel::new(name).unwrap()
}

/// Subscribes to `names`, answers the handshake with cursor `tt`/`region`; the first receive.
fn receiving(h: &mut Harness, names: &[&str], tt: u64, region: u32) -> Request {
    h.core
        .subscribe(Subscribe::channels(names.iter().copied()).unwrap(), h.now)
        .unwrap();
    let hs = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&hs, "tt"), Some("0"));
    h.answer(hs.id, subscribe_body(tt, region, &[]));
    let rx = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&rx, "tt"), Some(tt.to_string().as_str()));
    rx
}

fn ok_ack() -> Response {
    Response::new(
        200,
        r#"{"status": 200, "message": "OK", "service": "Presence"}"#,
    )
}

fn published(tt: u64) -> Response {
    Response::new(200, format!(r#"[1,"Sent","{tt}"]"#))
}

#[test]
fn unsubscribe_all_resets_cursor() {
    let mut h = Harness::new(config(linear(3)));
    let rx = receiving(&mut h, &["a", "b"], 100, 1);
    h.answer(rx.id, subscribe_body(200, 4, &[]));
    let rx2 = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&rx2, "tt"), Some("200"));
    assert_eq!(query_param(&rx2, "tr"), Some("4"));
    h.take_events();

    h.core.unsubscribe_all(h.now);
    let sent = h.drain();
    assert!(h.cancelled.contains(&rx2.id), "the long-poll is cancelled");
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].path().ends_with("/channel/a,b/leave"),
        "{}",
        sent[0].path()
    );
    assert_eq!(h.core.cursor(), pn_core::Cursor::START);
    assert_eq!(h.statuses(), [Category::Disconnected]);
    assert_eq!(
        h.core.subscription_state(),
        &pn_core::subscribe::State::Unsubscribed
    );

    h.core
        .subscribe(Subscribe::channels(["c"]).unwrap(), h.now)
        .unwrap();
    let hs = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&hs, "tt"), Some("0"));
    assert_eq!(query_param(&hs, "tr"), None);
    h.answer(hs.id, subscribe_body(900, 2, &[]));
    assert_eq!(
        h.statuses(),
        [Category::Connected],
        "a fresh start, not a reconnect"
    );
}

#[test]
fn unsubscribing_the_last_name_is_unsubscribe_all() {
    let mut h = Harness::new(config(linear(3)));
    let rx = receiving(&mut h, &["a"], 100, 1);
    h.take_events();
    h.core.unsubscribe(&[ch("a")], &[], h.now).unwrap();
    h.drain();
    assert!(h.cancelled.contains(&rx.id));
    assert_eq!(h.core.cursor(), pn_core::Cursor::START);
    assert_eq!(h.statuses(), [Category::Disconnected]);
}

#[test]
fn channel_change_cancels_long_poll_first() {
    let mut h = Harness::new(config(linear(3)));
    let rx = receiving(&mut h, &["a"], 100, 7);
    h.take_events();
    h.core
        .subscribe(Subscribe::channels(["b"]).unwrap(), h.now)
        .unwrap();
    let actions: Vec<TransportAction> = std::iter::from_fn(|| h.core.poll_transmit()).collect();
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert_eq!(actions[0], TransportAction::Cancel(rx.id));
    let TransportAction::Send(next) = &actions[1] else {
        panic!("expected a send, got {:?}", actions[1]);
    };
    assert!(next.path().ends_with("/a,b/0"), "{}", next.path());
    assert_eq!(query_param(next, "tt"), Some("100"), "the cursor is kept");
    assert_eq!(query_param(next, "tr"), Some("7"));
    assert_eq!(next.kind, RequestKind::LongPoll);
    assert_eq!(h.core.in_flight(), 1);
    assert_eq!(h.statuses(), [Category::SubscriptionChanged]);
}

#[test]
fn subscribe_twice_is_idempotent() {
    let mut h = Harness::new(config(linear(3)));
    h.core
        .subscribe(Subscribe::channels(["a"]).unwrap(), h.now)
        .unwrap();
    let hs = h.expect_one("/v2/subscribe");
    // Again while handshaking.
    h.core
        .subscribe(Subscribe::channels(["a"]).unwrap(), h.now)
        .unwrap();
    assert_eq!(h.core.poll_transmit(), None);
    h.answer(hs.id, subscribe_body(100, 1, &[]));
    let rx = h.expect_one("/v2/subscribe");
    h.take_events();
    // Again while receiving, and with a subset.
    for _ in 0..3 {
        h.core
            .subscribe(Subscribe::channels(["a"]).unwrap(), h.now)
            .unwrap();
    }
    assert_eq!(h.core.poll_transmit(), None);
    assert!(h.core.poll_event().is_none());
    assert_eq!(h.core.in_flight(), 1);
    assert!(!h.cancelled.contains(&rx.id));
}

#[test]
fn late_answer_to_cancelled_request_is_ignored() {
    let mut h = Harness::new(config(linear(3)));
    let rx = receiving(&mut h, &["a"], 100, 1);
    h.core
        .subscribe(Subscribe::channels(["b"]).unwrap(), h.now)
        .unwrap();
    let rx2 = h.expect_one("/v2/subscribe");
    h.take_events();
    assert!(h.cancelled.contains(&rx.id));
    // The old long-poll's answer arrives anyway, with a message and a new cursor.
    h.answer(
        rx.id,
        subscribe_body(555, 9, &[envelope("a", 550, r#""late""#)]),
    );
    h.fail(rx.id, TransportErrorKind::ConnectionLost);
    assert!(
        h.take_events().is_empty(),
        "no event from a cancelled request"
    );
    assert_eq!(h.core.poll_transmit(), None);
    assert_eq!(h.core.cursor().timetoken, Timetoken(100));
    assert_eq!(h.core.in_flight(), 1);
    // The live one still works.
    h.answer(rx2.id, subscribe_body(600, 1, &[envelope("b", 590, "1")]));
    let events = h.take_events();
    assert_eq!(messages(&events).len(), 1);
    // A second answer to an answered request is ignored too.
    h.answer(rx2.id, subscribe_body(700, 1, &[envelope("b", 690, "2")]));
    assert!(h.take_events().is_empty());
}

/// The records of the §3.4 region-change example.
fn timeout_cassette() -> Vec<serde_json::Value> {
    let cassette = "pubnub/python:tests/integrational/fixtures/tornado/heartbeat/timeout.yaml";
    let mut recs: Vec<_> = conformance_records()
        .into_iter()
        .filter(|r| r["cassette"] == cassette)
        .collect();
    recs.sort_by_key(|r| r["index"].as_u64());
    recs
}

#[test]
fn server_timetoken_adopted_even_backwards() {
    let recs = timeout_cassette();
    let (r7, r8) = (&recs[7], &recs[8]);
    assert_eq!(r7["query"]["tt"], "14720341206425665");
    let mut h = Harness::new(config(linear(3)));
    h.core
        .subscribe(
            Subscribe::channels(["heartbeat-tornado-ch"])
                .unwrap()
                .with_presence(true),
            h.now,
        )
        .unwrap();
    let hs = h.expect_one("/v2/subscribe");
    assert!(
        hs.path()
            .ends_with("/heartbeat-tornado-ch,heartbeat-tornado-ch-pnpres/0")
    );
    h.answer(hs.id, subscribe_body(14720341206425665, 12, &[]));
    let rx = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&rx, "tt"), Some("14720341206425665"));
    h.take_events();

    h.answer(rx.id, recorded_response(r7));
    let rx2 = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&rx2, "tt"), r8["query"]["tt"].as_str());
    assert_eq!(query_param(&rx2, "tr"), Some("12"));
    let first = h.take_events();
    let first = messages(&first);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].channel.as_str(), "heartbeat-tornado-ch");
    assert_eq!(
        first[0].presence().map(|p| p.action.clone()),
        Some(pn_core::PresenceAction::Timeout)
    );
    assert_eq!(first[0].timetoken, Timetoken(14720341367516371));

    // The region switch: the next timetoken is lower, the same event comes again.
    h.answer(rx2.id, recorded_response(r8));
    let rx3 = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&rx3, "tt"), Some("14720341368363471"));
    assert_eq!(query_param(&rx3, "tr"), Some("3"));
    let tt = |r: &Request| query_param(r, "tt").unwrap().parse::<u64>().unwrap();
    assert!(tt(&rx3) < tt(&rx2), "it really goes backwards");
    assert_eq!(h.core.cursor().timetoken, Timetoken(14720341368363471));
    assert!(
        messages(&h.take_events()).is_empty(),
        "the re-delivered timeout event is dropped"
    );
}

#[test]
fn access_denied_is_not_retried() {
    let mut h = Harness::new(config(linear(3)));
    h.core
        .subscribe(
            Subscribe::channels(["not-permitted-channel"]).unwrap(),
            h.now,
        )
        .unwrap();
    let hs = h.expect_one("/v2/subscribe");
    h.answer(
        hs.id,
        Response::new(
            403,
            r#"{"message":"Forbidden","payload":{"channels":["not-permitted-channel"]},"error":true,"service":"Access Manager","status":403}"#,
        ),
    );
    let events = h.take_events();
    let statuses = statuses_of(&events);
    assert_eq!(statuses.len(), 1, "{events:?}");
    assert_eq!(statuses[0].category, Category::AccessDenied);
    assert_eq!(statuses[0].recovery, Recovery::GaveUp);
    match &statuses[0].error {
        Some(pn_core::Error::Api {
            status, channels, ..
        }) => {
            assert_eq!(*status, 403);
            assert_eq!(channels, &[ch("not-permitted-channel")]);
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    for _ in 0..10 {
        h.advance_by(Duration::from_secs(60));
        h.advance();
    }
    assert!(h.drain().is_empty(), "no retry after 403");
    assert_eq!(h.core.poll_timeout(), None);
    assert!(matches!(
        h.core.subscription_state(),
        pn_core::subscribe::State::HandshakeFailed(_)
    ));

    // Same when receiving.
    let mut h = Harness::new(config(linear(3)));
    let rx = receiving(&mut h, &["a"], 100, 1);
    h.take_events();
    h.answer(
        rx.id,
        Response::new(
            403,
            r#"{"message":"Forbidden","error":true,"service":"Access Manager","status":403}"#,
        ),
    );
    let events = h.take_events();
    let statuses = statuses_of(&events);
    assert_eq!(statuses.len(), 1, "{events:?}");
    assert_eq!(
        (statuses[0].category, statuses[0].recovery),
        (Category::AccessDenied, Recovery::GaveUp)
    );
    while h.advance() {}
    assert!(h.drain().is_empty());
}

#[test]
fn retry_after_is_honoured() {
    let mut h = Harness::new(config(linear(5)));
    let rx = receiving(&mut h, &["a"], 100, 1);
    h.take_events();
    let failed_at = h.now;
    let mut r = Response::new(
        429,
        r#"{"status":429,"error":true,"message":"Too many requests"}"#,
    );
    r.retry_after = Some("7".into());
    h.answer(rx.id, r);
    let events = h.take_events();
    let statuses = statuses_of(&events);
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].category, Category::UnexpectedDisconnect);
    match statuses[0].recovery {
        Recovery::Retrying { attempt: 1, delay } => {
            assert!(
                delay >= Duration::from_secs(7) && delay < Duration::from_secs(8),
                "{delay:?}"
            )
        }
        other => panic!("expected a retry, got {other:?}"),
    }
    let due = h.core.poll_timeout().unwrap();
    assert!(
        due >= failed_at + Duration::from_secs(7),
        "{:?}",
        due - failed_at
    );
    // Nothing happens 6.9 s later.
    h.advance_by(Duration::from_millis(6900));
    assert!(h.drain().is_empty());
    assert!(h.advance());
    let retry = h.expect_one("/v2/subscribe");
    assert!(h.now - failed_at >= Duration::from_secs(7));
    assert_eq!(query_param(&retry, "tt"), Some("100"));
    assert_eq!(query_param(&retry, "tr"), Some("1"));
}

#[test]
fn reconnect_resumes_from_cursor() {
    let mut h = Harness::new(config(linear(3)));
    let rx = receiving(&mut h, &["a"], 100, 1);
    h.answer(rx.id, subscribe_body(150, 1, &[]));
    let rx2 = h.expect_one("/v2/subscribe");
    h.take_events();

    h.core.disconnect(h.now);
    let sent = h.drain();
    assert!(
        sent.is_empty(),
        "disconnect sends nothing (no leave): {sent:?}"
    );
    assert!(h.cancelled.contains(&rx2.id));
    assert_eq!(h.statuses(), [Category::Disconnected]);
    assert_eq!(h.core.in_flight(), 0);
    // Time passes while disconnected; nothing is due.
    assert_eq!(h.core.poll_timeout(), None);
    h.advance_by(Duration::from_secs(3600));
    assert!(h.drain().is_empty());

    h.core.reconnect(None, h.now);
    let hs = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&hs, "tt"), Some("0"));
    h.answer(hs.id, subscribe_body(99_999, 42, &[]));
    let rx3 = h.expect_one("/v2/subscribe");
    assert_eq!(
        query_param(&rx3, "tt"),
        Some("150"),
        "resumes from the old timetoken"
    );
    assert_eq!(query_param(&rx3, "tr"), Some("42"), "with the new region");
    assert_eq!(h.statuses(), [Category::Reconnected]);
}

#[test]
fn reconnect_from_a_given_timetoken() {
    let mut h = Harness::new(config(linear(3)));
    let _ = receiving(&mut h, &["a"], 100, 1);
    h.core.disconnect(h.now);
    h.core.reconnect(Some(Timetoken(42)), h.now);
    let hs = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&hs, "tt"), Some("0"));
    h.answer(hs.id, subscribe_body(500, 3, &[]));
    let rx = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&rx, "tt"), Some("42"));
    assert_eq!(query_param(&rx, "tr"), Some("3"));
}

#[test]
fn unsubscribe_sends_leave_for_non_presence_names_only() {
    let mut h = Harness::new(config(linear(3)));
    h.core
        .subscribe(
            Subscribe::channels(["a", "b"])
                .unwrap()
                .groups(["g"])
                .unwrap()
                .with_presence(true),
            h.now,
        )
        .unwrap();
    let hs = h.expect_one("/v2/subscribe");
    assert!(
        hs.path().ends_with("/a,a-pnpres,b,b-pnpres/0"),
        "{}",
        hs.path()
    );
    assert_eq!(
        decoded_param(&hs, "channel-group").as_deref(),
        Some("g,g-pnpres")
    );
    h.answer(hs.id, subscribe_body(100, 1, &[]));
    h.drain();

    h.core
        .unsubscribe(&[ch("a")], &[ChannelGroup::new("g").unwrap()], h.now)
        .unwrap();
    let sent = h.drain();
    let leaves: Vec<&Request> = sent
        .iter()
        .filter(|r| r.path().ends_with("/leave"))
        .collect();
    assert_eq!(leaves.len(), 1, "{sent:?}");
    assert!(
        leaves[0].path().ends_with("/channel/a/leave"),
        "{}",
        leaves[0].path()
    );
    assert_eq!(
        decoded_param(leaves[0], "channel-group").as_deref(),
        Some("g")
    );
    let rx = sent
        .iter()
        .find(|r| r.path().starts_with("/v2/subscribe"))
        .unwrap();
    assert!(rx.path().ends_with("/b,b-pnpres/0"), "{}", rx.path());
    assert_eq!(decoded_param(rx, "channel-group"), None);
    let first_leave = leaves[0].id;
    h.answer(first_leave, ok_ack());

    // Unsubscribing what is not subscribed sends nothing.
    h.core.unsubscribe(&[ch("zzz")], &[], h.now).unwrap();
    assert!(h.drain().is_empty());

    h.core.unsubscribe_all(h.now);
    let sent = h.drain();
    let leaves: Vec<&Request> = sent
        .iter()
        .filter(|r| r.path().ends_with("/leave"))
        .collect();
    assert_eq!(leaves.len(), 1);
    assert!(
        leaves[0].path().ends_with("/channel/b/leave"),
        "{}",
        leaves[0].path()
    );
    // The leave's answer is handled quietly.
    h.take_events();
    h.answer(leaves[0].id, ok_ack());
    assert!(h.take_events().is_empty());
    assert_eq!(h.core.in_flight(), 0);
}

/// Regression: unsubscribing only `b-pnpres` once sent `leave` for `b-pnpres`, and a removal of
/// presence names alone did not restart the long-poll.
#[test]
fn unsubscribing_a_presence_name_sends_no_leave_but_restarts_the_long_poll() {
    let mut h = Harness::new(config(linear(3)));
    h.core
        .subscribe(
            Subscribe::channels(["b"]).unwrap().with_presence(true),
            h.now,
        )
        .unwrap();
    let hs = h.expect_one("/v2/subscribe");
    h.answer(hs.id, subscribe_body(100, 1, &[]));
    let rx = h.expect_one("/v2/subscribe");
    assert!(rx.path().ends_with("/b,b-pnpres/0"));
    h.core.unsubscribe(&[ch("b-pnpres")], &[], h.now).unwrap();
    let sent = h.drain();
    assert!(
        sent.iter().all(|r| !r.path().ends_with("/leave")),
        "a leave for a presence name: {sent:?}"
    );
    assert!(h.cancelled.contains(&rx.id));
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].path().ends_with("/sub/b/0"), "{}", sent[0].path());
    assert_eq!(query_param(&sent[0], "tt"), Some("100"));
}

#[test]
fn suppress_leave_events() {
    let mut cfg = config(linear(3));
    cfg.suppress_leave_events = true;
    let mut h = Harness::new(cfg);
    let _ = receiving(&mut h, &["a", "b"], 100, 1);
    h.core.unsubscribe(&[ch("a")], &[], h.now).unwrap();
    let sent = h.drain();
    assert_eq!(sent.len(), 1, "only the new long-poll: {sent:?}");
    assert!(sent[0].path().starts_with("/v2/subscribe"));
    h.core.unsubscribe_all(h.now);
    assert!(h.drain().is_empty());
    assert_eq!(h.core.in_flight(), 0);
}

#[test]
fn heartbeat_interval_sends_periodic_heartbeats() {
    let mut cfg = config(linear(3));
    cfg.heartbeat_interval = Some(10);
    cfg.presence_timeout = Some(30);
    let mut h = Harness::new(cfg);
    let start = h.now;
    h.core
        .subscribe(
            Subscribe::channels(["a"]).unwrap().with_presence(true),
            h.now,
        )
        .unwrap();
    let sent = h.drain();
    let hs = sent
        .iter()
        .find(|r| r.path().starts_with("/v2/subscribe"))
        .unwrap();
    assert_eq!(query_param(hs, "heartbeat"), Some("30"));
    h.answer(hs.id, subscribe_body(100, 1, &[]));
    let mut rx = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&rx, "heartbeat"), Some("30"));

    let mut beats: Vec<(Duration, Request)> = sent
        .iter()
        .filter(|r| r.path().ends_with("/heartbeat"))
        .map(|r| (Duration::ZERO, r.clone()))
        .collect();
    assert_eq!(beats.len(), 1, "a heartbeat on subscribing: {sent:?}");
    for _ in 0..6 {
        let (_, last) = beats.last().unwrap().clone();
        h.answer(last.id, ok_ack());
        assert!(h.advance());
        for r in h.drain() {
            if r.path().ends_with("/heartbeat") {
                beats.push((h.now - start, r));
            } else {
                rx = r;
            }
        }
    }
    assert_eq!(beats.len(), 7);
    for (i, (at, r)) in beats.iter().enumerate() {
        assert_eq!(*at, Duration::from_secs(10 * i as u64), "heartbeat {i}");
        assert!(
            r.path()
                .ends_with("/v2/presence/sub-key/sub/channel/a/heartbeat"),
            "presence names get no heartbeat: {}",
            r.path()
        );
        assert_eq!(query_param(r, "heartbeat"), Some("30"));
    }
    // The long-poll was never disturbed.
    assert!(!h.cancelled.contains(&rx.id));
    assert!(
        h.take_events()
            .iter()
            .all(|e| !matches!(e, Event::Message(_)))
    );
    // Unsubscribing stops them.
    h.core.unsubscribe_all(h.now);
    h.drain();
    while h.advance() {}
    assert!(h.drain().iter().all(|r| !r.path().ends_with("/heartbeat")));
}

/// protocol.md §8, written again from the text: sorted `k=v` pairs, values encoded except
/// `[0-9A-Za-z-_.]` with uppercase hex, then `v2.` + base64url(HMAC-SHA256) without padding.
fn reference_signature(
    secret: &str,
    publish_key: &str,
    method: &str,
    path: &str,
    query: &[(String, String)],
    body: &[u8],
) -> String {
    use base64::Engine;
    use hmac::Mac;
    fn enc(s: &str) -> String {
        let mut out = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }
    let mut pairs: Vec<&(String, String)> =
        query.iter().filter(|(k, _)| k != "signature").collect();
    pairs.sort();
    let canonical = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut text = format!("{method}\n{publish_key}\n{path}\n{canonical}\n").into_bytes();
    text.extend_from_slice(body);
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(&text);
    let digest = mac.finalize().into_bytes();
    format!(
        "v2.{}",
        base64::engine::general_purpose::URL_SAFE
            .encode(digest)
            .trim_end_matches('=')
    )
}

#[test]
fn request_signing() {
    let mut cfg = config(linear(3));
    cfg.secret_key = Some("sec-c-s3cr3t".into());
    cfg.auth_token = Some("tok en~1".into());
    cfg.filter_expression = Some(r#"meta.lang == "fr""#.into());
    let mut h = Harness::new(cfg);
    h.advance_by(Duration::from_secs(90));
    let _ = h.core.time(h.now);
    h.core
        .publish(
            Publish::new("ch ü~1", &serde_json::json!({"t": "hi there!~"})).unwrap(),
            h.now,
        )
        .unwrap();
    h.core
        .publish(
            Publish::new("c", &serde_json::json!([1, "two"]))
                .unwrap()
                .use_post(true),
            h.now,
        )
        .unwrap();
    h.core
        .subscribe(
            Subscribe::channels(["a b", "c"])
                .unwrap()
                .groups(["g1", "g2"])
                .unwrap(),
            h.now,
        )
        .unwrap();
    let sent = h.drain();
    assert_eq!(sent.len(), 4);
    for r in &sent {
        let q = decoded_query(r);
        let ts = decoded_param(r, "timestamp").expect("timestamp");
        assert_eq!(ts, (1_700_000_000u64 + 90).to_string());
        assert_eq!(decoded_param(r, "auth").as_deref(), Some("tok en~1"));
        let sig = decoded_param(r, "signature").expect("signature");
        let expected = reference_signature(
            "sec-c-s3cr3t",
            "pub",
            r.method.as_str(),
            r.path(),
            &q,
            r.body.as_deref().unwrap_or(b""),
        );
        assert_eq!(sig, expected, "{} {}", r.method.as_str(), r.path_and_query);
        assert!(sig.starts_with("v2.") && !sig.contains('='));
        // The signature is the last parameter, computed over all the others.
        assert_eq!(q.last().unwrap().0, "signature");
        // Changing anything breaks it.
        let tampered = reference_signature(
            "sec-c-s3cr3t",
            "pub",
            r.method.as_str(),
            &format!("{}x", r.path()),
            &q,
            b"",
        );
        assert_ne!(sig, tampered);
    }
    // Without a secret nothing is signed.
    let mut h = Harness::new(config(linear(3)));
    let _ = h.core.time(h.now);
    let r = h.expect_one("/time/0");
    assert_eq!(query_param(&r, "signature"), None);
    assert_eq!(query_param(&r, "timestamp"), None);
}

fn result_of(events: &[Event]) -> Vec<(pn_core::OperationId, Result<Outcome, pn_core::Error>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Result(r) => {
                assert_eq!(r.operation, Operation::Publish);
                Some((r.id, r.outcome.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The decoded message of a GET publish request.
fn published_message(r: &Request) -> String {
    pn_core::encoding::decode(r.path().rsplit('/').next().unwrap()).unwrap()
}

#[test]
fn reliable_publish_in_order_with_retry() {
    let mut cfg = config(linear(3));
    cfg.reliable_publish = Some(ReliablePublish {
        max_per_second: Some(5),
        duplicates: DuplicatePolicy::Accept,
        retry: RetryPolicy::Linear {
            delay: Duration::from_secs(2),
            max_retries: 3,
        },
        ..ReliablePublish::default()
    });
    let mut h = Harness::new(cfg);
    let start = h.now;
    let ops: Vec<_> = (1..=3)
        .map(|i| {
            h.core
                .publish(Publish::new("c", &i).unwrap(), h.now)
                .unwrap()
        })
        .collect();
    let mut sends: Vec<(Instant, String)> = Vec::new();
    let first = h.expect_one("/publish");
    assert_eq!(h.core.in_flight(), 1, "one at a time");
    sends.push((h.now, published_message(&first)));

    // A 500: retried (duplicates accepted) before the next one goes out.
    h.answer(first.id, Response::new(500, "{}"));
    assert!(h.drain().is_empty());
    assert!(result_of(&h.take_events()).is_empty(), "not done yet");
    assert!(h.advance());
    let retry = h.expect_one("/publish");
    sends.push((h.now, published_message(&retry)));
    assert_eq!(published_message(&retry), "1");
    assert!(h.now - start >= Duration::from_secs(2));
    h.answer(retry.id, published(11));
    let events = h.take_events();
    let results = result_of(&events);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].0, ops[0]);
    assert!(matches!(
        results[0].1,
        Ok(Outcome::Published(Timetoken(11)))
    ));

    // The rest, answered as soon as they are sent.
    let mut tt = 12;
    loop {
        for r in h.drain() {
            assert!(r.path().starts_with("/publish"));
            sends.push((h.now, published_message(&r)));
            h.answer(r.id, published(tt));
            tt += 1;
        }
        if !h.advance() {
            break;
        }
    }
    let order: Vec<&str> = sends.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(order, ["1", "1", "2", "3"]);
    let results = result_of(&h.take_events());
    assert_eq!(results.iter().map(|r| r.0).collect::<Vec<_>>(), ops[1..]);
    assert!(results.iter().all(|r| r.1.is_ok()));
    // At most five a second: distinct publishes at least 200 ms apart.
    for w in sends.windows(2).filter(|w| w[0].1 != w[1].1) {
        assert!(
            w[1].0 - w[0].0 >= Duration::from_millis(200),
            "{:?}",
            w[1].0 - w[0].0
        );
    }
}

#[test]
fn reliable_publish_never_duplicates() {
    let mut cfg = config(linear(3));
    cfg.reliable_publish = Some(ReliablePublish {
        duplicates: DuplicatePolicy::Never,
        ..ReliablePublish::default()
    });
    let mut h = Harness::new(cfg);
    let a = h
        .core
        .publish(Publish::new("c", &"a").unwrap(), h.now)
        .unwrap();
    let b = h
        .core
        .publish(Publish::new("c", &"b").unwrap(), h.now)
        .unwrap();
    let first = h.expect_one("/publish");
    // Connect failure: nothing reached the service, so it is retried.
    h.fail(first.id, TransportErrorKind::Connect);
    assert!(h.drain().is_empty());
    assert!(h.advance());
    let retry = h.expect_one("/publish");
    assert_eq!(published_message(&retry), "\"a\"");
    // Timeout: the service may have it; not retried, reported, the next one goes.
    h.fail(retry.id, TransportErrorKind::Timeout);
    let next = h.expect_one("/publish");
    assert_eq!(published_message(&next), "\"b\"");
    let results = result_of(&h.take_events());
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].0, a);
    assert!(matches!(
        &results[0].1,
        Err(pn_core::Error::Transport(t)) if t.kind == TransportErrorKind::Timeout
    ));
    // A 500 is not retried either.
    h.answer(next.id, Response::new(500, "{}"));
    let results = result_of(&h.take_events());
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].0, b);
    assert!(results[0].1.is_err());
    while h.advance() {}
    assert!(h.drain().is_empty());
}

#[test]
fn a_day_of_long_polls_in_microseconds() {
    let wall = Instant::now();
    let mut h = Harness::new(config(RetryPolicy::default_exponential()));
    let start = h.now;
    let mut rx = receiving(&mut h, &["a"], 1_000, 1);
    let mut requests = 1;
    let mut tt = 1_000;
    while h.now - start < Duration::from_secs(24 * 3600) {
        assert!(h.core.poll_timeout().unwrap() > h.now + Duration::from_secs(280));
        h.advance_by(Duration::from_secs(280));
        assert!(
            h.drain().is_empty(),
            "nothing fires while the long-poll waits"
        );
        tt += 2_800_000_000;
        h.answer(rx.id, subscribe_body(tt, 1, &[]));
        let sent = h.drain();
        assert_eq!(sent.len(), 1);
        assert_eq!(h.core.in_flight(), 1, "one long-poll at a time");
        rx = sent.into_iter().next().unwrap();
        assert_eq!(rx.kind, RequestKind::LongPoll);
        assert_eq!(query_param(&rx, "tt"), Some(tt.to_string().as_str()));
        requests += 1;
    }
    assert!((308..=311).contains(&requests), "{requests}");
    assert_eq!(h.statuses(), [Category::Connected]);
    assert!(h.cancelled.is_empty());
    eprintln!(
        "{requests} long-polls over 24 h of virtual time in {:?}",
        wall.elapsed()
    );
}

#[test]
fn an_unanswered_long_poll_times_out_and_is_retried() {
    let mut h = Harness::new(config(linear(3)));
    let rx = receiving(&mut h, &["a"], 100, 1);
    h.take_events();
    let sent_at = h.now;
    assert!(h.advance());
    assert_eq!(
        h.now - sent_at,
        Duration::from_secs(310) + pn_core::WATCHDOG_GRACE
    );
    let events = h.take_events();
    assert!(
        h.cancelled.contains(&rx.id),
        "the transport is told to drop it"
    );
    let s = statuses_of(&events);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].category, Category::UnexpectedDisconnect);
    assert!(h.advance());
    let retry = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&retry, "tt"), Some("100"));
    // The late answer to the timed-out request changes nothing.
    h.answer(rx.id, subscribe_body(999, 9, &[envelope("a", 998, "1")]));
    assert!(h.take_events().is_empty());
    assert_eq!(h.core.cursor().timetoken, Timetoken(100));
}

#[test]
fn an_unreadable_envelope_is_reported_and_the_rest_delivered() {
    let mut h = Harness::new(config(linear(3)));
    let rx = receiving(&mut h, &["a"], 10, 1);
    h.take_events();
    let bad = r#"{"c":"a","d":1}"#.to_owned();
    h.answer(
        rx.id,
        subscribe_body(11, 1, &[bad, envelope("a", 11, r#""ok""#)]),
    );
    let next = h.expect_one("/v2/subscribe");
    assert_eq!(query_param(&next, "tt"), Some("11"), "the cursor moved on");
    let events = h.take_events();
    let statuses: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Status(s) => Some(s.category),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, [Category::MalformedResponse]);
    let payloads: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m.payload.get().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(payloads, [r#""ok""#]);
}

#[test]
fn a_request_names_the_operation_it_serves() {
    let mut h = Harness::new(config(linear(3)));
    let op = h
        .core
        .publish(Publish::new("ch", &1).unwrap(), h.now)
        .unwrap();
    let publish = h.expect_one("/publish/");
    h.core
        .subscribe(Subscribe::channels(["ch"]).unwrap(), h.now)
        .unwrap();
    let handshake = h.expect_one("/v2/subscribe/");
    assert_eq!(h.core.operation_of(publish.id), Some(op));
    assert_eq!(
        h.core.operation_of(handshake.id),
        None,
        "a subscribe serves no operation"
    );
    h.answer(publish.id, published(17_000_000_000_000_000));
    assert_eq!(
        h.core.operation_of(publish.id),
        None,
        "answered: no longer in flight"
    );
}

#[test]
fn a_held_long_poll_is_left_alone_until_released() {
    let mut h = Harness::new(config(linear(3)));
    let receive = receiving(&mut h, &["ch"], 100, 1);
    let _connected = h.take_events();
    let watchdog = h.core.poll_timeout();
    assert!(watchdog.is_some(), "the receive has a watchdog");
    h.core.hold(receive.id);
    assert_eq!(
        h.core.poll_timeout(),
        None,
        "nothing to wait for while it is held"
    );
    // Far beyond the subscribe timeout: no timeout, no cancel, no status.
    h.now += Duration::from_secs(3600);
    h.core.handle_timeout(h.now);
    h.drain();
    assert!(h.cancelled.is_empty(), "{:?}", h.cancelled);
    assert_eq!(h.statuses(), []);
    assert!(
        h.core.release(receive.id, h.now),
        "unsigned: send the one held"
    );
    let timeout = h.core.config().subscribe_timeout;
    assert_eq!(
        h.core.poll_timeout(),
        Some(h.now + timeout + pn_core::WATCHDOG_GRACE),
        "the watchdog starts over when it is sent"
    );
    h.answer(
        receive.id,
        subscribe_body(200, 1, &[envelope("ch", 150, "1")]),
    );
    assert_eq!(
        messages(&h.take_events()).len(),
        1,
        "the answer still counts"
    );
}

#[test]
fn a_held_signed_long_poll_is_replaced_by_a_freshly_signed_one() {
    let mut c = config(linear(3));
    c.secret_key = Some("sec".into());
    let mut h = Harness::new(c);
    let receive = receiving(&mut h, &["ch"], 100, 1);
    h.core.hold(receive.id);
    h.now += Duration::from_secs(600);
    assert!(!h.core.release(receive.id, h.now), "not the stale one");
    let fresh = h.expect_one("/v2/subscribe");
    assert_eq!(h.cancelled, [receive.id], "the held one is dropped");
    assert_ne!(fresh.id, receive.id);
    assert_eq!(query_param(&fresh, "tt"), Some("100"), "same cursor");
    let stamp = |r: &Request| query_param(r, "timestamp").unwrap().parse::<u64>().unwrap();
    assert_eq!(
        stamp(&fresh) - stamp(&receive),
        600,
        "signed at release time"
    );
    assert_ne!(
        query_param(&fresh, "signature"),
        query_param(&receive, "signature")
    );
    h.answer(
        fresh.id,
        subscribe_body(101, 1, &[envelope("ch", 150, "1")]),
    );
    assert_eq!(messages(&h.take_events()).len(), 1);
}
