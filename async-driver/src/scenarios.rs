//! Shared integration-test scenarios, run by each adapter against the dev server.
//!
//! Each scenario starts its own [`DevServer`] on `127.0.0.1:0`, drives one or more clients built
//! by the adapter's [`Harness`], waits for the events it expects (with a 10 s safety timeout,
//! never a fixed sleep), and panics with a description when something is wrong. Adapters call
//! them from `#[test]`s under their runtime(s).

use std::collections::HashMap;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use pn_core::{
    Category, ClientError, Cursor, Error, Event, Message, MessageKind, PresenceAction, RetryPolicy,
    Status, Subscribe, TransportErrorKind,
};
use pn_devserver::{DevServer, Endpoint, Fault, FaultRule, Options, Target};

use crate::{BoxFuture, Client, ClientBuilder, Listener, Runtime, WhenFull};

/// The longest any single wait in a scenario may take before the scenario fails.
pub const SAFETY_TIMEOUT: Duration = Duration::from_secs(10);

const KEY: &str = "demo";

/// What an adapter provides to run the scenarios: a client builder on its runtime and a timer.
pub trait Harness: Sync {
    /// The adapter's runtime.
    type Runtime: Runtime;

    /// A builder with the runtime's options set (spawner, handle…).
    fn builder(&self) -> ClientBuilder<Self::Runtime>;

    /// A future that completes after `duration`, used only for safety timeouts.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// Starts a dev server with `options` on a free local port.
pub fn server(options: Options) -> DevServer {
    match DevServer::start(([127, 0, 0, 1], 0).into(), options) {
        Ok(server) => server,
        Err(e) => panic!("dev server did not start: {e}"),
    }
}

/// A client of `server` as `user`, with fast retries for tests.
pub fn client<H: Harness>(h: &H, server: &DevServer, user: &str) -> Client<H::Runtime> {
    build(
        h.builder()
            .subscribe_key(KEY)
            .publish_key(KEY)
            .user_id(user)
            .origin(server.origin()),
    )
}

fn build<R: Runtime>(builder: ClientBuilder<R>) -> Client<R> {
    let builder = builder
        .retry_policy(RetryPolicy::Linear {
            delay: Duration::from_millis(10),
            max_retries: 50,
        })
        .request_timeout(Duration::from_secs(5))
        .seed(7);
    match builder.build() {
        Ok(client) => client,
        Err(e) => panic!("client did not build: {e}"),
    }
}

/// Runs `fut`, failing the scenario if it takes longer than [`SAFETY_TIMEOUT`].
pub async fn within<H: Harness, T>(h: &H, what: &str, fut: impl IntoFuture<Output = T>) -> T {
    let mut fut = std::pin::pin!(fut.into_future());
    let mut timeout = h.sleep(SAFETY_TIMEOUT);
    let out = std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        if Pin::new(&mut timeout).poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await;
    match out {
        Some(v) => v,
        None => panic!("timed out after {SAFETY_TIMEOUT:?} waiting for {what}"),
    }
}

async fn next_event<H: Harness>(h: &H, l: &mut Listener, what: &str) -> Event {
    match within(h, what, l.next()).await {
        Some(e) => e,
        None => panic!("the listener ended while waiting for {what}"),
    }
}

/// Waits for a status of `category`, skipping other events.
async fn wait_status<H: Harness>(h: &H, l: &mut Listener, category: Category) -> Status {
    let what = format!("status {category}");
    loop {
        if let Event::Status(s) = next_event(h, l, &what).await
            && s.category == category
        {
            return s;
        }
    }
}

/// Waits for the next message (skipping statuses) for which `pick` holds.
async fn wait_message<H: Harness>(
    h: &H,
    l: &mut Listener,
    what: &str,
    pick: impl Fn(&Message) -> bool,
) -> Message {
    loop {
        if let Event::Message(m) = next_event(h, l, what).await
            && pick(&m)
        {
            return m;
        }
    }
}

/// Waits until a receive long-poll is parked on `name` at the server, checking every 5 ms.
async fn wait_parked<H: Harness>(h: &H, server: &DevServer, name: &str) {
    within(h, "the long-poll to be parked", async {
        while server.parked_subscribers(name) == 0 {
            h.sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

fn text(m: &Message) -> String {
    m.parse::<String>()
        .unwrap_or_else(|_| m.payload.get().to_owned())
}

fn ok<T>(what: &str, r: Result<T, ClientError>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what} failed: {e}"),
    }
}

/// Collects events until the message `"end"` and a status of each of `categories` were all
/// seen; returns the message texts before `"end"` and the status categories, in order.
async fn collect_until_end<H: Harness>(
    h: &H,
    l: &mut Listener,
    categories: &[Category],
) -> (Vec<String>, Vec<Category>) {
    let (mut texts, mut statuses, mut end) = (Vec::new(), Vec::new(), false);
    while !(end && categories.iter().all(|c| statuses.contains(c))) {
        match next_event(h, l, "the end message and status").await {
            Event::Message(m) if text(&m) == "end" => end = true,
            Event::Message(m) => texts.push(text(&m)),
            Event::Status(s) => statuses.push(s.category),
            Event::Result(_) => {}
        }
    }
    (texts, statuses)
}

/// Publish → subscribe round trip: payload, channel, publisher, timetoken, meta, message type;
/// POST publishes and signals too.
pub async fn round_trip<H: Harness>(h: &H) {
    let server = server(Options::default());
    let sub = client(h, &server, "sub-user");
    let publisher = client(h, &server, "pub-user");
    let mut l = sub.listen();
    ok("subscribe", sub.subscribe_to(&["ch"]).await);
    wait_status(h, &mut l, Category::Connected).await;

    let payload = serde_json::json!({"text": "hello", "n": 1});
    let tt = within(
        h,
        "publish",
        publisher
            .publish("ch", &payload)
            .meta(&serde_json::json!({"k": "v"}))
            .custom_message_type("chat-msg")
            .store(false)
            .ttl(2),
    )
    .await;
    let tt = ok("publish", tt);
    let m = wait_message(h, &mut l, "the published message", |_| true).await;
    assert_eq!(m.kind, MessageKind::Message);
    assert_eq!(m.parse::<serde_json::Value>().ok(), Some(payload));
    assert_eq!(m.channel.as_str(), "ch");
    assert_eq!(m.subscription, None);
    assert_eq!(m.publisher.as_deref(), Some("pub-user"));
    assert_eq!(m.timetoken, tt);
    assert_eq!(
        m.user_metadata.as_ref().map(|u| u.get().replace(' ', "")),
        Some(r#"{"k":"v"}"#.to_owned())
    );
    assert_eq!(m.custom_message_type.as_deref(), Some("chat-msg"));

    let tt2 = ok(
        "POST publish",
        publisher.publish("ch", "posted").use_post(true).await,
    );
    assert!(tt2 > tt, "timetokens increase");
    let m = wait_message(h, &mut l, "the POST message", |_| true).await;
    assert_eq!((text(&m), m.timetoken), ("posted".to_owned(), tt2));

    ok("signal", publisher.signal("ch", "sig").await);
    let m = wait_message(h, &mut l, "the signal", |_| true).await;
    assert_eq!(
        (&m.kind, text(&m)),
        (&MessageKind::Signal, "sig".to_owned())
    );

    let time = ok("time", sub.time().await);
    assert!(time.get() > 0);
    sub.close().await;
    publisher.close().await;
}

/// Arguments the core refuses come back as typed errors, before anything is sent.
pub async fn refused_commands<H: Harness>(h: &H) {
    let server = server(Options::default());
    let c = client(h, &server, "u");
    let refused = |r: Result<_, ClientError>| matches!(r, Err(ClientError::Command(_)));
    assert!(refused(c.publish("", "x").await.map(drop)));
    assert!(refused(c.publish("a.*", "x").await.map(drop)));
    assert!(refused(
        c.publish("ch", "x")
            .custom_message_type("a")
            .await
            .map(drop)
    ));
    assert!(refused(c.publish("ch", "x").meta(&[1, 2]).await.map(drop)));
    assert!(refused(c.subscribe_to(&[]).await));
    assert!(refused(c.subscribe_to(&["a,b"]).await));
    assert!(refused(c.add_channels_to_group("g", &[]).await));
    let no_key = build(
        h.builder()
            .subscribe_key(KEY)
            .user_id("u")
            .origin(server.origin()),
    );
    assert!(refused(no_key.publish("ch", "x").await.map(drop)));
    let bad = h.builder().subscribe_key(KEY).origin("gopher://x").build();
    assert!(matches!(bad, Err(ClientError::Config(_))));
    let no_user = h.builder().subscribe_key(KEY).build();
    assert!(matches!(no_user, Err(ClientError::Config(_))));
    assert_eq!(
        server.faults().request_count(Endpoint::Any),
        0,
        "nothing was sent"
    );
    c.close().await;
    no_key.close().await;
}

/// Channel groups: add, list, subscribe to the group (messages carry the group as
/// `subscription`), remove, delete.
pub async fn channel_groups<H: Harness>(h: &H) {
    let server = server(Options::default());
    let c = client(h, &server, "u");
    ok(
        "add to group",
        c.add_channels_to_group("g", &["ch1", "ch2"]).await,
    );
    let mut names: Vec<String> = ok("list group", c.list_group_channels("g").await)
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["ch1", "ch2"]);

    let mut l = c.listen();
    let sub = Subscribe::channels(Vec::<String>::new()).and_then(|s| s.groups(["g"]));
    ok(
        "subscribe group",
        c.subscribe(ok("names", sub.map_err(Into::into))).await,
    );
    wait_status(h, &mut l, Category::Connected).await;
    ok("publish", c.publish("ch2", "via group").await);
    let m = wait_message(h, &mut l, "a group message", |_| true).await;
    assert_eq!(text(&m), "via group");
    assert_eq!(m.channel.as_str(), "ch2");
    assert_eq!(m.subscription.as_ref().map(|s| s.as_str()), Some("g"));

    ok("remove", c.remove_channels_from_group("g", &["ch1"]).await);
    let names = ok("list group", c.list_group_channels("g").await);
    assert_eq!(names.len(), 1);
    ok("delete", c.delete_group("g").await);
    assert!(ok("list group", c.list_group_channels("g").await).is_empty());
    c.close().await;
}

/// A wildcard subscription (`a.*`) receives messages of `a.b`, with the pattern as
/// `subscription` (and, as on the service, presence events of the pattern, skipped here).
pub async fn wildcard<H: Harness>(h: &H) {
    let server = server(Options::default());
    let c = client(h, &server, "u");
    let mut l = c.listen();
    ok("subscribe", c.subscribe_to(&["a.*"]).await);
    wait_status(h, &mut l, Category::Connected).await;
    ok("publish", c.publish("b.x", "other").await);
    ok("publish", c.publish("a.b", "wild").await);
    let m = wait_message(h, &mut l, "the wildcard message", |m| {
        m.kind == MessageKind::Message && text(m) == "wild"
    })
    .await;
    assert_eq!(m.channel.as_str(), "a.b");
    assert_eq!(m.subscription.as_ref().map(|s| s.as_str()), Some("a.*"));
    c.close().await;
}

/// Presence: join and leave events, here_now, where_now, set_state and get_state.
pub async fn presence<H: Harness>(h: &H) {
    let server = server(Options::default());
    let watcher = client(h, &server, "watcher");
    let visitor = client(h, &server, "visitor");
    let mut l = watcher.listen();
    let sub = Subscribe::channels(["room"]).map(|s| s.with_presence(true));
    ok(
        "subscribe",
        watcher
            .subscribe(ok("names", sub.map_err(Into::into)))
            .await,
    );
    wait_status(h, &mut l, Category::Connected).await;

    let mut vl = visitor.listen();
    ok("subscribe", visitor.subscribe_to(&["room"]).await);
    wait_status(h, &mut vl, Category::Connected).await;
    let join = wait_message(h, &mut l, "the visitor's join", |m| {
        m.presence().is_some_and(|p| {
            p.action == PresenceAction::Join && p.uuid.as_deref() == Some("visitor")
        })
    })
    .await;
    assert_eq!(join.channel.as_str(), "room");

    let here = ok(
        "here_now",
        watcher.here_now(&["room"]).include_state(true).await,
    );
    let room = here.channels.iter().find(|c| c.channel.as_str() == "room");
    let mut uuids: Vec<&str> = room
        .map(|r| r.occupants.iter().map(|o| o.uuid.as_str()).collect())
        .unwrap_or_default();
    uuids.sort();
    assert_eq!(uuids, ["visitor", "watcher"]);
    assert_eq!(room.map(|r| r.occupancy), Some(2));

    let where_now = ok("where_now", watcher.where_now(Some("visitor")).await);
    assert_eq!(
        where_now.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        ["room"]
    );

    let state = serde_json::json!({"mood": "fine"});
    ok("set_state", visitor.set_state(&["room"], &state).await);
    let got = ok(
        "get_state",
        watcher.get_state(&["room"], Some("visitor")).await,
    );
    let got: HashMap<String, serde_json::Value> = got
        .iter()
        .map(|(c, s)| {
            let v = serde_json::from_str(s.get()).unwrap_or(serde_json::Value::Null);
            (c.as_str().to_owned(), v)
        })
        .collect();
    assert_eq!(got.get("room"), Some(&state));

    ok("unsubscribe", visitor.unsubscribe(&["room"], &[]).await);
    wait_message(h, &mut l, "the visitor's leave", |m| {
        m.presence().is_some_and(|p| {
            p.action == PresenceAction::Leave && p.uuid.as_deref() == Some("visitor")
        })
    })
    .await;
    watcher.close().await;
    visitor.close().await;
}

/// `unsubscribe_all` resets the cursor: the next subscribe starts over with a handshake (`tt=0`).
pub async fn unsubscribe_all_resets_cursor<H: Harness>(h: &H) {
    let server = server(Options::default());
    let c = client(h, &server, "u");
    let mut l = c.listen();
    ok("subscribe", c.subscribe_to(&["ch"]).await);
    wait_status(h, &mut l, Category::Connected).await;
    ok("publish", c.publish("ch", "one").await);
    wait_message(h, &mut l, "a message", |_| true).await;
    let cursor = ok("inspect", c.inspect(|core| core.cursor()).await);
    assert!(cursor.timetoken.get() > 0);

    ok("unsubscribe_all", c.unsubscribe_all().await);
    wait_status(h, &mut l, Category::Disconnected).await;
    let cursor = ok("inspect", c.inspect(|core| core.cursor()).await);
    assert_eq!(cursor, Cursor::default());

    let before = server.faults().request_count(Endpoint::Subscribe);
    ok("subscribe", c.subscribe_to(&["ch"]).await);
    wait_status(h, &mut l, Category::Connected).await;
    // The receive cancelled by unsubscribe_all may reach the server late; look for the handshake
    // among everything that arrived since.
    let is_handshake = |q: &str| q.split(['?', '&']).any(|p| p == "tt=0");
    let since: Vec<String> = server
        .faults()
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::Subscribe)
        .skip(before as usize)
        .map(|r| r.path_and_query)
        .collect();
    assert!(
        since.iter().any(|q| is_handshake(q)),
        "the new subscription starts with a handshake: {since:?}"
    );
    c.close().await;
}

/// Disconnect, publish three messages, reconnect: all three arrive, exactly once.
pub async fn reconnect_catches_up<H: Harness>(h: &H) {
    let server = server(Options::default());
    let c = client(h, &server, "u");
    let publisher = client(h, &server, "p");
    let mut l = c.listen();
    ok("subscribe", c.subscribe_to(&["ch"]).await);
    wait_status(h, &mut l, Category::Connected).await;
    ok("disconnect", c.disconnect().await);
    wait_status(h, &mut l, Category::Disconnected).await;
    for m in ["m1", "m2", "m3"] {
        ok("publish", publisher.publish("ch", m).await);
    }
    ok("reconnect", c.reconnect().await);
    ok("publish", publisher.publish("ch", "end").await);
    let (texts, _) = collect_until_end(h, &mut l, &[]).await;
    assert_eq!(texts, ["m1", "m2", "m3"]);
    c.close().await;
    publisher.close().await;
}

/// The subscribe long-poll meets `fault` once; the subscriber recovers on its own, gets every
/// message exactly once, and the statuses tell `UnexpectedDisconnect` then `Reconnected`.
async fn recovers_from<H: Harness>(h: &H, fault: Fault, options: Options, long_poll: Duration) {
    let server = server(options);
    let c = build(
        h.builder()
            .subscribe_key(KEY)
            .publish_key(KEY)
            .user_id("sub")
            .origin(server.origin())
            .subscribe_timeout(long_poll),
    );
    let publisher = client(h, &server, "pub");
    let mut l = c.listen();
    ok("subscribe", c.subscribe_to(&["ch"]).await);
    wait_status(h, &mut l, Category::Connected).await;
    wait_parked(h, &server, "ch").await;
    server
        .faults()
        .inject(FaultRule::new(fault.clone(), Target::Next(1)).on(Endpoint::Subscribe));
    // m1 completes the parked long-poll; the next one meets the fault (a truncated or delayed
    // answer only comes once there is something to answer: m2).
    ok("publish", publisher.publish("ch", "m1").await);
    wait_message(h, &mut l, "m1", |m| text(m) == "m1").await;
    for m in ["m2", "m3", "end"] {
        ok("publish", publisher.publish("ch", m).await);
    }
    let wanted = [Category::UnexpectedDisconnect, Category::Reconnected];
    let (texts, statuses) = collect_until_end(h, &mut l, &wanted).await;
    assert_eq!(
        texts,
        ["m2", "m3"],
        "{fault:?}: every message once, in order"
    );
    assert_eq!(statuses, wanted, "{fault:?}: one outage, one recovery");
    c.close().await;
    publisher.close().await;
}

/// Recovery after the server closes the connection mid-request.
pub async fn fault_connection_closed<H: Harness>(h: &H) {
    let long_poll = Duration::from_secs(30);
    recovers_from(h, Fault::CloseConnection, Options::default(), long_poll).await;
}

/// Recovery after a truncated answer.
pub async fn fault_truncated<H: Harness>(h: &H) {
    let long_poll = Duration::from_secs(30);
    recovers_from(h, Fault::Truncate, Options::default(), long_poll).await;
}

/// Recovery after a 500.
pub async fn fault_server_error<H: Harness>(h: &H) {
    let fault = Fault::Status {
        code: 500,
        retry_after: None,
    };
    recovers_from(h, fault, Options::default(), Duration::from_secs(30)).await;
}

/// Recovery after a 429 with `Retry-After: 1`.
pub async fn fault_rate_limited<H: Harness>(h: &H) {
    let fault = Fault::Status {
        code: 429,
        retry_after: Some(1),
    };
    recovers_from(h, fault, Options::default(), Duration::from_secs(30)).await;
}

/// Recovery after a stalled long-poll, with a short subscribe timeout (and a shorter hold).
pub async fn fault_stalled<H: Harness>(h: &H) {
    let options = Options {
        hold_time: Duration::from_millis(300),
        ..Options::default()
    };
    recovers_from(h, Fault::Stall, options, Duration::from_millis(800)).await;
}

/// A request the server never answers fails as a `Timeout` once the request timeout passes,
/// timed by the driver (the core's backstop watchdog, 5 s later, words its error differently);
/// the next request goes through.
pub async fn request_timeout<H: Harness>(h: &H) {
    let server = server(Options::default());
    server
        .faults()
        .inject(FaultRule::new(Fault::Stall, Target::Next(1)).on(Endpoint::Publish));
    let built = h
        .builder()
        .subscribe_key(KEY)
        .publish_key(KEY)
        .user_id("u")
        .origin(server.origin())
        .request_timeout(Duration::from_millis(300))
        .build();
    let c = ok("build", built);
    match within(h, "the stalled publish", c.publish("ch", "lost")).await {
        Err(ClientError::Failed(Error::Transport(e))) => {
            assert_eq!(e.kind, TransportErrorKind::Timeout, "{e:?}");
            assert_eq!(e.message, crate::driver::TIMED_OUT, "timed by the driver");
        }
        other => panic!("the stalled publish: {other:?}"),
    }
    ok(
        "publish",
        within(h, "the next publish", c.publish("ch", "next")).await,
    );
    assert_eq!(server.faults().request_count(Endpoint::Publish), 2);
    c.close().await;
}

/// With `WhenFull::HoldBack`, a listener that falls behind holds the subscription back instead
/// of losing messages: with a firehose (a full page of 100 on every receive) and a listener of
/// 250 that nobody reads, the client stops asking once the listener is more than half full;
/// read later, every message is there, in order, and none was dropped.
pub async fn slow_listener_holds_back<H: Harness>(h: &H) {
    let server = server(Options {
        firehose: Some("fh".into()),
        ..Options::default()
    });
    let c = build(
        h.builder()
            .subscribe_key(KEY)
            .user_id("slow")
            .origin(server.origin())
            .listener_capacity(250)
            .when_listener_full(WhenFull::HoldBack),
    );
    let mut l = c.listen();
    ok("subscribe", c.subscribe_to(&["fh"]).await);
    let receives = || server.faults().request_count(Endpoint::Subscribe);
    within(h, "the handshake and two receives", async {
        while receives() < 3 {
            h.sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    // Unread: 1 status + 200 messages > 125. Nothing more is asked for, however long we wait.
    h.sleep(Duration::from_millis(300)).await;
    let paths: Vec<String> = server
        .faults()
        .requests()
        .into_iter()
        .map(|r| r.path_and_query)
        .collect();
    assert_eq!(
        receives(),
        3,
        "the third receive waits for room: {paths:#?}"
    );
    let deadline = ok(
        "inspect",
        within(h, "inspect", c.inspect(|core| core.poll_timeout())).await,
    );
    assert_eq!(deadline, None, "however long it waits, it is not timed out");
    wait_status(h, &mut l, Category::Connected).await;
    for seq in 0..1000_u64 {
        let m = wait_message(h, &mut l, "the next firehose message", |_| true).await;
        let value: serde_json::Value = match m.parse() {
            Ok(v) => v,
            Err(e) => panic!("payload {}: {e}", m.payload.get()),
        };
        assert_eq!(value["seq"], seq, "every message, in order");
    }
    assert_eq!(l.dropped(), 0);
    assert!(
        receives() > 10,
        "reading made room: the subscription went on"
    );
    c.close().await;
}

/// A 403 from access control surfaces as an `AccessDenied` status and the core stops retrying.
pub async fn access_denied<H: Harness>(h: &H) {
    let mut grants = HashMap::new();
    grants.insert("token".to_owned(), vec!["allowed".to_owned()]);
    let server = server(Options {
        grants: Some(grants),
        ..Options::default()
    });
    let c = build(
        h.builder()
            .subscribe_key(KEY)
            .publish_key(KEY)
            .user_id("u")
            .auth_token("token")
            .origin(server.origin()),
    );
    let mut l = c.listen();
    ok("publish allowed", c.publish("allowed", "ok").await);
    let denied = c.publish("forbidden", "no").await;
    assert_eq!(
        denied.map_err(|e| e.category()).err(),
        Some(Category::AccessDenied)
    );
    ok("subscribe", c.subscribe_to(&["forbidden"]).await);
    let s = wait_status(h, &mut l, Category::AccessDenied).await;
    assert_eq!(s.http_status(), Some(403));
    assert_eq!(s.recovery, pn_core::Recovery::GaveUp);
    let engine_active = ok("inspect", c.inspect(|core| core.in_flight()).await);
    assert_eq!(
        engine_active, 0,
        "nothing retried or in flight after giving up"
    );
    assert_eq!(server.faults().request_count(Endpoint::Subscribe), 1);
    c.close().await;
}

/// `close` sends the leave, waits for it, and ends every task; afterwards every call returns
/// `Closed` and listeners end. Dropping the last handle also ends every task.
pub async fn shutdown<H: Harness>(h: &H) {
    let server = server(Options::default());
    let c = client(h, &server, "u");
    let mut l = c.listen();
    ok("subscribe", c.subscribe_to(&["ch"]).await);
    wait_status(h, &mut l, Category::Connected).await;
    ok("publish", c.publish("ch", "x").await);
    assert!(c.live_tasks() >= 1, "the driver is running");
    within(h, "close", c.close()).await;
    within(h, "every task to end", c.tasks_finished()).await;
    assert_eq!(c.live_tasks(), 0);
    assert!(
        server
            .faults()
            .requests()
            .iter()
            .any(|r| r.path_and_query.contains("/leave")),
        "close sent a leave"
    );
    assert!(matches!(
        c.publish("ch", "y").await,
        Err(ClientError::Closed)
    ));
    assert!(matches!(
        c.subscribe_to(&["ch"]).await,
        Err(ClientError::Closed)
    ));
    assert!(matches!(c.time().await, Err(ClientError::Closed)));
    let mut after = c.listen();
    assert!(
        within(h, "a late listener to end", after.next())
            .await
            .is_none()
    );
    while within(h, "the listener to end", l.next()).await.is_some() {}
    within(h, "a second close", c.close()).await;

    let dropped = client(h, &server, "v");
    let mut dl = dropped.listen();
    ok("subscribe", dropped.subscribe_to(&["ch"]).await);
    wait_status(h, &mut dl, Category::Connected).await;
    let finished = dropped.tasks_finished();
    drop(dropped);
    within(h, "every task to end after drop", finished).await;
    while within(h, "the listener to end", dl.next()).await.is_some() {}
}

/// A listener created later gets only later events; dropping a listener unregisters it; a full
/// listener drops its oldest events and counts them.
pub async fn listeners<H: Harness>(h: &H) {
    let server = server(Options::default());
    let c = client(h, &server, "u");
    let mut first = c.listen();
    let mut tiny = c.listen_with_capacity(1);
    let gone = c.listen();
    assert_eq!(c.listener_count(), 3);
    drop(gone);
    assert_eq!(c.listener_count(), 2);
    ok("subscribe", c.subscribe_to(&["ch"]).await);
    wait_status(h, &mut first, Category::Connected).await;
    let mut second = c.listen();
    for m in ["a", "b", "end"] {
        ok("publish", c.publish("ch", m).await);
    }
    let (texts, _) = collect_until_end(h, &mut first, &[]).await;
    assert_eq!(texts, ["a", "b"]);
    let (texts, _) = collect_until_end(h, &mut second, &[]).await;
    assert_eq!(texts, ["a", "b"]);
    let last = tiny.try_next();
    assert!(matches!(&last, Some(Event::Message(m)) if text(m) == "end"));
    assert_eq!(tiny.dropped(), 3, "Connected, a and b were dropped");
    c.close().await;
}

/// Expands to one `#[test]` per scenario, named after it, for a runtime's test file.
///
/// The test file only says how to run a future, in one of two ways:
///
/// - `scenario_tests!(#[tokio::test] Tokio);`: async tests under that attribute, each awaiting
///   the scenario with the harness `Tokio`;
/// - `scenario_tests!(smol::block_on, Smol);`: plain tests, each handing the scenario's future to
///   the function `smol::block_on`.
///
/// Every scenario is listed unless names follow the harness: `scenario_tests!(smol::block_on,
/// Builtin => round_trip, shutdown);`.
#[macro_export]
macro_rules! scenario_tests {
    (@all $($how:tt)*) => {
        $crate::scenario_tests!($($how)* =>
            round_trip,
            refused_commands,
            channel_groups,
            wildcard,
            presence,
            unsubscribe_all_resets_cursor,
            reconnect_catches_up,
            fault_connection_closed,
            fault_truncated,
            fault_server_error,
            fault_rate_limited,
            fault_stalled,
            request_timeout,
            slow_listener_holds_back,
            access_denied,
            shutdown,
            listeners
        );
    };
    (#[$attr:meta] $harness:expr => $($name:ident),+ $(,)?) => {$(
        #[$attr]
        async fn $name() {
            $crate::scenarios::$name(&$harness).await;
        }
    )+};
    (#[$attr:meta] $harness:expr) => {
        $crate::scenario_tests!(@all #[$attr] $harness);
    };
    ($run:path, $harness:expr => $($name:ident),+ $(,)?) => {$(
        #[test]
        fn $name() {
            $run($crate::scenarios::$name(&$harness));
        }
    )+};
    ($run:path, $harness:expr) => {
        $crate::scenario_tests!(@all $run, $harness);
    };
}

/// Runs every scenario in turn (for a quick smoke run of a new runtime).
pub async fn all<H: Harness>(h: &H) {
    round_trip(h).await;
    refused_commands(h).await;
    channel_groups(h).await;
    wildcard(h).await;
    presence(h).await;
    unsubscribe_all_resets_cursor(h).await;
    reconnect_catches_up(h).await;
    fault_connection_closed(h).await;
    fault_truncated(h).await;
    fault_server_error(h).await;
    fault_rate_limited(h).await;
    fault_stalled(h).await;
    request_timeout(h).await;
    slow_listener_holds_back(h).await;
    access_denied(h).await;
    shutdown(h).await;
    listeners(h).await;
}
