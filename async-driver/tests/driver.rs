//! The driver against a fake runtime: no network, every request observed.

use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_lite::future::block_on;
use pn_async_driver::{BoxFuture, Client, Runtime, TaskCounter};
use pn_core::{
    Category, ClientError, Config, Error, Event, Request, RequestKind, Response, TransportError,
    TransportErrorKind,
};

type Answer = Arc<dyn Fn(&Request) -> Option<Response> + Send + Sync>;

/// Answers regular requests from `answer` (never, without one or when it gives `None`);
/// long-polls never answer. Counts the request futures alive.
#[derive(Clone, Default)]
struct Fake {
    log: Arc<Mutex<Vec<Request>>>,
    pending: Arc<AtomicUsize>,
    answer: Option<Answer>,
}

struct PendingGuard(Arc<AtomicUsize>);

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Runtime for Fake {
    type Options = Fake;

    fn create(options: Fake, _: TaskCounter) -> Fake {
        options
    }

    fn send(
        &self,
        _: &pn_core::Origin,
        request: Request,
    ) -> BoxFuture<'static, Result<Response, TransportError>> {
        let answer = match (&self.answer, request.kind) {
            (Some(f), RequestKind::Regular) => f(&request),
            _ => None,
        };
        self.log.lock().unwrap().push(request);
        match answer {
            Some(response) => Box::pin(async move { Ok(response) }),
            None => {
                self.pending.fetch_add(1, Ordering::SeqCst);
                let guard = PendingGuard(self.pending.clone());
                Box::pin(async move {
                    let _guard = guard;
                    std::future::pending().await
                })
            }
        }
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        let timer = async_io::Timer::at(deadline);
        Box::pin(async move {
            timer.await;
        })
    }

    fn spawn(&self, task: BoxFuture<'static, ()>) {
        std::thread::spawn(move || block_on(task));
    }
}

fn start(fake: &Fake) -> Client<Fake> {
    let mut config = Config::new("demo", "u").with_publish_key("demo");
    config.origin = "http://127.0.0.1:1".into();
    config.request_timeout = Duration::from_millis(100);
    Client::<Fake>::builder()
        .config(config)
        .runtime_options(fake.clone())
        .seed(1)
        .build()
        .unwrap()
}

fn paths(fake: &Fake) -> Vec<String> {
    let log = fake.log.lock().unwrap();
    log.iter().map(|r| r.path().to_owned()).collect()
}

/// Spins until `cond` holds, failing after 5 s.
fn until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn the_driver_enforces_request_timeouts_and_drops_the_request() {
    let fake = Fake::default();
    let client = start(&fake);
    let started = Instant::now();
    let r = block_on(client.time());
    assert!(
        matches!(&r, Err(ClientError::Failed(Error::Transport(t))) if t.kind == TransportErrorKind::Timeout),
        "{r:?}"
    );
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(100) && waited < Duration::from_secs(3));
    until("the request future to be dropped", || {
        fake.pending.load(Ordering::SeqCst) == 0
    });
}

#[test]
fn results_reach_their_callers_and_typed_errors_come_back() {
    let fake = Fake {
        answer: Some(Arc::new(|r: &Request| {
            Some(if r.path().starts_with("/time") {
                Response::new(200, "[17000000000000000]")
            } else {
                Response::new(403, r#"{"status":403,"error":true,"message":"Forbidden"}"#)
            })
        })),
        ..Fake::default()
    };
    let client = start(&fake);
    assert_eq!(block_on(client.time()).unwrap().get(), 17000000000000000);
    let denied = block_on(client.publish("ch", "x").into_future()).unwrap_err();
    assert_eq!(denied.category(), Category::AccessDenied);
    let refused = block_on(client.publish("", "x").into_future()).unwrap_err();
    assert!(matches!(refused, ClientError::Command(_)));
}

#[test]
fn cancel_drops_the_long_poll_at_once() {
    let fake = Fake::default();
    let client = start(&fake);
    let mut events = client.listen();
    block_on(client.subscribe_to(&["a"])).unwrap();
    until("the handshake", || fake.pending.load(Ordering::SeqCst) == 1);
    // A new channel cancels (drops) the running handshake and starts another: still one.
    block_on(client.subscribe_to(&["b"])).unwrap();
    until("the second handshake", || paths(&fake).len() == 2);
    until("the first handshake to be dropped", || {
        fake.pending.load(Ordering::SeqCst) == 1
    });
    block_on(client.unsubscribe_all()).unwrap();
    let e = block_on(events.next());
    assert!(matches!(e, Some(Event::Status(s)) if s.category == Category::Disconnected));
    until("every request to be dropped", || {
        fake.pending.load(Ordering::SeqCst) == 0
    });
}

#[test]
fn close_waits_for_leaves_at_most_the_request_timeout() {
    let fake = Fake::default();
    let client = start(&fake);
    block_on(client.subscribe_to(&["a"])).unwrap();
    let started = Instant::now();
    block_on(client.close());
    let waited = started.elapsed();
    assert!(paths(&fake).iter().any(|p| p.ends_with("/leave")));
    assert!(waited >= Duration::from_millis(100), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    block_on(client.tasks_finished());
    assert_eq!(client.live_tasks(), 0);
    assert_eq!(fake.pending.load(Ordering::SeqCst), 0);
    assert!(matches!(block_on(client.time()), Err(ClientError::Closed)));
    assert!(client.is_closed());
}

#[test]
fn dropping_the_last_handle_stops_everything() {
    let fake = Fake::default();
    let client = start(&fake);
    let other = client.clone();
    block_on(client.subscribe_to(&["a"])).unwrap();
    let finished = client.tasks_finished();
    let mut events = client.listen();
    drop(client);
    assert!(other.live_tasks() >= 1, "a clone keeps the client running");
    drop(other);
    block_on(finished);
    while let Some(e) = block_on(events.next()) {
        assert!(matches!(e, Event::Status(_)));
    }
    assert_eq!(fake.pending.load(Ordering::SeqCst), 0);
}

#[test]
fn invalid_configuration_is_a_typed_error() {
    let bad = Client::<Fake>::new(Config::new("", "u"));
    assert!(matches!(bad, Err(ClientError::Config(_))));
}

/// Every future the client hands out can move between threads (e.g. into `tokio::spawn`).
#[test]
fn client_futures_are_send() {
    fn send<T: Send>(_: T) {}
    let fake = Fake::default();
    let client = start(&fake);
    let mut listener = client.listen();
    send(client.publish("ch", "x").into_future());
    send(client.here_now(&["ch"]).into_future());
    send(client.subscribe_to(&["ch"]));
    send(client.where_now(None));
    send(client.set_state(&["ch"], &serde_json::json!({})));
    send(client.get_state(&["ch"], None));
    send(client.time());
    send(client.list_group_channels("g"));
    send(client.close());
    send(client.tasks_finished());
    send(listener.next());
    send(client.clone());
}
