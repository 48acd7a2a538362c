//! Subscribe v2: handshake, long-poll, hold expiry, resume, queue cap, wildcard, groups, filters.

mod common;

use std::time::{Duration, Instant};

use common::*;
use pn_devserver::Options;
use serde_json::json;

#[test]
fn handshake_returns_only_a_cursor_in_the_configured_region() {
    let server = start(Options {
        region: 42,
        ..Options::default()
    });
    let reply = get(&server, "/v2/subscribe/demo/ch/0?tt=0&uuid=u");
    assert!(reply.body.starts_with("{\"t\":{\"t\":\""), "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["t"]["r"], 42);
    assert_eq!(body["m"], json!([]));
    assert_eq!(cursor(&body).len(), 17);
    let no_tt = subscribe(&server, "ch", "uuid=u");
    assert!(
        cursor(&no_tt) > cursor(&body),
        "a missing tt is a handshake too"
    );
}

#[test]
fn long_poll_wakes_on_publish_and_next_cursor_excludes_delivered_messages() {
    let server = start(Options::default());
    let tt = handshake(&server, "ch", "");
    let waiting = receive_async(&server, "ch", format!("tt={tt}&tr=1"));
    assert!(server.wait_for_subscribers("ch", 1, WAIT));
    let published = publish(&server, "ch", "\"hello\"", "uuid=p");
    let body = waiting.join().unwrap();
    assert_eq!(payloads(&body), vec![json!("hello")]);
    assert_eq!(body["m"][0]["p"]["t"], published.as_str());
    let next = cursor(&body);
    assert!(next >= published);
    let again = receive_async(&server, "ch", format!("tt={next}"));
    assert!(server.wait_for_subscribers("ch", 1, WAIT));
    publish(&server, "ch", "\"second\"", "");
    assert_eq!(payloads(&again.join().unwrap()), vec![json!("second")]);
}

#[test]
fn hold_expiry_answers_an_empty_list_with_a_fresh_cursor() {
    let server = start(Options {
        hold_time: Duration::from_millis(200),
        ..Options::default()
    });
    let tt = handshake(&server, "quiet", "");
    let started = Instant::now();
    let body = subscribe(&server, "quiet", &format!("tt={tt}"));
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(body["m"], json!([]));
    assert!(cursor(&body) >= tt);
}

#[test]
fn reconnect_from_last_cursor_gets_what_was_published_meanwhile() {
    let server = start(Options::default());
    let tt = handshake(&server, "ch", "");
    for i in 0..5 {
        publish(&server, "ch", &i.to_string(), "");
    }
    let body = subscribe(&server, "ch", &format!("tt={tt}&tr=1"));
    assert_eq!(
        payloads(&body),
        (0..5).map(|i| json!(i)).collect::<Vec<_>>()
    );
    // the same cursor again (e.g. the answer was lost) gets the same messages
    let replay = subscribe(&server, "ch", &format!("tt={tt}&tr=1"));
    assert_eq!(payloads(&replay).len(), 5);
}

#[test]
fn queue_cap_keeps_the_newest_messages() {
    let server = start(Options {
        queue_cap: 3,
        ..Options::default()
    });
    let tt = handshake(&server, "ch", "");
    for i in 0..10 {
        publish(&server, "ch", &i.to_string(), "");
    }
    let body = subscribe(&server, "ch", &format!("tt={tt}"));
    assert_eq!(payloads(&body), vec![json!(7), json!(8), json!(9)]);
}

#[test]
fn multiple_channels_are_merged_in_publish_order() {
    let server = start(Options::default());
    let tt = handshake(&server, "a,b", "");
    publish(&server, "b", "1", "");
    publish(&server, "a", "2", "");
    publish(&server, "other", "3", "");
    publish(&server, "b", "4", "");
    let body = subscribe(&server, "a,b", &format!("tt={tt}"));
    assert_eq!(payloads(&body), vec![json!(1), json!(2), json!(4)]);
}

#[test]
fn wildcard_matches_sub_channels_with_b_set_to_the_pattern() {
    let server = start(Options::default());
    let tt = handshake(&server, "sports.*", "");
    publish(&server, "sports.football", "\"goal\"", "");
    publish(&server, "sportsman", "\"no\"", "");
    publish(&server, "news.today", "\"no\"", "");
    let body = subscribe(&server, "sports.*", &format!("tt={tt}"));
    assert_eq!(payloads(&body), vec![json!("goal")]);
    assert_eq!(body["m"][0]["c"], "sports.football");
    assert_eq!(body["m"][0]["b"], "sports.*");
}

#[test]
fn channel_group_membership_is_evaluated_at_delivery_time() {
    let server = start(Options::default());
    let add = get(
        &server,
        "/v1/channel-registration/sub-key/demo/channel-group/g?add=c1",
    );
    assert_eq!(add.status, 200);
    let tt = handshake(&server, ",", "channel-group=g");
    let waiting = receive_async(&server, ",", format!("tt={tt}&channel-group=g"));
    assert!(server.wait_for_subscribers("g", 1, WAIT));
    get(
        &server,
        "/v1/channel-registration/sub-key/demo/channel-group/g?add=c2",
    );
    publish(&server, "c2", "\"via group\"", "");
    let body = waiting.join().unwrap();
    assert_eq!(body["m"][0]["c"], "c2");
    assert_eq!(body["m"][0]["b"], "g");
    get(
        &server,
        "/v1/channel-registration/sub-key/demo/channel-group/g?remove=c2",
    );
    let tt = cursor(&body);
    publish(&server, "c2", "\"not any more\"", "");
    publish(&server, "c1", "\"still\"", "");
    let body = subscribe(&server, ",", &format!("tt={tt}&channel-group=g"));
    assert_eq!(payloads(&body), vec![json!("still")]);
}

#[test]
fn direct_subscription_wins_over_group_and_gets_no_b() {
    let server = start(Options::default());
    get(
        &server,
        "/v1/channel-registration/sub-key/demo/channel-group/g?add=c",
    );
    let tt = handshake(&server, "c", "channel-group=g");
    publish(&server, "c", "1", "");
    let body = subscribe(&server, "c", &format!("tt={tt}&channel-group=g"));
    assert_eq!(body["m"].as_array().unwrap().len(), 1);
    assert!(body["m"][0].get("b").is_none());
}

#[test]
fn filter_expression_drops_non_matching_messages() {
    let server = start(Options::default());
    let filter = enc(r#"(meta.priority == "high") && (data.score > 80)"#);
    let tt = handshake(&server, "ch", &format!("filter-expr={filter}"));
    let meta = |p: &str| enc(&format!(r#"{{"priority":"{p}"}}"#));
    publish(
        &server,
        "ch",
        r#"{"score":90}"#,
        &format!("meta={}", meta("high")),
    );
    publish(
        &server,
        "ch",
        r#"{"score":90}"#,
        &format!("meta={}", meta("low")),
    );
    publish(
        &server,
        "ch",
        r#"{"score":10}"#,
        &format!("meta={}", meta("high")),
    );
    publish(&server, "ch", r#"{"score":99}"#, "");
    let body = subscribe(&server, "ch", &format!("tt={tt}&filter-expr={filter}"));
    assert_eq!(payloads(&body), vec![json!({"score": 90})]);
    assert_eq!(body["m"][0]["u"], json!({"priority": "high"}));
}

#[test]
fn bad_filter_expression_is_400() {
    let server = start(Options::default());
    let reply = get(
        &server,
        &format!(
            "/v2/subscribe/demo/ch/0?tt=0&filter-expr={}",
            enc("meta.a ==")
        ),
    );
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["status"], 400);
}

#[test]
fn presence_channel_events_carry_b_equal_to_c() {
    let server = start(Options::default());
    let tt = handshake(&server, "room-pnpres", "uuid=watcher");
    handshake(&server, "room", "uuid=alice");
    let body = subscribe(&server, "room-pnpres", &format!("tt={tt}"));
    let event = &body["m"][0];
    assert_eq!(event["c"], "room-pnpres");
    assert_eq!(event["b"], "room-pnpres");
    assert_eq!(event["d"]["action"], "join");
    assert_eq!(event["d"]["uuid"], "alice");
    assert_eq!(event["d"]["occupancy"], 1);
    assert!(event.get("i").is_none());
}

#[test]
fn many_parked_long_polls_all_receive_one_publish() {
    let server = start(Options::default());
    let tt = handshake(&server, "fan", "");
    let waiting: Vec<_> = (0..50)
        .map(|_| receive_async(&server, "fan", format!("tt={tt}")))
        .collect();
    assert!(server.wait_for_subscribers("fan", 50, WAIT));
    publish(&server, "fan", "\"all\"", "");
    for w in waiting {
        assert_eq!(payloads(&w.join().unwrap()), vec![json!("all")]);
    }
}

#[test]
fn garbage_cursor_and_empty_subscription_are_400() {
    let server = start(Options::default());
    assert_eq!(get(&server, "/v2/subscribe/demo/ch/0?tt=abc").status, 400);
    assert_eq!(get(&server, "/v2/subscribe/demo/,/0?tt=0").status, 400);
    let many = (0..1001)
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        get(&server, &format!("/v2/subscribe/demo/{many}/0?tt=0")).status,
        400
    );
}

#[test]
fn history_memory_budget_forgets_the_oldest_messages_first() {
    let server = start(Options {
        max_history_bytes: 4000,
        ..Options::default()
    });
    let tt = handshake(&server, "a,b", "");
    let big = format!("\"{}\"", "x".repeat(900));
    publish(&server, "a", &big, "");
    for _ in 0..3 {
        publish(&server, "b", &big, "");
    }
    publish(&server, "b", "\"last\"", "");
    let body = subscribe(&server, "a,b", &format!("tt={tt}"));
    let channels: Vec<&str> = body["m"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["c"].as_str().unwrap())
        .collect();
    assert!(
        !channels.contains(&"a"),
        "the oldest message was forgotten: {channels:?}"
    );
    assert_eq!(payloads(&body).last().unwrap(), &json!("last"));
}

#[test]
fn wildcard_subscribers_get_the_presence_of_the_wildcard_channel() {
    // recorded: subscribing to `nul-channel.*` delivers a join on `nul-channel.*-pnpres`, b = pattern
    let server = start(Options::default());
    let tt = handshake(&server, "w.*", "uuid=watcher");
    handshake(&server, "w.*", "uuid=other");
    let body = subscribe(&server, "w.*", &format!("tt={tt}"));
    let joins: Vec<&serde_json::Value> = body["m"].as_array().unwrap().iter().collect();
    assert_eq!(joins.len(), 2, "{body}");
    assert_eq!(joins[1]["c"], "w.*-pnpres");
    assert_eq!(joins[1]["b"], "w.*");
    assert_eq!(joins[1]["d"]["uuid"], "other");
}

#[test]
fn the_firehose_answers_every_receive_with_a_full_page_in_order() {
    let server = start(Options {
        firehose: Some("fh".into()),
        queue_cap: 5,
        ..Options::default()
    });
    let tt = handshake(&server, "fh", "uuid=u");
    assert_eq!(tt, pn_devserver::FIREHOSE_START.to_string());
    let first = subscribe(&server, "fh", &format!("tt={tt}&uuid=u"));
    let seqs = |body: &serde_json::Value| -> Vec<u64> {
        payloads(body)
            .iter()
            .map(|d| d["seq"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(seqs(&first), [0, 1, 2, 3, 4]);
    assert_eq!(first["m"][0]["c"], "fh");
    assert_eq!(first["m"][0]["i"], "firehose");
    let second = subscribe(&server, "fh", &format!("tt={}", cursor(&first)));
    assert_eq!(seqs(&second), [5, 6, 7, 8, 9]);
    // Any other subscription is an ordinary one: the firehose is only the channel alone.
    let mixed = handshake(&server, "fh,other", "");
    assert_ne!(mixed, pn_devserver::FIREHOSE_START.to_string());
    let plain = start(Options::default());
    assert_ne!(
        handshake(&plain, "fh", ""),
        pn_devserver::FIREHOSE_START.to_string()
    );
}
