//! Publish and subscribe through the dev server: payloads, groups, wildcards, presence.

mod common;

use common::*;
use pn_blocking::pn_core::{Category, MessageKind, PresenceAction, Subscribe};
use pn_blocking::{Client, Event};
use pn_devserver::Options;
use serde_json::json;

#[test]
fn publish_then_receive_with_channel_publisher_and_timetoken() {
    let server = server(Options::default());
    let reader = client(&server, "reader");
    let writer = client(&server, "writer");
    let events = subscribed(&reader, "chat");

    let tt = writer
        .publish("chat", &json!({"text": "hi"}))
        .meta(&json!({"lang": "en"}))
        .custom_message_type("chat-msg")
        .send()
        .expect("publish");
    let posted = writer
        .publish("chat", "by post")
        .use_post(true)
        .store(false)
        .ttl(2)
        .send()
        .expect("publish by POST");
    assert!(posted > tt);

    let got = messages(&events, 2);
    assert_eq!(got[0].kind, MessageKind::Message);
    assert_eq!(got[0].channel.as_str(), "chat");
    assert_eq!(got[0].subscription, None);
    assert_eq!(got[0].publisher.as_deref(), Some("writer"));
    assert_eq!(got[0].timetoken, tt);
    assert_eq!(
        got[0].parse::<serde_json::Value>().unwrap(),
        json!({"text": "hi"})
    );
    assert_eq!(
        got[0].user_metadata.as_ref().map(|m| m.get()),
        Some(r#"{"lang":"en"}"#)
    );
    assert_eq!(got[0].custom_message_type.as_deref(), Some("chat-msg"));
    assert_eq!(got[1].payload.get(), "\"by post\"");
    assert_eq!(got[1].timetoken, posted);

    let signal_tt = writer.signal("chat", &1).send().expect("signal");
    let sig = messages(&events, 1);
    assert_eq!(sig[0].kind, MessageKind::Signal);
    assert_eq!(sig[0].timetoken, signal_tt);

    reader.close();
    writer.close();
}

#[test]
fn channel_group_and_wildcard_deliveries_name_their_subscription() {
    let server = server(Options::default());
    let reader = client(&server, "reader");
    let writer = client(&server, "writer");
    reader
        .add_channels_to_group("g1", &["g-chan", "other"])
        .expect("add to group");
    let mut listed: Vec<String> = reader
        .list_group_channels("g1")
        .expect("list")
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, ["g-chan", "other"]);

    let events = reader.listen();
    let sub = Subscribe::channels(["news.*"])
        .and_then(|s| s.groups(["g1"]))
        .expect("names");
    reader.subscribe(sub).expect("subscribe");
    status(&events, Category::Connected);

    writer
        .publish("g-chan", "via group")
        .send()
        .expect("publish");
    let m = messages(&events, 1).remove(0);
    assert_eq!(m.channel.as_str(), "g-chan");
    assert_eq!(m.subscription.as_ref().map(|s| s.as_str()), Some("g1"));

    writer
        .publish("news.sport", "via wildcard")
        .send()
        .expect("publish");
    let m = messages(&events, 1).remove(0);
    assert_eq!(m.channel.as_str(), "news.sport");
    assert_eq!(m.subscription.as_ref().map(|s| s.as_str()), Some("news.*"));

    reader
        .remove_channels_from_group("g1", &["other"])
        .expect("remove");
    assert_eq!(reader.list_group_channels("g1").expect("list").len(), 1);
    reader.delete_group("g1").expect("delete");
    reader.close();
    writer.close();
}

#[test]
fn presence_join_leave_and_presence_queries() {
    let server = server(Options::default());
    let watcher = client(&server, "watcher");
    let visitor = client(&server, "visitor");
    let events = watching(&watcher, "room");

    visitor.subscribe_to(&["room"]).expect("visitor subscribe");
    let join = until(&events, |e| {
        matches!(e, Event::Message(m) if m.presence().is_some_and(|p|
            p.action == PresenceAction::Join && p.uuid.as_deref() == Some("visitor")))
    });
    let Some(Event::Message(join)) = join.last() else {
        unreachable!()
    };
    assert_eq!(join.channel.as_str(), "room");

    let here = visitor.here_now(&["room"]).send().expect("here_now");
    let room = here
        .channels
        .iter()
        .find(|c| c.channel.as_str() == "room")
        .expect("room listed");
    let mut uuids: Vec<&str> = room.occupants.iter().map(|o| o.uuid.as_str()).collect();
    uuids.sort();
    assert_eq!(uuids, ["visitor", "watcher"]);
    assert_eq!(room.occupancy, 2);

    let where_now = watcher
        .where_now()
        .uuid("visitor")
        .send()
        .expect("where_now");
    assert_eq!(
        where_now.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        ["room"]
    );

    let stored = visitor
        .set_state(&["room"], &json!({"mood": "curious"}))
        .send()
        .expect("set_state");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(stored.get()).unwrap(),
        json!({"mood": "curious"})
    );
    let state = watcher
        .get_state(&["room"])
        .uuid("visitor")
        .send()
        .expect("get_state");
    assert_eq!(state.len(), 1);
    assert_eq!(state[0].0.as_str(), "room");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(state[0].1.get()).unwrap(),
        json!({"mood": "curious"})
    );

    visitor.unsubscribe_from(&["room"]).expect("unsubscribe");
    until(&events, |e| {
        matches!(e, Event::Message(m) if m.presence().is_some_and(|p|
            p.action == PresenceAction::Leave && p.uuid.as_deref() == Some("visitor")))
    });
    watcher.close();
    visitor.close();
}

#[test]
fn time_and_argument_errors() {
    let server = server(Options::default());
    let c = client(&server, "u");
    assert!(c.time().expect("time").get() > 15_000_000_000_000_000);
    assert!(matches!(
        c.publish("", "x").send(),
        Err(pn_blocking::ClientError::Command(_))
    ));
    assert!(matches!(
        c.publish("ch", "x").meta(&[1]).send(),
        Err(pn_blocking::ClientError::Command(_))
    ));
    assert!(matches!(
        Client::builder().user_id("u").build(),
        Err(pn_blocking::ClientError::Config(_))
    ));
    c.close();
    assert_eq!(c.time(), Err(pn_blocking::ClientError::Closed));
}
