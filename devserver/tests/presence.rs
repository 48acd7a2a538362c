//! Presence: join, leave, timeout, state-change, interval, here-now, where-now, state, heartbeat.

mod common;

use std::time::Duration;

use common::*;
use pn_devserver::Options;
use serde_json::{Value, json};

/// Presence events on `ch-pnpres` after `tt`, as `d` objects.
fn events(server: &pn_devserver::DevServer, ch: &str, tt: &str) -> Vec<Value> {
    payloads(&subscribe(
        server,
        &format!("{ch}-pnpres"),
        &format!("tt={tt}"),
    ))
}

#[test]
fn join_and_leave_events_with_occupancy() {
    let server = start(Options::default());
    let tt = handshake(&server, "room-pnpres", "uuid=watcher");
    handshake(&server, "room", "uuid=alice");
    handshake(&server, "room", "uuid=bob");
    handshake(&server, "room", "uuid=alice"); // already present: no second join
    let leave = get(
        &server,
        "/v2/presence/sub-key/demo/channel/room/leave?uuid=alice",
    );
    assert_eq!(
        leave.body,
        r#"{"status": 200, "action": "leave", "message": "OK", "service": "Presence"}"#
    );
    let got = events(&server, "room", &tt);
    let summary: Vec<(String, String, u64)> = got
        .iter()
        .map(|d| {
            (
                d["action"].as_str().unwrap().into(),
                d["uuid"].as_str().unwrap().into(),
                d["occupancy"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("join".into(), "alice".into(), 1),
            ("join".into(), "bob".into(), 2),
            ("leave".into(), "alice".into(), 1)
        ]
    );
    assert!(got[0]["timestamp"].as_u64().unwrap() > 1_700_000_000);
}

#[test]
fn subscriber_sees_its_own_join_after_the_handshake() {
    let server = start(Options::default());
    let tt = handshake(&server, "room,room-pnpres", "uuid=me");
    let body = subscribe(&server, "room,room-pnpres", &format!("tt={tt}&uuid=me"));
    assert_eq!(body["m"][0]["d"]["action"], "join");
    assert_eq!(body["m"][0]["d"]["uuid"], "me");
}

#[test]
fn timeout_after_the_heartbeat_period_without_activity() {
    let server = start(Options::default());
    let tt = handshake(&server, "room-pnpres", "uuid=watcher");
    handshake(&server, "room", "uuid=ghost&heartbeat=1");
    assert!(server.wait_for_presence("demo", "room", "ghost", true, WAIT));
    assert!(server.wait_for_presence("demo", "room", "ghost", false, Duration::from_secs(5)));
    let got = events(&server, "room", &tt);
    assert_eq!(got[1]["action"], "timeout");
    assert_eq!(got[1]["uuid"], "ghost");
    assert_eq!(got[1]["occupancy"], 0);
}

#[test]
fn heartbeat_endpoint_keeps_presence_and_joins() {
    let server = start(Options::default());
    let reply = get(
        &server,
        "/v2/presence/sub-key/demo/channel/a,b/heartbeat?heartbeat=60&uuid=hb",
    );
    assert_eq!(
        reply.body,
        r#"{"status": 200, "message": "OK", "service": "Presence"}"#
    );
    let where_now = get(&server, "/v2/presence/sub-key/demo/uuid/hb").json();
    assert_eq!(where_now["payload"]["channels"], json!(["a", "b"]));
}

#[test]
fn state_change_event_and_get_set_state_bodies() {
    let server = start(Options::default());
    let tt = handshake(&server, "room-pnpres", "uuid=watcher");
    handshake(&server, "room", "uuid=alice");
    let state = enc(r#"{"mood":"happy"}"#);
    let set = get(
        &server,
        &format!("/v2/presence/sub-key/demo/channel/room/uuid/alice/data?state={state}"),
    );
    assert_eq!(
        set.body,
        r#"{"status": 200, "message": "OK", "payload": {"mood": "happy"}, "service": "Presence"}"#
    );
    let single = get(&server, "/v2/presence/sub-key/demo/channel/room/uuid/alice").json();
    assert_eq!(
        single,
        json!({"status": 200, "uuid": "alice", "service": "Presence", "message": "OK", "payload": {"mood": "happy"}, "channel": "room"})
    );
    let multi = get(
        &server,
        "/v2/presence/sub-key/demo/channel/room,other/uuid/alice",
    )
    .json();
    assert_eq!(
        multi["payload"]["channels"]["room"],
        json!({"mood": "happy"})
    );
    assert_eq!(multi["payload"]["channels"]["other"], json!({}));
    assert_eq!(multi["uuid"], "alice");
    let got = events(&server, "room", &tt);
    assert_eq!(got[1]["action"], "state-change");
    assert_eq!(got[1]["data"], json!({"mood": "happy"}));
    let bad = get(
        &server,
        "/v2/presence/sub-key/demo/channel/room/uuid/alice/data?state=%7Bnope",
    );
    assert_eq!(bad.status, 400);
}

#[test]
fn subscribe_state_is_stored_and_sent_with_the_join() {
    let server = start(Options::default());
    let tt = handshake(&server, "room-pnpres", "uuid=watcher");
    let state = enc(r#"{"room":{"age":3}}"#);
    handshake(&server, "room", &format!("uuid=kid&state={state}"));
    assert_eq!(events(&server, "room", &tt)[0]["data"], json!({"age": 3}));
    let here = get(&server, "/v2/presence/sub-key/demo/channel/room?state=1").json();
    assert_eq!(here["uuids"], json!([{"state": {"age": 3}, "uuid": "kid"}]));
}

#[test]
fn here_now_single_multi_global_and_disable_uuids() {
    let server = start(Options::default());
    handshake(&server, "a,b", "uuid=u1");
    handshake(&server, "a", "uuid=u2");
    let single = get(&server, "/v2/presence/sub-key/demo/channel/a");
    assert_eq!(
        single.body,
        r#"{"status": 200, "message": "OK", "service": "Presence", "uuids": ["u1", "u2"], "occupancy": 2}"#
    );
    let multi = get(&server, "/v2/presence/sub-key/demo/channel/a,b").json();
    assert_eq!(
        multi["payload"]["channels"]["b"],
        json!({"uuids": ["u1"], "occupancy": 1})
    );
    assert_eq!(multi["payload"]["total_channels"], 2);
    assert_eq!(multi["payload"]["total_occupancy"], 3);
    let global = get(&server, "/v2/presence/sub_key/demo").json();
    assert_eq!(global["payload"]["total_occupancy"], 3);
    let counts = get(
        &server,
        "/v2/presence/sub-key/demo/channel/a?disable_uuids=1",
    )
    .json();
    assert_eq!(
        counts,
        json!({"status": 200, "message": "OK", "service": "Presence", "occupancy": 2})
    );
    let with_state = get(&server, "/v2/presence/sub-key/demo/channel/a?state=1").json();
    assert_eq!(with_state["uuids"], json!([{"uuid": "u1"}, {"uuid": "u2"}]));
}

#[test]
fn here_now_and_presence_through_a_channel_group() {
    let server = start(Options::default());
    get(
        &server,
        "/v1/channel-registration/sub-key/demo/channel-group/g?add=c1,c2",
    );
    let tt = handshake(&server, ",", "uuid=watcher&channel-group=g-pnpres");
    handshake(&server, ",", "uuid=member&channel-group=g");
    let here = get(
        &server,
        "/v2/presence/sub-key/demo/channel/,?channel-group=g",
    )
    .json();
    assert_eq!(here["payload"]["total_channels"], 2);
    let body = subscribe(&server, ",", &format!("tt={tt}&channel-group=g-pnpres"));
    let first = &body["m"][0];
    assert_eq!(first["c"], "c1-pnpres");
    assert_eq!(first["b"], "g-pnpres");
    assert_eq!(first["d"]["uuid"], "member");
}

#[test]
fn interval_mode_above_announce_max() {
    let server = start(Options {
        announce_max: 2,
        interval: Duration::from_millis(200),
        ..Options::default()
    });
    let tt = handshake(&server, "busy-pnpres", "uuid=watcher");
    for u in ["u1", "u2", "u3", "u4"] {
        handshake(&server, "busy", &format!("uuid={u}"));
    }
    let mut cursor_tt = tt;
    let mut seen = Vec::new();
    for _ in 0..20 {
        if seen.iter().any(|d: &Value| d["action"] == "interval") {
            break;
        }
        let body = subscribe(&server, "busy-pnpres", &format!("tt={cursor_tt}"));
        seen.extend(payloads(&body));
        cursor_tt = cursor(&body);
    }
    let singles: Vec<&Value> = seen.iter().filter(|d| d["action"] == "join").collect();
    assert_eq!(singles.len(), 2);
    let interval = seen.iter().find(|d| d["action"] == "interval").unwrap();
    assert_eq!(interval["occupancy"], 4);
    assert_eq!(interval["join"], json!(["u3", "u4"]));
    assert!(interval.get("leave").is_none());
}

#[test]
fn interval_lists_too_large_become_here_now_refresh() {
    let server = start(Options {
        announce_max: 0,
        interval: Duration::from_millis(100),
        interval_max_list_bytes: 5,
        ..Options::default()
    });
    let tt = handshake(&server, "big-pnpres", "");
    handshake(&server, "big", "uuid=someone-with-a-long-name");
    let mut body = subscribe(&server, "big-pnpres", &format!("tt={tt}"));
    while body["m"].as_array().unwrap().is_empty() {
        body = subscribe(&server, "big-pnpres", &format!("tt={}", cursor(&body)));
    }
    let d = &body["m"][0]["d"];
    assert_eq!(d["action"], "interval");
    assert_eq!(d["here_now_refresh"], true);
    assert!(d.get("join").is_none());
}

#[test]
fn where_now_lists_channels_and_is_empty_for_strangers() {
    let server = start(Options::default());
    handshake(&server, "x,y", "uuid=w");
    let body = get(&server, "/v2/presence/sub-key/demo/uuid/w");
    assert_eq!(
        body.body,
        r#"{"status": 200, "message": "OK", "payload": {"channels": ["x", "y"]}, "service": "Presence"}"#
    );
    let none = get(&server, "/v2/presence/sub-key/demo/uuid/nobody").json();
    assert_eq!(none["payload"]["channels"], json!([]));
}
