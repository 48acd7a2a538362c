//! Publish, POST publish, signal, fire and time.

mod common;

use common::*;
use pn_devserver::Options;

#[test]
fn publish_get_answers_sent_with_a_17_digit_timetoken_and_service_headers() {
    let server = start(Options::default());
    let reply = get(&server, "/publish/demo/demo/0/ch/0/%22hey%22?uuid=me");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/javascript; charset=\"UTF-8\"")
    );
    let body = reply.json();
    assert_eq!(body[0], 1);
    assert_eq!(body[1], "Sent");
    let tt = body[2].as_str().unwrap();
    assert_eq!(tt.len(), 17);
    assert!(reply.body.starts_with("[1,\"Sent\",\""));
}

#[test]
fn timetokens_strictly_increase() {
    let server = start(Options::default());
    let a: u64 = publish(&server, "ch", "1", "").parse().unwrap();
    let b: u64 = publish(&server, "ch", "2", "").parse().unwrap();
    let t = get(&server, "/time/0").json()[0].as_u64().unwrap();
    assert!(a < b && b < t, "{a} {b} {t}");
}

#[test]
fn envelope_carries_publisher_seqn_meta_and_custom_type() {
    let server = start(Options::default());
    let cursor = handshake(&server, "ch", "uuid=listener");
    let meta = enc(r#"{"k":"v"}"#);
    publish(
        &server,
        "ch",
        r#"{"text":"hi"}"#,
        &format!(
            "uuid=pub&seqn=7&meta={meta}&custom_message_type=greeting&store=0&ttl=5&norep=true"
        ),
    );
    let reply = get(
        &server,
        &format!("/v2/subscribe/demo/ch/0?tt={cursor}&tr=1&uuid=listener"),
    );
    let body = reply.json();
    let m = &body["m"][0];
    assert_eq!(m["i"], "pub");
    assert_eq!(m["s"], 7);
    assert_eq!(m["u"], serde_json::json!({"k": "v"}));
    assert_eq!(m["cmt"], "greeting");
    assert_eq!(m["d"], serde_json::json!({"text": "hi"}));
    assert_eq!(m["c"], "ch");
    assert_eq!(m["k"], "demo");
    assert!(m.get("e").is_none() && m.get("b").is_none());
    assert_eq!(m["p"]["t"].as_str().unwrap().len(), 17);
    // field order as the service sends it
    let keys = [
        "\"a\":", "\"f\":", "\"i\":", "\"s\":", "\"p\":", "\"k\":", "\"c\":", "\"u\":", "\"d\":",
        "\"cmt\":",
    ];
    let envelope = &reply.body[reply.body.find("\"m\":[").unwrap()..];
    let positions: Vec<usize> = keys.iter().map(|k| envelope.find(k).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{envelope}");
}

#[test]
fn post_publish_signal_and_fire() {
    let server = start(Options::default());
    let cursor = handshake(&server, "ch", "");
    let reply = request(
        server.addr(),
        "POST",
        "/publish/demo/demo/0/ch/0?uuid=poster",
        Some(r#"{"via":"post"}"#),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let signal = get(
        &server,
        "/signal/demo/demo/0/ch/0/%22ping%22?uuid=sig&custom_message_type=beat",
    );
    assert_eq!(signal.json()[1], "Sent");
    let fire = get(
        &server,
        "/publish/demo/demo/0/ch/0/%22fired%22?store=0&norep=1",
    );
    assert_eq!(fire.json()[0], 1);
    let body = subscribe(&server, "ch", &format!("tt={cursor}"));
    assert_eq!(
        payloads(&body),
        vec![
            serde_json::json!({"via": "post"}),
            "ping".into(),
            "fired".into()
        ]
    );
    assert_eq!(body["m"][1]["e"], 1);
    assert_eq!(body["m"][1]["cmt"], "beat");
    assert!(body["m"][1].get("s").is_none());
    assert!(body["m"][0].get("e").is_none());
}

#[test]
fn plus_in_path_is_literal_and_percent_20_is_space() {
    let server = start(Options::default());
    let cursor = handshake(&server, "a+b%20c", "");
    get(&server, "/publish/demo/demo/0/a+b%20c/0/%22x+y%20z%22");
    let body = subscribe(&server, "a+b%20c", &format!("tt={cursor}"));
    assert_eq!(body["m"][0]["c"], "a+b c");
    assert_eq!(body["m"][0]["d"], "x+y z");
}

#[test]
fn invalid_json_is_400_with_the_array_body() {
    let server = start(Options::default());
    let reply = get(&server, "/publish/demo/demo/0/ch/0/%7Bnope");
    assert_eq!(reply.status, 400);
    let body = reply.json();
    assert_eq!(body[0], 0);
    assert_eq!(body[1], "Invalid JSON");
    assert_eq!(body[2].as_str().unwrap().len(), 17);
    let post = request(
        server.addr(),
        "POST",
        "/publish/demo/demo/0/ch/0",
        Some("not json"),
    );
    assert_eq!(post.status, 400);
}

#[test]
fn oversized_publish_is_413_counting_the_escaped_channel_and_message() {
    let server = start(Options {
        max_message_size: 100,
        ..Options::default()
    });
    // "ch" (2) + escaped "\"xxxx…\"" (6 + n): 2 + 6 + 92 = 100 fits, 93 does not
    let fits = format!("%22{}%22", "x".repeat(92));
    assert_eq!(
        get(&server, &format!("/publish/demo/demo/0/ch/0/{fits}")).status,
        200
    );
    let big = format!("%22{}%22", "x".repeat(93));
    let reply = get(&server, &format!("/publish/demo/demo/0/ch/0/{big}"));
    assert_eq!(reply.status, 413);
    assert_eq!(reply.json()[1], "Message Too Large");
}

#[test]
fn oversized_signal_is_400() {
    let server = start(Options::default());
    let reply = get(
        &server,
        &format!("/signal/demo/demo/0/ch/0/%22{}%22", "x".repeat(100)),
    );
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()[1], "Signal size too large");
}

#[test]
fn time_is_a_bare_17_digit_number() {
    let server = start(Options::default());
    let reply = get(&server, "/time/0");
    assert_eq!(reply.status, 200);
    assert!(
        reply.body.starts_with('[') && reply.body.len() == 19,
        "{}",
        reply.body
    );
    assert_eq!(reply.json()[0].as_u64().unwrap().to_string().len(), 17);
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let server = start(Options::default());
    let replies = keep_alive(
        server.addr(),
        &["/time/0", "/publish/demo/demo/0/c/0/1", "/time/0"],
    );
    assert!(replies.iter().all(|r| r.status == 200));
}
