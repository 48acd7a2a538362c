//! A virtual-time harness for driving `Core` by hand: collect its requests, answer them, jump
//! the clock to the next deadline.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use pn_core::{Config, Core, Event, Request, RequestId, Response, RetryPolicy, TransportAction};

/// A core plus a virtual clock and what it sent.
pub struct Harness {
    pub core: Core,
    pub now: Instant,
    pub sent: Vec<Request>,
    pub cancelled: Vec<RequestId>,
    pub events: Vec<Event>,
}

/// A config for tests: keys `pub`/`sub`, user `u`, the given retry policy.
pub fn config(policy: RetryPolicy) -> Config {
    let mut c = Config::new("sub", "u").with_publish_key("pub");
    c.retry_policy = policy;
    c
}

/// Linear policy with `retries` retries, 2 s apart.
pub fn linear(retries: u32) -> RetryPolicy {
    RetryPolicy::Linear {
        delay: Duration::from_secs(2),
        max_retries: retries,
    }
}

/// A subscribe answer with cursor `tt`/`r` and the given envelopes.
pub fn subscribe_body(tt: u64, region: u32, envelopes: &[String]) -> Response {
    Response::new(
        200,
        format!(
            r#"{{"t":{{"t":"{tt}","r":{region}}},"m":[{}]}}"#,
            envelopes.join(",")
        ),
    )
}

/// A message envelope on `channel` published at `tt` with payload `d` (JSON text).
pub fn envelope(channel: &str, tt: u64, d: &str) -> String {
    format!(
        r#"{{"a":"1","f":0,"i":"pub-user","s":1,"p":{{"t":"{tt}","r":1}},"k":"sub","c":"{channel}","d":{d}}}"#
    )
}

impl Harness {
    pub fn new(config: Config) -> Harness {
        let now = Instant::now();
        let core = Core::new(config, 42, now, Duration::from_secs(1_700_000_000)).unwrap();
        Harness {
            core,
            now,
            sent: Vec::new(),
            cancelled: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Drains every output into `sent`, `cancelled` and `events`; the requests sent by this call.
    pub fn drain(&mut self) -> Vec<Request> {
        let mut new = Vec::new();
        while let Some(a) = self.core.poll_transmit() {
            match a {
                TransportAction::Send(r) => {
                    self.sent.push(r.clone());
                    new.push(r);
                }
                TransportAction::Cancel(id) => self.cancelled.push(id),
            }
        }
        while let Some(e) = self.core.poll_event() {
            self.events.push(e);
        }
        new
    }

    /// The one request sent since the last drain whose path starts with `prefix`.
    pub fn expect_one(&mut self, prefix: &str) -> Request {
        let mut sent: Vec<Request> = self
            .drain()
            .into_iter()
            .filter(|r| r.path().starts_with(prefix))
            .collect();
        assert_eq!(sent.len(), 1, "expected one {prefix} request, got {sent:?}");
        sent.remove(0)
    }

    /// Answers request `id`.
    pub fn answer(&mut self, id: RequestId, response: Response) {
        self.core.handle_response(id, Ok(response), self.now);
    }

    /// Jumps the clock to the next deadline and fires it; false if there is none.
    pub fn advance(&mut self) -> bool {
        match self.core.poll_timeout() {
            Some(t) => {
                self.now = self.now.max(t);
                self.core.handle_timeout(self.now);
                true
            }
            None => false,
        }
    }

    /// Takes the events collected so far.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.drain();
        std::mem::take(&mut self.events)
    }

    /// The categories of the status events collected so far (taking them all).
    pub fn statuses(&mut self) -> Vec<pn_core::Category> {
        self.take_events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Status(s) => Some(s.category),
                _ => None,
            })
            .collect()
    }
}

/// The value of query parameter `key` in `r`, still encoded.
pub fn query_param<'a>(r: &'a Request, key: &str) -> Option<&'a str> {
    r.query()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

// ----- additions for the scenario, property and conformance tests -----

/// A transport failure of `kind`.
pub fn transport_error(kind: pn_core::TransportErrorKind) -> pn_core::TransportError {
    pn_core::TransportError::new(kind, "test")
}

/// The message events among `events`.
pub fn messages(events: &[Event]) -> Vec<&pn_core::Message> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

/// The status events among `events`.
pub fn statuses_of(events: &[Event]) -> Vec<&pn_core::Status> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Status(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// The query of `r` as decoded `(key, value)` pairs, in order.
pub fn decoded_query(r: &Request) -> Vec<(String, String)> {
    r.query()
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let k = pn_core::encoding::decode(k).expect("query keys are UTF-8");
            let v = pn_core::encoding::decode(v).expect("query values are UTF-8");
            (k, v)
        })
        .collect()
}

/// The decoded value of query parameter `key` in `r`.
pub fn decoded_param(r: &Request, key: &str) -> Option<String> {
    decoded_query(r)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// The path segments of `r`, still encoded.
pub fn path_segments(r: &Request) -> Vec<&str> {
    r.path().split('/').skip(1).collect()
}

/// A raw comma-separated name list (a path segment or a `channel-group` value as sent):
/// each name decoded, sorted. `,` alone is the empty list.
pub fn decoded_names(encoded: &str) -> Vec<String> {
    let mut names: Vec<String> = encoded
        .split(',')
        .filter(|n| !n.is_empty())
        .map(|n| pn_core::encoding::decode(n).expect("names are UTF-8"))
        .collect();
    names.sort();
    names
}

/// The directory of the recorded conformance traffic.
pub fn conformance_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/conformance"
    ))
}

/// Every record of every `*.jsonl` file of the conformance data, in file order.
pub fn conformance_records() -> Vec<serde_json::Value> {
    let dir = conformance_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            out.push(serde_json::from_str(line).expect("one JSON object a line"));
        }
    }
    out
}

/// The recorded response of a conformance record (base64-decoded when the record says so).
pub fn recorded_response(record: &serde_json::Value) -> Response {
    use base64::Engine;
    let status = record["status"].as_u64().unwrap_or(0) as u16;
    let body = record["response_body"].as_str().unwrap_or("");
    let base64 = record["notes"]
        .as_array()
        .is_some_and(|n| n.iter().any(|x| x == "response_body_base64"));
    let body = if base64 {
        base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .expect("valid base64 body")
    } else {
        body.as_bytes().to_vec()
    };
    Response::new(status, body)
}

impl Harness {
    /// Moves the clock forward by `d` and fires whatever is due.
    pub fn advance_by(&mut self, d: Duration) {
        self.now += d;
        self.core.handle_timeout(self.now);
    }

    /// Answers request `id` with a transport failure of `kind`.
    pub fn fail(&mut self, id: RequestId, kind: pn_core::TransportErrorKind) {
        self.core
            .handle_response(id, Err(transport_error(kind)), self.now);
    }
}
