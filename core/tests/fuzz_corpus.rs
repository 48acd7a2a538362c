//! The fuzz corpus on stable: every committed input of `fuzz/corpus/<target>/` and every crash
//! kept under `fuzz/regressions/<target>/` goes through the same checks as the cargo-fuzz
//! targets (the file `fuzz/checks.rs`, compiled here as a module), so a crash once found stays
//! fixed without nightly or cargo-fuzz. The signing and state-machine targets read their input
//! through `arbitrary`, which pn-core does not depend on; their checks run here on fixed
//! vectors and scripted scenarios instead, and their regressions are written as tests below.

#[path = "../../fuzz/checks.rs"]
mod checks;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use checks::{Driver, Target};
use pn_core::{
    Channel, ChannelGroup, Config, Core, Event, Method, Publish, Response, RetryPolicy, Subscribe,
    Timetoken, TransportError, TransportErrorKind,
};

fn fuzz_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz"))
}

/// The files of `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/`, sorted.
fn inputs(target: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for kind in ["corpus", "regressions"] {
        let dir = fuzz_dir().join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        files.extend(
            entries
                .map(|e| e.expect("directory entry").path())
                .filter(|p| p.is_file()),
        );
    }
    files.sort();
    files
}

/// Runs `check` on every input of `target`; fails naming every input that panicked.
fn replay(target: &str, min_inputs: usize, check: fn(&[u8])) {
    let files = inputs(target);
    assert!(
        files.len() >= min_inputs,
        "only {} inputs for {target} under {}",
        files.len(),
        fuzz_dir().display()
    );
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("readable corpus file");
            catch_unwind(AssertUnwindSafe(|| check(&data))).is_err()
        })
        .map(|p| display(p))
        .collect();
    assert!(failed.is_empty(), "{target}: failing inputs {failed:#?}");
}

fn display(p: &Path) -> String {
    p.strip_prefix(fuzz_dir())
        .unwrap_or(p)
        .display()
        .to_string()
}

#[test]
fn subscribe_decoder_corpus() {
    replay("subscribe_decoder", 100, checks::check_subscribe);
}

#[test]
fn bodies_corpus() {
    replay("bodies", 100, checks::check_bodies);
}

#[test]
fn encoding_corpus() {
    replay("encoding", 10, checks::check_encoding);
}

#[test]
fn input_format_reads_the_head_line() {
    let r = checks::response(b"429 3\n{}");
    assert_eq!(
        (r.status, r.retry_after.as_deref(), &r.body[..]),
        (429, Some("3"), &b"{}"[..])
    );
    let r = checks::response(b"{\"t\":1}\n");
    assert_eq!((r.status, &r.body[..]), (200, &b"{\"t\":1}\n"[..]));
    let r = checks::response(b"65536\nx");
    assert_eq!((r.status, &r.body[..]), (200, &b"65536\nx"[..]));
}

/// Secret, publish key, method, path, query pairs, body.
type SigningCase = (
    &'static str,
    &'static str,
    Method,
    &'static str,
    Vec<(&'static str, &'static str)>,
    &'static [u8],
);

#[test]
fn signing_matches_the_reference() {
    let q = |pairs: &[(&'static str, &'static str)]| pairs.to_vec();
    let cases: Vec<SigningCase> = vec![
        (
            "sec",
            "pub",
            Method::Get,
            "/time/0",
            q(&[
                ("uuid", "u~1"),
                ("timestamp", "1700000000"),
                ("auth", "a b"),
            ]),
            b"",
        ),
        ("", "", Method::Get, "", q(&[]), b""),
        (
            "s\u{e9}cr\u{e8}t",
            "pub-c-1",
            Method::Post,
            "/publish/pub-c-1/sub-c-1/0/ch%201/0",
            q(&[
                ("seqn", "1"),
                ("uuid", "\u{fc} +&=%"),
                ("pnsdk", "PubNub-Rust/1"),
            ]),
            br#"{"text":"hi there!"}"#,
        ),
        // Repeated keys sort by value; values that differ only in escaped characters.
        (
            "k",
            "p",
            Method::Get,
            "/v2/subscribe/s/a,b/0",
            q(&[("z", "~"), ("z", "a"), ("a", "*"), ("a", "!"), ("m", "")]),
            b"",
        ),
    ];
    for (secret, publish_key, method, path, query, body) in cases {
        checks::check_signing(secret, publish_key, method, path, &query, body);
    }
    // The reference agrees with pn-core's own vector, computed with Python.
    let vector = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/signing_vector.txt"
    ))
    .expect("signing vector");
    let reference = checks::reference_signature(
        "sec",
        "pub",
        Method::Get,
        "/time/0",
        &[
            ("uuid", "u~1"),
            ("timestamp", "1700000000"),
            ("auth", "a b"),
        ],
        b"",
    );
    assert_eq!(reference, vector.trim());
}

// ----- the state-machine driver on scripted scenarios -----

fn config() -> Config {
    let mut c = Config::new("sub", "u").with_publish_key("pub");
    c.retry_policy = RetryPolicy::Linear {
        delay: Duration::from_secs(2),
        max_retries: 2,
    };
    c.dedupe_cache_size = 2;
    c
}

fn ch(names: &[&str]) -> Vec<Channel> {
    names.iter().map(|n| Channel::new(n).unwrap()).collect()
}

fn envelope(channel: &str, tt: u64, d: &str) -> String {
    format!(r#"{{"p":{{"t":"{tt}","r":1}},"c":"{channel}","d":{d}}}"#)
}

fn body(tt: u64, envelopes: &[String]) -> Response {
    Response::new(
        200,
        format!(
            r#"{{"t":{{"t":"{tt}","r":7}},"m":[{}]}}"#,
            envelopes.join(",")
        ),
    )
}

fn delivered(d: &Driver) -> usize {
    d.events
        .iter()
        .filter(|e| matches!(e, Event::Message(_)))
        .count()
}

#[test]
fn driver_follows_a_subscription_with_duplicates_failures_and_late_answers() {
    let mut d = Driver::new(config(), 1).unwrap();
    d.subscribe(
        Subscribe::channels(["a", "ch 1"])
            .unwrap()
            .with_presence(true),
    );
    assert_eq!(d.sent.len(), 1, "the handshake");
    d.answer(Target::LongPoll, Ok(body(100, &[])));
    let m = envelope("a", 50, r#""x""#);
    // The same event three times in one answer, then again in the next: delivered once.
    d.answer(
        Target::LongPoll,
        Ok(body(101, &[m.clone(), m.clone(), m.clone()])),
    );
    assert_eq!(delivered(&d), 1);
    d.answer(Target::LongPoll, Ok(body(102, std::slice::from_ref(&m))));
    assert_eq!(delivered(&d), 0);
    // Two newer events push it out of the window of 2: then it counts as new.
    let (m2, m3) = (envelope("a", 51, "1"), envelope("ch 1", 51, "1"));
    d.answer(Target::LongPoll, Ok(body(103, &[m2, m3, m.clone()])));
    assert_eq!(delivered(&d), 3);
    // A region switch re-delivers with a lower timetoken: adopted verbatim.
    d.answer(Target::LongPoll, Ok(body(90, &[])));
    assert_eq!(d.core().cursor().timetoken, Timetoken(90));
    d.publish(Publish::new("a", "hi").unwrap());
    d.time();
    d.answer(
        Target::InFlight(0),
        Ok(Response::new(200, r#"[1,"Sent","5"]"#)),
    );
    d.answer(
        Target::InFlight(0),
        Err(TransportError::new(TransportErrorKind::Connect, "x")),
    );
    // Receive failures, retries and the watchdog, all in virtual time.
    d.answer(
        Target::LongPoll,
        Err(TransportError::new(TransportErrorKind::ConnectionLost, "x")),
    );
    for _ in 0..8 {
        d.advance_to_deadline();
    }
    d.reconnect(None);
    d.answer(Target::LongPoll, Ok(body(200, &[])));
    // Late answers to everything already answered or cancelled change nothing.
    for n in 0..12 {
        d.answer(Target::Retired(n), Ok(body(999, &[envelope("a", 7, "7")])));
    }
    d.unsubscribe(&ch(&["a"]), &[]);
    d.unsubscribe(&ch(&["ch 1"]), &[]);
    assert!(d.core().cursor().timetoken.0 == 0, "emptied: reset");
    d.advance(Duration::from_secs(3600));
    d.finish();
}

#[test]
fn driver_with_secret_heartbeats_and_groups() {
    let mut c = config();
    c.secret_key = Some("secret".into());
    c.auth_token = Some("tok en".into());
    c.heartbeat_interval = Some(10);
    let mut d = Driver::new(c, 2).unwrap();
    let groups = [ChannelGroup::new("g").unwrap()];
    d.subscribe(
        Subscribe::channels(["\u{fc}/x"])
            .unwrap()
            .groups(["g"])
            .unwrap(),
    );
    d.set_state(&ch(&["\u{fc}/x"]), r#"{"mood":"ok"}"#);
    d.here_now(pn_core::HereNowQuery::default());
    d.where_now();
    for n in 0..4 {
        if let Some(r) = d.request(Target::InFlight(n)).cloned() {
            d.answer(Target::InFlight(n), Ok(checks::fitting_answer(&r, 17)));
        }
    }
    for _ in 0..5 {
        d.advance_to_deadline();
    }
    d.disconnect();
    d.subscribe(
        Subscribe::channels(["b"])
            .unwrap()
            .from_timetoken(Timetoken(5)),
    );
    d.reconnect(Some(Timetoken(6)));
    d.unsubscribe(&[], &groups);
    d.subscribe(Subscribe::channels(["c"]).unwrap());
    d.unsubscribe_all();
    d.finish();
}

// ----- regressions: pn-core bugs found while writing the fuzz targets -----
//
// `Config::validate` once bounded no duration from above, and the core adds durations to
// `Instant`s, which panics on overflow: a config `Core::new` accepted then panicked on the first
// request (timeouts) or the first retry (retry delays). Timeouts above a day and retry delays
// above an hour are now refused.

#[test]
fn huge_timeouts_are_refused_or_work() {
    let now = Instant::now();
    for long_poll in [true, false] {
        let mut c = Config::new("sub", "u");
        if long_poll {
            c.subscribe_timeout = Duration::MAX;
        } else {
            c.request_timeout = Duration::MAX;
        }
        let Ok(mut core) = Core::new(c, 1, now, Duration::ZERO) else {
            continue;
        };
        core.subscribe(Subscribe::channels(["a"]).unwrap(), now)
            .unwrap();
        core.time(now);
    }
}

#[test]
fn huge_retry_delays_are_refused_or_work() {
    let now = Instant::now();
    let policies = [RetryPolicy::Linear {
        delay: Duration::MAX,
        max_retries: 1,
    }];
    for policy in policies {
        let mut c = Config::new("sub", "u");
        c.retry_policy = policy;
        let Ok(mut core) = Core::new(c, 1, now, Duration::ZERO) else {
            continue;
        };
        core.subscribe(Subscribe::channels(["a"]).unwrap(), now)
            .unwrap();
        for _ in 0..3 {
            let Some(pn_core::TransportAction::Send(r)) = core.poll_transmit() else {
                break;
            };
            let lost = TransportError::new(TransportErrorKind::ConnectionLost, "x");
            core.handle_response(r.id, Err(lost), now);
            while core.poll_event().is_some() {}
            if let Some(t) = core.poll_timeout() {
                core.handle_timeout(t);
            }
        }
    }
}

#[test]
fn driver_holds_a_long_poll_back_for_a_day_then_sends_it() {
    let mut d = Driver::new(config(), 3).unwrap();
    d.subscribe(Subscribe::channels(["a"]).unwrap());
    d.answer(Target::LongPoll, Ok(body(100, &[])));
    d.hold(Target::LongPoll);
    // The driver panics if the watchdog touches the held long-poll.
    d.advance(Duration::from_secs(24 * 3600));
    d.advance_to_deadline();
    assert!(d.request(Target::LongPoll).is_some(), "still in flight");
    d.release(Target::LongPoll);
    d.answer(Target::LongPoll, Ok(body(101, &[envelope("a", 60, "1")])));
    assert_eq!(delivered(&d), 1);
    // Released and unanswered, the next one is the watchdog's again.
    d.hold(Target::LongPoll);
    d.release(Target::LongPoll);
    d.advance_to_deadline();
    assert!(d.request(Target::LongPoll).is_none(), "timed out once sent");
    d.finish();
}
