//! Subscription lifecycle: unsubscribe-all resets the cursor, reconnect resumes without loss.

mod common;

use std::time::Duration;

use common::*;
use pn_blocking::pn_core::Category;
use pn_devserver::{Endpoint, Options};

fn payloads(ms: &[pn_blocking::pn_core::Message]) -> Vec<String> {
    ms.iter().map(|m| m.payload.get().to_owned()).collect()
}

#[test]
fn reconnect_delivers_what_was_published_while_disconnected_exactly_once() {
    let server = server(Options::default());
    let reader = client(&server, "reader");
    let writer = client(&server, "writer");
    let events = subscribed(&reader, "r");
    writer.publish("r", "before").send().expect("publish");
    assert_eq!(payloads(&messages(&events, 1)), ["\"before\""]);

    reader.disconnect().expect("disconnect");
    status(&events, Category::Disconnected);
    for i in 1..=3 {
        writer.publish("r", &i).send().expect("publish");
    }
    reader.reconnect().expect("reconnect");
    status(&events, Category::Reconnected);
    assert_eq!(payloads(&messages(&events, 3)), ["1", "2", "3"]);
    let more = drain_for(&events, Duration::from_millis(300));
    assert!(
        !more.iter().any(is_published),
        "duplicates: {}",
        describe(&more)
    );
    reader.close();
    writer.close();
}

#[test]
fn unsubscribe_all_resets_the_cursor() {
    let server = server(Options::default());
    let reader = client(&server, "reader");
    let writer = client(&server, "writer");
    let events = subscribed(&reader, "u");
    writer.publish("u", "one").send().expect("publish");
    assert_eq!(payloads(&messages(&events, 1)), ["\"one\""]);

    reader.unsubscribe_all().expect("unsubscribe_all");
    status(&events, Category::Disconnected);
    writer.publish("u", "missed").send().expect("publish");
    let before = server.faults().request_count(Endpoint::Subscribe);
    reader.subscribe_to(&["u"]).expect("subscribe again");
    status(&events, Category::Connected);

    // The first subscribe after the reset is a fresh handshake (tt=0), so what was published
    // in between is not caught up.
    let handshake = server
        .faults()
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::Subscribe)
        .nth(before as usize)
        .expect("new handshake recorded");
    assert!(
        handshake.path_and_query.contains("tt=0"),
        "{}",
        handshake.path_and_query
    );
    writer.publish("u", "fresh").send().expect("publish");
    assert_eq!(payloads(&messages(&events, 1)), ["\"fresh\""]);
    reader.close();
    writer.close();
}

#[test]
fn a_subscription_change_aborts_the_parked_long_poll() {
    // With the service's 280 s hold, the new long-poll could only start this soon if the old
    // one was aborted.
    let server = server(Options::default());
    let reader = client(&server, "reader");
    let writer = client(&server, "writer");
    let events = subscribed(&reader, "first");
    assert!(server.wait_for_subscribers("first", 1, WAIT));
    reader.subscribe_to(&["second"]).expect("subscribe more");
    status(&events, Category::SubscriptionChanged);
    assert!(server.wait_for_subscribers("second", 1, WAIT));
    writer.publish("second", "new").send().expect("publish");
    writer.publish("first", "old").send().expect("publish");
    let got = messages(&events, 2);
    assert_eq!(payloads(&got), ["\"new\"", "\"old\""]);
    reader.close();
    writer.close();
}
