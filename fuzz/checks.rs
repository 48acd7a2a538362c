//! The properties the fuzz targets check, in one place.
//!
//! This file is compiled twice. In the fuzz crate it is the library `pn_fuzz_checks`
//! (`fuzz/Cargo.toml`, `[lib] path`), which every target in `fuzz/fuzz_targets/` calls. In
//! pn-core it is a module of the stable test `core/tests/fuzz_corpus.rs` (`#[path]`), which
//! replays the committed corpus and regressions through the very same functions. So it may use
//! only what both see: std, `pn_core`, and pn-core's own dependencies (`serde_json`, `hmac`,
//! `sha2`, `base64`); no `arbitrary`, no `libfuzzer-sys`.
//!
//! Every `check_*` function and every [`Driver`] step panics when pn-core breaks a promise.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use pn_core::decode::{self, SubscribeBody};
use pn_core::subscribe::State;
use pn_core::{
    Channel, ChannelGroup, Config, Core, Cursor, Error, Event, HereNowQuery, Message, Method,
    OperationId, Publish, Request, RequestId, RequestKind, Response, Subscribe, Timetoken,
    TransportAction, TransportError, encoding, signing,
};
use sha2::Sha256;

// ----- the input format of the decoder targets -----

/// Reads a fuzz input as an HTTP answer. An optional head line `STATUS[ RETRY-AFTER]\n`
/// (`STATUS`: 1–5 digits that fit a `u16`, within the first 40 bytes) gives the status and a
/// `Retry-After` value; without one the status is 200 and the whole input is the body. Corpus
/// files stay readable this way (`429 3\n{"status":429}`).
pub fn response(data: &[u8]) -> Response {
    let head = data
        .iter()
        .take(40)
        .position(|&b| b == b'\n')
        .and_then(|nl| Some((std::str::from_utf8(&data[..nl]).ok()?, nl)));
    if let Some((head, nl)) = head {
        let (status, retry_after) = match head.split_once(' ') {
            Some((s, r)) => (s, Some(r.to_owned())),
            None => (head, None),
        };
        let digits = (1..=5).contains(&status.len()) && status.bytes().all(|b| b.is_ascii_digit());
        if let Some(status) = digits.then(|| status.parse::<u16>().ok()).flatten() {
            return Response {
                status,
                retry_after,
                body: data[nl + 1..].to_vec(),
            };
        }
    }
    Response::new(200, data)
}

// ----- decoders -----

/// `subscribe_decoder`: never panics; a success only for 2xx; every payload, `meta` and
/// presence state handed out is valid JSON.
pub fn check_subscribe(data: &[u8]) {
    let response = response(data);
    let decoded = decode::subscribe(&response);
    check_outcome(&response, &decoded);
    if let Ok(body) = decoded {
        for m in &body.messages {
            check_message_json(m);
        }
    }
}

fn check_message_json(m: &Message) {
    assert_json("payload", m.payload.get());
    if let Some(meta) = &m.user_metadata {
        assert_json("user metadata", meta.get());
    }
    if let Some(state) = m.presence().and_then(|p| p.state.as_ref()) {
        assert_json("presence state", state.get());
    }
}

/// `bodies`: every other decoder on the same answer: never panics, a success only for 2xx,
/// an error of the right kind otherwise, and every piece of raw JSON handed out is valid.
pub fn check_bodies(data: &[u8]) {
    let r = response(data);
    check_outcome(&r, &decode::publish(&r));
    check_outcome(&r, &decode::time(&r));
    check_outcome(&r, &decode::where_now(&r));
    check_outcome(&r, &decode::ack(&r));
    check_outcome(&r, &decode::group_channels(&r));
    check_outcome(&r, &decode::group_names(&r));
    let set = decode::set_state(&r);
    check_outcome(&r, &set);
    if let Ok(state) = &set {
        assert_json("set-state answer", state.get());
    }
    let names = |list: &[&str]| -> Vec<Channel> {
        list.iter()
            .map(|n| Channel::new(n).expect("valid name"))
            .collect()
    };
    for requested in [names(&[]), names(&["a"]), names(&["a", "b"])] {
        let here = decode::here_now(&r, &requested);
        check_outcome(&r, &here);
        for occupant in here
            .iter()
            .flat_map(|h| &h.channels)
            .flat_map(|c| &c.occupants)
        {
            if let Some(state) = &occupant.state {
                assert_json("here-now state", state.get());
            }
        }
        let states = decode::get_state(&r, &requested);
        check_outcome(&r, &states);
        for (_, state) in states.iter().flatten() {
            assert_json("get-state answer", state.get());
        }
    }
}

/// A decoder's result fits the answer: success only for 2xx; a non-2xx answer is an API error
/// with that very status; a 2xx that failed is malformed or an API error with an error status.
fn check_outcome<T>(response: &Response, result: &Result<T, Error>) {
    let success = (200..300).contains(&response.status);
    let Err(e) = result else {
        assert!(
            success,
            "an HTTP {} answer decoded as success",
            response.status
        );
        return;
    };
    let _ = (
        e.to_string(),
        e.category(),
        e.is_retriable(),
        e.http_status(),
    );
    let _ = e.request_not_processed();
    match e {
        Error::Api { status, .. } if !success => assert_eq!(
            *status, response.status,
            "a non-2xx answer's error names another status"
        ),
        Error::Api { status, .. } => assert!(
            (400..600).contains(status),
            "a 2xx error body became an API error with status {status}"
        ),
        Error::Malformed { status, .. } => {
            assert!(
                success,
                "a non-2xx answer was called malformed, not an API error"
            );
            assert_eq!(*status, response.status);
        }
        other => panic!("a decoder returned {other:?}"),
    }
}

/// What RFC 8259's grammar allows but `serde_json::Value` cannot hold: numbers beyond `f64`
/// (`1e400`), `\u` escapes of unpaired UTF-16 surrogates (`"\ud800"`, which a JavaScript
/// publisher can send), and nesting deeper than serde_json's default limit of 128. The core hands such payloads over verbatim, as it should: refusing the
/// whole answer would make every retry fetch it again and wedge the subscription.
const NOT_REPRESENTABLE: [&str; 4] = [
    "number out of range",
    "recursion limit exceeded",
    "lone leading surrogate in hex escape",
    "unexpected end of hex escape",
];

/// `text` is one complete JSON value: `serde_json::Value` reads it, or it is well-formed JSON
/// (a `RawValue`) that `Value` cannot represent ([`NOT_REPRESENTABLE`]).
fn assert_json(what: &str, text: &str) {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(_) => {}
        Err(e)
            if NOT_REPRESENTABLE
                .iter()
                .any(|m| e.to_string().starts_with(m))
                && serde_json::from_str::<&serde_json::value::RawValue>(text).is_ok() => {}
        Err(e) => panic!("{what} handed out is not valid JSON ({e}): {text:?}"),
    }
}

// ----- encoding -----

/// `encoding`: the input as text (invalid UTF-8 replaced) survives encode → decode; the
/// encoding is exactly "unreserved `A–Z a–z 0–9 - . _ ~` stay, every other byte `%XX` in
/// uppercase hex" (computed here independently); `encoded_len` agrees; decoding arbitrary text
/// never panics; names joined by `push_name_list` split back on the raw commas.
pub fn check_encoding(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let encoded = encoding::encode(&text);
    assert_eq!(
        encoded,
        reference_encode(&text, b"-._~"),
        "encode({text:?})"
    );
    assert!(
        encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
        "encode({text:?}) = {encoded:?} has a byte outside [A-Za-z0-9-._~%]"
    );
    assert_eq!(encoding::encoded_len(&text), encoded.len());
    assert_eq!(encoding::decode(&encoded).as_deref(), Some(&*text));
    if let Ok(raw) = std::str::from_utf8(data) {
        // Already-encoded text, or anything else: no panic; valid escapes of UTF-8 decode back.
        if let Some(decoded) = encoding::decode(raw) {
            assert_eq!(encoding::decode(&encoding::encode(&decoded)), Some(decoded));
        }
    }
    let names: Vec<&str> = text.split('\n').collect();
    let mut joined = String::new();
    encoding::push_name_list(&mut joined, &names);
    let back: Vec<String> = joined
        .split(',')
        .map(|n| encoding::decode(n).expect("an encoded name decodes"))
        .collect();
    assert_eq!(back, names, "push_name_list({names:?}) = {joined:?}");
}

/// Percent-encodes every byte of `s` except ASCII letters, digits and `keep`, in uppercase hex.
pub fn reference_encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ----- signing -----

/// `signing`: [`signing::sign`] agrees with [`reference_signature`], and has the shape of a v2
/// signature (`v2.` and 43 base64url characters).
pub fn check_signing(
    secret: &str,
    publish_key: &str,
    method: Method,
    path: &str,
    query: &[(&str, &str)],
    body: &[u8],
) {
    let got = signing::sign(secret, publish_key, method, path, query, body);
    let want = reference_signature(secret, publish_key, method, path, query, body);
    assert_eq!(
        got, want,
        "sign({secret:?}, {publish_key:?}, {method:?}, {path:?}, {query:?}, {body:?})"
    );
    let tail = got.strip_prefix("v2.").expect("v2. prefix");
    assert_eq!(tail.len(), 43, "a SHA-256 MAC is 43 base64url characters");
    assert!(
        tail.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
}

/// The v2 signature as protocol.md §8 states it, written from the text and not from pn-core:
/// `v2.` + unpadded base64url of HMAC-SHA256(secret, METHOD\npub_key\npath\nquery\nbody), where
/// `query` is the pairs sorted by key then value, `k=v` joined by `&`, each value
/// percent-encoded except `A–Z a–z 0–9 - _ .` (so `~` and space become `%7E`, `%20`).
pub fn reference_signature(
    secret: &str,
    publish_key: &str,
    method: Method,
    path: &str,
    query: &[(&str, &str)],
    body: &[u8],
) -> String {
    let mut pairs = query.to_vec();
    pairs.sort();
    let canonical: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", reference_encode(v, b"-_.")))
        .collect();
    let method = match method {
        Method::Get => "GET",
        Method::Post => "POST",
    };
    let mut message =
        format!("{method}\n{publish_key}\n{path}\n{}\n", canonical.join("&")).into_bytes();
    message.extend_from_slice(body);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(&message);
    format!("v2.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

// ----- the state machine -----

/// Which request an answer goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The long-poll in flight, if any.
    LongPoll,
    /// The n-th request in flight (by id, modulo their number), if any.
    InFlight(usize),
    /// The n-th request already cancelled or answered (modulo their number): the core must
    /// ignore the answer completely.
    Retired(usize),
}

/// What one step was, so that the driver knows which cursor changes it allows.
#[derive(Debug)]
enum Step {
    /// A command that does not touch the subscription.
    Command,
    Subscribe(Option<Timetoken>),
    Unsubscribe,
    UnsubscribeAll,
    Reconnect,
    Disconnect,
    /// An answer to a request in flight; for the long-poll, its body when it decodes.
    Answer {
        long_poll: bool,
        body: Option<SubscribeBody>,
        handshake: bool,
    },
    Timeout,
}

type Key = (String, u64, String);

/// The dedupe window as documented: the last `capacity` distinct (channel, timetoken, payload)
/// delivered; 0 turns deduplication off.
struct Window {
    capacity: usize,
    order: VecDeque<Key>,
    keys: HashSet<Key>,
}

impl Window {
    /// Whether an event with `key` is new (and then remembers it).
    fn admit(&mut self, key: Key) -> bool {
        if self.capacity == 0 {
            return true;
        }
        if self.keys.contains(&key) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.keys.remove(&old);
        }
        self.keys.insert(key.clone());
        self.order.push_back(key);
        true
    }
}

fn key(m: &Message) -> Key {
    (
        m.channel.as_str().to_owned(),
        m.timetoken.0,
        m.payload.get().to_owned(),
    )
}

/// Drives a [`Core`] step by step in virtual time, keeps a model of what it sent, cancelled
/// and delivered, and after every step checks:
///
/// * request ids are never reused, a cancel names a request in flight, and the core's
///   [`Core::in_flight`] equals what it sent minus what it cancelled or had answered;
/// * at most one long-poll is in flight (a new one only after the old one's cancel), one is in
///   flight exactly when the subscribe engine is handshaking or receiving, and none when it is
///   stopped, failed or unsubscribed;
/// * every request is well-formed: only unreserved characters, `%XX` and the separators on the
///   wire, a valid JSON body, and with a secret key a signature equal to
///   [`reference_signature`] of what is sent;
/// * only a subscribe answer delivers messages: every event of an accepted answer that is not in
///   the dedupe window, in order, and none twice within the window;
/// * the cursor changes only by an answer (adopted verbatim), a catch-up timetoken, or a
///   reset by unsubscribe-all or by an unsubscribe that empties the set;
/// * every operation gets exactly one result (all of them by [`Driver::finish`]); an answer to
///   a retired request changes nothing;
/// * after `handle_timeout(now)`, `poll_timeout()` is `None` or later than `now`, and there is
///   a deadline while anything is in flight.
pub struct Driver {
    core: Core,
    now: Instant,
    in_flight: BTreeMap<RequestId, Request>,
    long_poll: Option<RequestId>,
    retired: Vec<RequestId>,
    ids: HashSet<RequestId>,
    /// Requests held back with `Core::hold` and not released yet: the watchdog must spare them.
    held: HashSet<RequestId>,
    operations: HashSet<OperationId>,
    window: Window,
    /// The requests sent by the last step.
    pub sent: Vec<Request>,
    /// The events of the last step.
    pub events: Vec<Event>,
}

impl Driver {
    /// A driver for a core with `config` and `seed`; `None` if the config is refused.
    pub fn new(config: Config, seed: u64) -> Option<Driver> {
        let now = Instant::now();
        let capacity = config.dedupe_cache_size;
        let core = Core::new(config, seed, now, Duration::from_secs(1_700_000_000)).ok()?;
        Some(Driver {
            core,
            now,
            in_flight: BTreeMap::new(),
            long_poll: None,
            retired: Vec::new(),
            ids: HashSet::new(),
            held: HashSet::new(),
            operations: HashSet::new(),
            window: Window {
                capacity,
                order: VecDeque::new(),
                keys: HashSet::new(),
            },
            sent: Vec::new(),
            events: Vec::new(),
        })
    }

    /// The core, to look at.
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// The request `target` names, if there is one.
    pub fn request(&self, target: Target) -> Option<&Request> {
        self.target_id(target)
            .and_then(|(id, _)| self.in_flight.get(&id))
    }

    fn target_id(&self, target: Target) -> Option<(RequestId, bool)> {
        match target {
            Target::LongPoll => self.long_poll.map(|id| (id, false)),
            Target::InFlight(n) if !self.in_flight.is_empty() => self
                .in_flight
                .keys()
                .nth(n % self.in_flight.len())
                .map(|id| (*id, false)),
            Target::Retired(n) if !self.retired.is_empty() => {
                Some((self.retired[n % self.retired.len()], true))
            }
            _ => None,
        }
    }

    /// Subscribes (command errors are fine: they must leave everything as it was).
    pub fn subscribe(&mut self, sub: Subscribe) {
        let tt = sub.timetoken;
        self.run(Step::Subscribe(tt), |core, now| {
            let _ = core.subscribe(sub, now);
        });
    }

    /// Unsubscribes from some names.
    pub fn unsubscribe(&mut self, channels: &[Channel], groups: &[ChannelGroup]) {
        self.run(Step::Unsubscribe, |core, now| {
            let _ = core.unsubscribe(channels, groups, now);
        });
    }

    /// Unsubscribes from everything.
    pub fn unsubscribe_all(&mut self) {
        self.run(Step::UnsubscribeAll, |core, now| core.unsubscribe_all(now));
    }

    /// Closes the client (unsubscribe-all plus cancelling every operation).
    pub fn close(&mut self) {
        self.run(Step::UnsubscribeAll, |core, now| core.close(now));
    }

    /// Ends the run: closes the client, then every operation started must have its result
    /// (answered, failed, or cancelled by the close) and only leaves may be left in flight.
    pub fn finish(&mut self) {
        self.close();
        assert!(
            self.operations.is_empty(),
            "operations without a result after close: {:?}",
            self.operations
        );
        assert!(
            self.in_flight
                .values()
                .all(|r| r.path().ends_with("/leave")),
            "requests other than leaves in flight after close: {:?}",
            self.in_flight
                .values()
                .map(Request::path)
                .collect::<Vec<_>>()
        );
    }

    /// Disconnects.
    pub fn disconnect(&mut self) {
        self.run(Step::Disconnect, |core, now| core.disconnect(now));
    }

    /// Reconnects, optionally from a timetoken.
    pub fn reconnect(&mut self, timetoken: Option<Timetoken>) {
        self.run(Step::Reconnect, |core, now| core.reconnect(timetoken, now));
    }

    /// Publishes.
    pub fn publish(&mut self, publish: Publish) {
        self.command(|core, now| core.publish(publish, now).ok());
    }

    /// Asks here-now.
    pub fn here_now(&mut self, query: HereNowQuery) {
        self.command(|core, now| core.here_now(query, now).ok());
    }

    /// Asks the time.
    pub fn time(&mut self) {
        self.command(|core, now| Some(core.time(now)));
    }

    /// Asks where this user is.
    pub fn where_now(&mut self) {
        self.command(|core, now| core.where_now(None, now).ok());
    }

    /// Sets this user's state on channels.
    pub fn set_state(&mut self, channels: &[Channel], state_json: &str) {
        self.command(|core, now| core.set_state(channels, &[], state_json, now).ok());
    }

    /// Runs an operation command; its id (if it was accepted) must get exactly one result.
    fn command(&mut self, f: impl FnOnce(&mut Core, Instant) -> Option<OperationId>) {
        let before = self.core.cursor();
        if let Some(op) = f(&mut self.core, self.now) {
            assert!(self.operations.insert(op), "operation id {op:?} reused");
        }
        self.settle(Step::Command, before);
    }

    /// Answers the request `target` names (nothing happens if there is none).
    pub fn answer(&mut self, target: Target, result: Result<Response, TransportError>) {
        let Some((id, retired)) = self.target_id(target) else {
            return;
        };
        if retired {
            self.answer_retired(id, result);
            return;
        }
        self.in_flight.remove(&id);
        self.held.remove(&id);
        self.retired.push(id);
        let long_poll = self.long_poll == Some(id);
        let mut body = None;
        if long_poll {
            self.long_poll = None;
            body = result.as_ref().ok().and_then(|r| decode::subscribe(r).ok());
        }
        let handshake = matches!(
            self.core.subscription_state(),
            State::Handshaking | State::HandshakeReconnecting(_)
        );
        let step = Step::Answer {
            long_poll,
            body,
            handshake,
        };
        self.run(step, |core, now| core.handle_response(id, result, now));
    }

    /// Holds the request `target` names back, as an adapter whose listeners are full does.
    pub fn hold(&mut self, target: Target) {
        if let Some((id, false)) = self.target_id(target) {
            self.held.insert(id);
            self.run(Step::Command, |core, _| core.hold(id));
        }
    }

    /// Sends a request held back.
    pub fn release(&mut self, target: Target) {
        if let Some((id, false)) = self.target_id(target)
            && self.held.remove(&id)
        {
            self.run(Step::Command, |core, now| {
                core.release(id, now);
            });
        }
    }

    fn answer_retired(&mut self, id: RequestId, result: Result<Response, TransportError>) {
        let before = (
            self.core.cursor(),
            self.core.subscription_state().clone(),
            self.core.in_flight(),
            self.core.poll_timeout(),
        );
        self.core.handle_response(id, result, self.now);
        let after = (
            self.core.cursor(),
            self.core.subscription_state().clone(),
            self.core.in_flight(),
            self.core.poll_timeout(),
        );
        assert_eq!(
            before, after,
            "an answer to retired request {id:?} changed the core"
        );
        assert_eq!(
            self.core.poll_transmit(),
            None,
            "an answer to retired {id:?} sent"
        );
        assert!(
            self.core.poll_event().is_none(),
            "an answer to retired {id:?} made an event"
        );
    }

    /// Moves the clock by `by` and fires what is due.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        self.run(Step::Timeout, |core, now| core.handle_timeout(now));
        self.check_next_timeout();
    }

    /// Jumps the clock to the core's next deadline (if any) and fires it.
    pub fn advance_to_deadline(&mut self) {
        if let Some(t) = self.core.poll_timeout() {
            self.now = self.now.max(t);
            self.run(Step::Timeout, |core, now| core.handle_timeout(now));
            self.check_next_timeout();
        }
    }

    fn check_next_timeout(&self) {
        if let Some(t) = self.core.poll_timeout() {
            assert!(
                t > self.now,
                "after handle_timeout(now) the next deadline is {:?} from now, not later",
                self.now.saturating_duration_since(t)
            );
        }
    }

    fn run<F: FnOnce(&mut Core, Instant)>(&mut self, step: Step, f: F) {
        let before = self.core.cursor();
        f(&mut self.core, self.now);
        self.settle(step, before);
    }

    /// Drains every output and checks the invariants.
    fn settle(&mut self, step: Step, cursor_before: Cursor) {
        self.sent.clear();
        self.events.clear();
        while let Some(action) = self.core.poll_transmit() {
            match action {
                TransportAction::Send(r) => {
                    assert!(self.ids.insert(r.id), "request id {:?} used twice", r.id);
                    self.check_request(&r);
                    if r.kind == RequestKind::LongPoll {
                        if let Some(old) = self.long_poll {
                            panic!("long-poll {:?} sent while {old:?} is in flight", r.id);
                        }
                        self.long_poll = Some(r.id);
                    }
                    self.in_flight.insert(r.id, r.clone());
                    self.sent.push(r);
                }
                TransportAction::Cancel(id) => {
                    assert!(
                        self.in_flight.remove(&id).is_some(),
                        "cancel of {id:?}, which is not in flight"
                    );
                    let held = self.held.remove(&id);
                    assert!(
                        !(held && matches!(step, Step::Timeout)),
                        "the watchdog timed out {id:?}, which is held back"
                    );
                    if self.long_poll == Some(id) {
                        self.long_poll = None;
                    }
                    self.retired.push(id);
                }
            }
        }
        while let Some(event) = self.core.poll_event() {
            if let Event::Result(r) = &event {
                assert!(
                    self.operations.remove(&r.id),
                    "result for {:?}, which is not pending",
                    r.id
                );
            }
            self.events.push(event);
        }
        assert_eq!(
            self.core.in_flight(),
            self.in_flight.len(),
            "in_flight() disagrees with the requests sent minus those cancelled or answered"
        );
        self.check_messages(&step);
        self.check_cursor(&step, cursor_before);
        self.check_engine();
    }

    fn check_request(&self, r: &Request) {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~%/?&=,".contains(&b);
        assert!(
            r.path_and_query.bytes().all(allowed),
            "request line with a raw character: {:?}",
            r.path_and_query
        );
        assert!(!r.timeout.is_zero());
        assert_eq!(
            r.kind == RequestKind::LongPoll,
            r.path().starts_with("/v2/subscribe/"),
            "{r:?}"
        );
        if let Some(body) = &r.body {
            let text = std::str::from_utf8(body).expect("a UTF-8 body");
            assert_json("request body", text);
        }
        let config = self.core.config();
        if let Some(secret) = &config.secret_key {
            let pairs: Vec<(String, String)> = r
                .query()
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), encoding::decode(v).expect("UTF-8 value")))
                .collect();
            let signature = pairs
                .iter()
                .find(|(k, _)| k == "signature")
                .map(|(_, v)| v.clone())
                .expect("a signed request has a signature");
            let rest: Vec<(&str, &str)> = pairs
                .iter()
                .filter(|(k, _)| k != "signature")
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let want = reference_signature(
                secret,
                config.publish_key.as_deref().unwrap_or(""),
                r.method,
                r.path(),
                &rest,
                r.body.as_deref().unwrap_or(b""),
            );
            assert_eq!(signature, want, "signature of {r:?}");
        }
    }

    fn check_messages(&mut self, step: &Step) {
        let delivered: Vec<Key> = self
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) => Some(m),
                _ => None,
            })
            .inspect(|m| check_message_json(m))
            .map(key)
            .collect();
        if let Step::Answer {
            long_poll: true,
            body: Some(body),
            ..
        } = step
        {
            let expected: Vec<Key> = body
                .messages
                .iter()
                .map(key)
                .filter(|k| self.window.admit(k.clone()))
                .collect();
            assert_eq!(
                delivered, expected,
                "delivered events differ from the answer's events less the duplicates"
            );
        } else {
            assert!(
                delivered.is_empty(),
                "events delivered without a subscribe answer: {delivered:?} on {step:?}"
            );
        }
    }

    fn check_cursor(&self, step: &Step, before: Cursor) {
        let after = self.core.cursor();
        if after == before {
            return;
        }
        let emptied =
            self.core.subscribed_channels().is_empty() && self.core.subscribed_groups().is_empty();
        match step {
            Step::UnsubscribeAll => assert_eq!(after, Cursor::START),
            Step::Unsubscribe if emptied => assert_eq!(after, Cursor::START),
            Step::Subscribe(Some(tt)) => assert_eq!(after.timetoken, *tt),
            Step::Answer {
                long_poll: true,
                body: Some(body),
                handshake,
            } => {
                assert_eq!(after.region, body.cursor.region, "region not adopted");
                if *handshake {
                    // Either the answer's timetoken, or a kept / catch-up one.
                    assert!(
                        !after.is_start() || body.cursor.timetoken.0 == 0,
                        "a handshake answer reset the cursor"
                    );
                } else {
                    assert_eq!(after, body.cursor, "a receive answer's cursor not adopted");
                }
            }
            _ => panic!("cursor changed from {before:?} to {after:?} on {step:?}"),
        }
    }

    fn check_engine(&self) {
        let state = self.core.subscription_state();
        let deadline = self.core.poll_timeout();
        match state {
            State::Handshaking | State::Receiving => assert!(
                self.long_poll.is_some(),
                "{state:?} with no long-poll in flight"
            ),
            State::HandshakeReconnecting(_) | State::ReceiveReconnecting(_) => assert!(
                self.long_poll.is_some() || deadline.is_some(),
                "{state:?} with neither a long-poll nor a retry timer"
            ),
            _ => assert!(
                self.long_poll.is_none(),
                "a long-poll in flight in {state:?}"
            ),
        }
        let empty =
            self.core.subscribed_channels().is_empty() && self.core.subscribed_groups().is_empty();
        assert_eq!(
            *state == State::Unsubscribed,
            empty,
            "state {state:?} with names {:?} {:?}",
            self.core.subscribed_channels(),
            self.core.subscribed_groups()
        );
        if self.in_flight.keys().any(|id| !self.held.contains(id)) {
            assert!(deadline.is_some(), "requests in flight without a deadline");
        }
    }
}

/// A well-formed success answer for `request`, by its path, with timetoken `tt`.
pub fn fitting_answer(request: &Request, tt: u64) -> Response {
    let path = request.path();
    let ok = r#"{"status":200,"message":"OK","service":"Presence"}"#;
    let body = if path.starts_with("/v2/subscribe/") {
        format!(r#"{{"t":{{"t":"{tt}","r":1}},"m":[]}}"#)
    } else if path.starts_with("/publish/") || path.starts_with("/signal/") {
        format!(r#"[1,"Sent","{tt}"]"#)
    } else if path.starts_with("/time/") {
        format!("[{tt}]")
    } else if path.ends_with("/leave") || path.ends_with("/heartbeat") {
        ok.to_owned()
    } else if path.ends_with("/data") {
        r#"{"status":200,"message":"OK","payload":{"mood":"ok"},"service":"Presence"}"#.to_owned()
    } else if path.contains("/uuid/") {
        r#"{"status":200,"message":"OK","payload":{"channels":["a"]},"service":"Presence"}"#
            .to_owned()
    } else if path.starts_with("/v2/presence/") {
        r#"{"status":200,"message":"OK","occupancy":1,"uuids":["u"],"service":"Presence"}"#
            .to_owned()
    } else {
        ok.to_owned()
    };
    Response::new(200, body)
}
