//! Fault injection of each kind, targets, endpoint filters and request counters.

mod common;

use std::io::{BufReader, Read};
use std::time::{Duration, Instant};

use common::*;
use pn_devserver::{Endpoint, Fault, FaultRule, Options, Target};

#[test]
fn close_connection_drops_without_an_answer_then_recovers() {
    let server = start(Options::default());
    server
        .faults()
        .inject(FaultRule::new(Fault::CloseConnection, Target::Next(1)));
    let bytes = raw(server.addr(), "/time/0").unwrap_or_default();
    assert!(
        bytes.is_empty(),
        "got {:?}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(get(&server, "/time/0").status, 200);
}

#[test]
fn delay_answers_normally_after_the_pause() {
    let server = start(Options::default());
    server.faults().inject(FaultRule::new(
        Fault::Delay(Duration::from_millis(300)),
        Target::Next(1),
    ));
    let started = Instant::now();
    let reply = get(&server, "/time/0");
    assert_eq!(reply.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[test]
fn status_answers_the_code_with_retry_after_and_a_json_body() {
    let server = start(Options::default());
    let faults = server.faults();
    faults.inject(
        FaultRule::new(
            Fault::Status {
                code: 429,
                retry_after: Some(3),
            },
            Target::Next(1),
        )
        .on(Endpoint::Publish),
    );
    faults.inject(
        FaultRule::new(
            Fault::Status {
                code: 503,
                retry_after: None,
            },
            Target::Next(1),
        )
        .on(Endpoint::Publish),
    );
    assert_eq!(
        get(&server, "/time/0").status,
        200,
        "other endpoints are untouched"
    );
    let limited = get(&server, "/publish/demo/demo/0/c/0/1");
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("3"));
    assert_eq!(limited.json()["status"], 429);
    let unavailable = get(&server, "/publish/demo/demo/0/c/0/1");
    assert_eq!(unavailable.status, 503);
    assert!(unavailable.header("retry-after").is_none());
    assert_eq!(get(&server, "/publish/demo/demo/0/c/0/1").status, 200);
    assert_eq!(faults.request_count(Endpoint::Publish), 3);
    assert_eq!(faults.request_count(Endpoint::Time), 1);
    assert_eq!(faults.request_count(Endpoint::Any), 4);
}

#[test]
fn truncate_sends_full_content_length_then_a_cut_body() {
    let server = start(Options::default());
    server
        .faults()
        .inject(FaultRule::new(Fault::Truncate, Target::Next(1)));
    let mut stream = connect(server.addr());
    std::io::Write::write_all(
        &mut stream,
        b"GET /publish/demo/demo/0/c/0/%22hello%22 HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .unwrap();
    let mut bytes = Vec::new();
    let _ = BufReader::new(stream).read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let (head, body) = text.split_once("\r\n\r\n").expect("headers arrive");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let announced: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap();
    assert!(
        !body.is_empty() && body.len() < announced,
        "{} of {announced}",
        body.len()
    );
}

#[test]
fn stall_never_answers_until_the_client_gives_up() {
    let server = start(Options::default());
    server
        .faults()
        .inject(FaultRule::new(Fault::Stall, Target::Next(1)).on(Endpoint::Time));
    let stream = connect(server.addr());
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    std::io::Write::write_all(&mut writer, b"GET /time/0 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = [0u8; 64];
    let err = BufReader::new(stream)
        .read(&mut buf)
        .expect_err("no answer");
    assert!(matches!(
        err.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ));
    assert_eq!(
        get(&server, "/time/0").status,
        200,
        "the next request is served"
    );
}

#[test]
fn random_target_is_seeded_and_deterministic() {
    let outcomes = || {
        let server = start(Options::default());
        server.faults().inject(FaultRule::new(
            Fault::Status {
                code: 500,
                retry_after: None,
            },
            Target::Random {
                fraction: 0.5,
                seed: 42,
            },
        ));
        (0..40)
            .map(|_| get(&server, "/time/0").status)
            .collect::<Vec<_>>()
    };
    let first = outcomes();
    assert_eq!(first, outcomes());
    let failures = first.iter().filter(|s| **s == 500).count();
    assert!((8..=32).contains(&failures), "{failures} of 40");
}

#[test]
fn request_log_and_clear() {
    let server = start(Options::default());
    let faults = server.faults();
    faults.inject(FaultRule::new(
        Fault::Status {
            code: 500,
            retry_after: None,
        },
        Target::Next(100),
    ));
    assert_eq!(get(&server, "/time/0?uuid=a").status, 500);
    faults.clear();
    assert_eq!(get(&server, "/v2/presence/sub-key/demo/uuid/a").status, 200);
    let log = faults.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].path_and_query, "/time/0?uuid=a");
    assert_eq!(log[1].endpoint, Endpoint::Presence);
    assert!(faults.wait_for_requests(Endpoint::Presence, 1, Duration::from_millis(10)));
    assert!(!faults.wait_for_requests(Endpoint::Subscribe, 1, Duration::from_millis(10)));
}
