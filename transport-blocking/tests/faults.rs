//! Network and service faults: every message arrives exactly once, with the statuses the
//! core reports, and access denial stops the retries.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use pn_blocking::pn_core::{Category, Error, Recovery, Status};
use pn_blocking::{ClientBuilder, ClientError, Event};
use pn_devserver::{Endpoint, Fault, FaultRule, Options, Target};

/// Subscribes, breaks the next receive with `fault`, publishes around the outage and checks
/// that every message arrives once, in order, with `UnexpectedDisconnect` then `Reconnected`.
fn survives(fault: Fault, tweak: impl FnOnce(ClientBuilder) -> ClientBuilder) {
    let server = server(Options::default());
    let reader = tweak(builder(&server, "reader")).build().expect("client");
    let writer = client(&server, "writer");
    let events = subscribed(&reader, "f");
    assert!(server.wait_for_subscribers("f", 1, WAIT));

    server
        .faults()
        .inject(FaultRule::new(fault, Target::Next(1)).on(Endpoint::Subscribe));
    writer.publish("f", &0).send().expect("publish");
    assert_eq!(messages(&events, 1)[0].payload.get(), "0");
    // A truncated answer needs something to answer with: message 1 is published before the
    // outage is reported (for the other faults it arrives during it).
    writer.publish("f", &1).send().expect("publish");
    let mut seen = Vec::new();
    let mut lost = None;
    until(&events, |e| {
        match e {
            Event::Message(m) if is_published(e) => seen.push(m.payload.get().to_owned()),
            Event::Message(_) => {}
            Event::Status(s) if s.category == Category::UnexpectedDisconnect => {
                lost = Some(s.clone())
            }
            Event::Status(s) => panic!("unexpected status {s:?}"),
            Event::Result(_) => {}
        }
        lost.is_some()
    });
    assert!(
        matches!(
            lost,
            Some(Status {
                recovery: Recovery::Retrying { attempt: 1, .. },
                ..
            })
        ),
        "{lost:?}"
    );
    writer.publish("f", &2).send().expect("publish");

    let mut reconnected = false;
    until(&events, |e| {
        match e {
            Event::Message(m) if is_published(e) => seen.push(m.payload.get().to_owned()),
            Event::Message(_) => {}
            Event::Status(s) if s.category == Category::Reconnected => reconnected = true,
            Event::Status(s) => panic!("unexpected status {s:?}"),
            Event::Result(_) => {}
        }
        reconnected && seen.len() >= 2
    });
    assert_eq!(seen, ["1", "2"]);
    let more = drain_for(&events, Duration::from_millis(300));
    assert!(more.is_empty(), "more events: {}", describe(&more));
    reader.close();
    writer.close();
}

#[test]
fn connection_closed_mid_request() {
    survives(Fault::CloseConnection, |b| b);
}

#[test]
fn truncated_answer() {
    survives(Fault::Truncate, |b| b);
}

#[test]
fn server_error_5xx() {
    survives(
        Fault::Status {
            code: 503,
            retry_after: None,
        },
        |b| b,
    );
}

#[test]
fn rate_limited_429_with_retry_after() {
    survives(
        Fault::Status {
            code: 429,
            retry_after: Some(1),
        },
        |b| b,
    );
}

#[test]
fn stalled_long_poll_times_out_on_the_client() {
    survives(Fault::Stall, |b| {
        b.subscribe_timeout(Duration::from_millis(500))
    });
}

#[test]
fn access_denied_stops_retrying() {
    let grants: HashMap<String, Vec<String>> = [("tok".to_owned(), vec!["open".to_owned()])].into();
    let server = server(Options {
        grants: Some(grants),
        ..Options::default()
    });
    let c = builder(&server, "u")
        .auth_token("tok")
        .build()
        .expect("client");
    let events = c.listen();
    c.subscribe_to(&["secret"]).expect("subscribe");
    let denied = status(&events, Category::AccessDenied);
    assert_eq!(denied.recovery, Recovery::GaveUp);
    assert_eq!(denied.http_status(), Some(403));
    let count = server.faults().request_count(Endpoint::Subscribe);
    let more = drain_for(&events, Duration::from_millis(300));
    assert!(more.is_empty(), "{}", describe(&more));
    assert_eq!(server.faults().request_count(Endpoint::Subscribe), count);

    let refused = c.publish("secret", "x").send().expect_err("denied");
    assert_eq!(refused.category(), Category::AccessDenied);
    assert!(matches!(
        refused,
        ClientError::Failed(Error::Api { status: 403, .. })
    ));
    assert!(c.publish("open", "x").send().is_ok());
    c.close();
}
