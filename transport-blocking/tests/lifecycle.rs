//! Listeners and callbacks, and shutdown: close joins every thread, drop never waits for a
//! parked long-poll.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use pn_blocking::pn_core::{Category, PresenceAction};
use pn_blocking::{ClientError, Event};
use pn_devserver::{Endpoint, Fault, FaultRule, Options, Target};

fn message_payload(e: &Event) -> Option<String> {
    match e {
        Event::Message(m) => Some(m.payload.get().to_owned()),
        _ => None,
    }
}

#[test]
fn callbacks_are_added_and_removed() {
    let server = server(Options::default());
    let reader = client(&server, "reader");
    let writer = client(&server, "writer");
    let (first_tx, first_rx) = mpsc::channel();
    let (second_tx, second_rx) = mpsc::channel();
    let first = reader.add_listener(move |e| {
        if let Some(p) = message_payload(e) {
            let _ = first_tx.send(p);
        }
    });
    // A callback may use the client, blocking calls included.
    let inner = reader.clone();
    let second = reader.add_listener(move |e| {
        if let Some(p) = message_payload(e) {
            let time = inner.time().map(|t| t.get() > 0);
            let _ = second_tx.send((p, time));
        }
    });
    let _events = subscribed(&reader, "cb");

    writer.publish("cb", "a").send().expect("publish");
    assert_eq!(first_rx.recv_timeout(WAIT).as_deref(), Ok("\"a\""));
    assert_eq!(
        second_rx.recv_timeout(WAIT),
        Ok(("\"a\"".to_owned(), Ok(true)))
    );

    assert!(reader.remove_listener(first));
    assert!(!reader.remove_listener(first));
    writer.publish("cb", "b").send().expect("publish");
    // The dispatcher handles callbacks in order per event: once the second has "b", the
    // removed first one was passed over.
    assert_eq!(
        second_rx.recv_timeout(WAIT),
        Ok(("\"b\"".to_owned(), Ok(true)))
    );
    assert!(first_rx.try_recv().is_err());
    assert!(reader.remove_listener(second));
    // The second callback held a clone of the client: close ends the session regardless.
    reader.close();
    writer.close();
}

#[test]
fn every_listener_gets_every_event_from_its_creation_and_ends_at_close() {
    let server = server(Options::default());
    let reader = client(&server, "reader");
    let writer = client(&server, "writer");
    let early = subscribed(&reader, "l");
    writer.publish("l", &1).send().expect("publish");
    messages(&early, 1);
    let late = reader.listen();
    let dropped = reader.listen();
    drop(dropped);
    writer.publish("l", &2).send().expect("publish");
    assert_eq!(messages(&early, 1)[0].payload.get(), "2");
    assert_eq!(messages(&late, 1)[0].payload.get(), "2");
    reader.close();
    // After close the iterators end (once the events already queued are taken).
    let rest: Vec<Event> = late.collect();
    assert!(
        rest.iter()
            .all(|e| matches!(e, Event::Status(s) if s.category == Category::Disconnected)),
        "{}",
        describe(&rest)
    );
    writer.close();
}

#[test]
fn close_leaves_joins_every_thread_and_fails_later_calls() {
    let server = server(Options::default());
    let watcher = client(&server, "watcher");
    let events = watching(&watcher, "room");

    let leaver = client(&server, "leaver");
    leaver.add_listener(|_| {});
    leaver.subscribe_to(&["room"]).expect("subscribe");
    assert!(server.wait_for_subscribers("room", 2, WAIT));
    let threads = leaver.threads();
    assert_eq!(threads.live(), pn_blocking::DEFAULT_WORKERS + 3);

    let started = Instant::now();
    leaver.close();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(threads.live(), 0, "close returned with threads running");
    until(&events, |e| {
        matches!(e, Event::Message(m) if m.presence().is_some_and(|p|
            p.action == PresenceAction::Leave && p.uuid.as_deref() == Some("leaver")))
    });
    assert_eq!(leaver.time(), Err(ClientError::Closed));
    assert_eq!(leaver.subscribe_to(&["x"]), Err(ClientError::Closed));
    leaver.close();
    watcher.close();
}

#[test]
fn close_is_bounded_by_the_request_timeout_when_the_leave_stalls() {
    let server = server(Options::default());
    let c = builder(&server, "u")
        .request_timeout(Duration::from_millis(500))
        .build()
        .expect("client");
    let _events = subscribed(&c, "s");
    server
        .faults()
        .inject(FaultRule::new(Fault::Stall, Target::Next(1)).on(Endpoint::Presence));
    let threads = c.threads();
    let started = Instant::now();
    c.close();
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(threads.live(), 0);
}

#[test]
fn dropping_the_last_handle_does_not_wait_for_a_parked_long_poll() {
    let server = server(Options::default());
    let c = client(&server, "u");
    let events = subscribed(&c, "parked");
    assert!(server.wait_for_subscribers("parked", 1, WAIT));
    let threads = c.threads();
    let clone = c.clone();
    drop(c);
    assert!(threads.live() > 0, "a clone keeps the session");
    let started = Instant::now();
    drop(clone);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The threads finish on their own: the leave is answered, the long-poll aborted.
    assert!(
        threads.wait_idle(Duration::from_secs(5)),
        "{} left",
        threads.live()
    );
    assert!(events.count() <= 1, "the listener ends");
}

#[test]
fn heartbeats_follow_the_cores_timer() {
    let server = server(Options::default());
    let c = builder(&server, "beating")
        .presence_timeout(20)
        .heartbeat_interval(1)
        .build()
        .expect("client");
    let _events = subscribed(&c, "hb");
    let before = server.faults().request_count(Endpoint::Presence);
    // Nothing but the core's deadline wakes the driver for these.
    assert!(server.faults().wait_for_requests(
        Endpoint::Presence,
        before + 2,
        Duration::from_secs(5)
    ));
    let beats = server
        .faults()
        .requests()
        .into_iter()
        .filter(|r| r.path_and_query.contains("/heartbeat"))
        .count();
    assert!(beats >= 2, "{beats} heartbeats");
    c.close();
}

#[test]
fn a_callers_request_never_waits_behind_background_requests() {
    let server = server(Options::default());
    server
        .faults()
        .inject(FaultRule::new(Fault::Stall, Target::Next(1)).on(Endpoint::Presence));
    let c = builder(&server, "busy")
        .worker_threads(1)
        .presence_timeout(20)
        .heartbeat_interval(1)
        .request_timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let _events = subscribed(&c, "hb");
    // The only worker now holds a heartbeat the server never answers (for up to a minute).
    assert!(
        server
            .faults()
            .wait_for_requests(Endpoint::Presence, 1, WAIT)
    );
    let (tx, rx) = mpsc::channel();
    let publisher = c.clone();
    std::thread::spawn(move || {
        let _ = tx.send(publisher.publish("hb", &"through").send());
    });
    let published = rx
        .recv_timeout(WAIT)
        .expect("the publish did not queue behind the worker");
    assert!(published.is_ok(), "{published:?}");
    assert_eq!(server.faults().request_count(Endpoint::Publish), 1);
    // Dropped, not closed: closing would wait for the leave queued behind the stalled worker.
    drop(c);
}

#[test]
fn a_listener_that_falls_behind_holds_the_subscription_back_and_loses_nothing() {
    let server = server(Options {
        firehose: Some("fh".into()),
        ..Options::default()
    });
    let c = client(&server, "slow");
    let events = subscribed(&c, "fh");
    // Unread, the listener fills a page of 100 per receive; past HOLD_BACK_ABOVE (512) events
    // the next long-poll waits: handshake + 6 receives (600 events), and no more.
    let receives = |n, within| {
        server
            .faults()
            .wait_for_requests(Endpoint::Subscribe, n, within)
    };
    assert!(
        receives(7, WAIT),
        "six receives fill the listener past the bound"
    );
    assert!(
        !receives(8, Duration::from_millis(300)),
        "the seventh waits for room"
    );
    assert_eq!(
        c.inspect(|core| core.poll_timeout()),
        None,
        "however long it waits, the held long-poll is not timed out"
    );
    for seq in 0..2000_u64 {
        let payload = until(&events, |e| matches!(e, Event::Message(_)))
            .into_iter()
            .find_map(|e| message_payload(&e))
            .expect("a message");
        let value: serde_json::Value = serde_json::from_str(&payload).expect("JSON");
        assert_eq!(value["seq"], seq, "every message, in order");
    }
    assert!(
        receives(20, WAIT),
        "reading made room: the subscription went on"
    );
    c.close();
}
