//! Shared helpers: a dev server per test, clients pointed at it, and waits on listeners.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use pn_blocking::pn_core::{Category, Message, MessageKind, RetryPolicy, Status, Subscribe};
use pn_blocking::{Client, ClientBuilder, Event, Listener};
use pn_devserver::{DevServer, Options};

/// How long any single wait in a test may take before it fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// A dev server on a free loopback port.
pub fn server(options: Options) -> DevServer {
    DevServer::start("127.0.0.1:0".parse().expect("addr"), options).expect("dev server")
}

/// A builder for a client of `server` with a fast retry policy.
pub fn builder(server: &DevServer, user: &str) -> ClientBuilder {
    Client::builder()
        .subscribe_key("demo")
        .publish_key("demo")
        .user_id(user)
        .origin(server.origin())
        .retry_policy(RetryPolicy::Linear {
            delay: Duration::from_millis(10),
            max_retries: 50,
        })
        .request_timeout(Duration::from_secs(3))
        .seed(7)
}

/// A started client of `server`.
pub fn client(server: &DevServer, user: &str) -> Client {
    builder(server, user).build().expect("client")
}

/// A listener of `client` once it has subscribed to `channel` and said `Connected`.
pub fn subscribed(client: &Client, channel: &str) -> Listener {
    let events = client.listen();
    client.subscribe_to(&[channel]).expect("subscribe");
    status(&events, Category::Connected);
    events
}

/// A listener of `client` once it has subscribed to `channel` with presence and said
/// `Connected`.
pub fn watching(client: &Client, channel: &str) -> Listener {
    let events = client.listen();
    client
        .subscribe(
            Subscribe::channels([channel])
                .expect("names")
                .with_presence(true),
        )
        .expect("subscribe");
    status(&events, Category::Connected);
    events
}

/// Every event until `done` says stop (it gets each one), failing after [`WAIT`].
pub fn until(listener: &Listener, mut done: impl FnMut(&Event) -> bool) -> Vec<Event> {
    let end = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match listener.recv_timeout(left) {
            Ok(e) => {
                let stop = done(&e);
                seen.push(e);
                if stop {
                    return seen;
                }
            }
            Err(err) => panic!("no matching event ({err:?}); seen: {}", describe(&seen)),
        }
    }
}

/// The next status of `category` (other events are skipped).
pub fn status(listener: &Listener, category: Category) -> Status {
    let seen = until(
        listener,
        |e| matches!(e, Event::Status(s) if s.category == category),
    );
    match seen.into_iter().last() {
        Some(Event::Status(s)) => s,
        _ => unreachable!(),
    }
}

/// Whether `e` is a published message or signal (not presence or another kind).
pub fn is_published(e: &Event) -> bool {
    matches!(e, Event::Message(m) if matches!(m.kind, MessageKind::Message | MessageKind::Signal))
}

/// The next `n` published messages or signals (statuses and presence events are skipped).
pub fn messages(listener: &Listener, n: usize) -> Vec<Message> {
    let mut count = 0;
    until(listener, |e| {
        if is_published(e) {
            count += 1;
        }
        count == n
    })
    .into_iter()
    .filter(is_published)
    .filter_map(|e| match e {
        Event::Message(m) => Some(m),
        _ => None,
    })
    .collect()
}

/// Statuses' categories and messages' payloads, for failure output.
pub fn describe(events: &[Event]) -> String {
    events
        .iter()
        .map(|e| match e {
            Event::Message(m) => format!("msg {} {}", m.channel, m.payload.get()),
            Event::Status(s) => format!("status {}", s.category),
            Event::Result(r) => format!("result {:?}", r.id),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Everything that arrives within `quiet` (for asserting nothing more comes).
pub fn drain_for(listener: &Listener, quiet: Duration) -> Vec<Event> {
    let end = Instant::now() + quiet;
    let mut seen = Vec::new();
    while let Ok(e) = listener.recv_timeout(end.saturating_duration_since(Instant::now())) {
        seen.push(e);
    }
    seen
}
