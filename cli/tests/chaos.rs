//! End-to-end robustness of the `pn` binary on every transport, talking only to 127.0.0.1:
//! `pn chaos` through the embedded dev server's seeded faults, and bad input across the public
//! surface — invalid channel names, oversize and non-JSON messages (typed usage errors, nothing
//! sent), a server answering invalid UTF-8 or non-JSON (MalformedResponse), and a server
//! answering an endless or huge body (rejected at the adapters' cap, memory bounded).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

mod common;

use common::*;
use pn_devserver::Endpoint;

/// The run failed with `code` and exactly one `pn: error:` line on stderr, free of panic text.
fn assert_error(o: &Output, code: i32) -> String {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {} stderr: {}",
        stdout(o),
        stderr(o)
    );
    one_error_line(o)
}

// ----- chaos -----

/// The `key=value` fields of the `chaos summary:` line.
fn summary(stdout: &str) -> std::collections::HashMap<String, String> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("chaos summary: "))
        .unwrap_or_else(|| panic!("no summary line in {stdout}"));
    line["chaos summary: ".len()..]
        .split(' ')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn chaos(transport: &str) {
    let o = run(pn().args([
        "--transport",
        transport,
        "chaos",
        "--count",
        "40",
        "--interval-ms",
        "20",
        "--seed",
        "7",
        "--fault-rate",
        "0.3",
    ]));
    let out = stdout(&o);
    assert!(o.status.success(), "{transport}: {out}\n{}", stderr(&o));
    let s = summary(&out);
    assert_eq!(s["transport"], transport);
    for (key, want) in [
        ("sent", "40"),
        ("received", "40"),
        ("duplicates", "0"),
        ("missing", "0"),
        ("out_of_order", "0"),
        ("foreign", "0"),
        ("unresolved", "0"),
    ] {
        assert_eq!(s[key], want, "{transport} {key}: {out}");
    }
    let recovered: u32 = s["recovered"].parse().unwrap();
    assert!(recovered >= 1, "{transport}: no outage recovered: {out}");
    assert_eq!(s["outages"], s["recovered"], "{out}");
    // The statuses tell the story, in order, on their own lines.
    let story: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("status: "))
        .map(|l| l.split([' ', ',']).next().unwrap())
        .collect();
    assert_eq!(story.first(), Some(&"Connected"), "{out}");
    let pos = story
        .iter()
        .position(|c| *c == "UnexpectedDisconnect")
        .unwrap();
    assert!(story[pos..].contains(&"Reconnected"), "{story:?}");
    assert!(out.contains("chaos: ok: 40 messages exactly once and in order"));
}

#[test]
fn chaos_hyper() {
    chaos("hyper");
}

#[test]
fn chaos_async_std() {
    chaos("async-std");
}

#[test]
fn chaos_blocking() {
    chaos("blocking");
}

#[test]
fn chaos_refuses_bad_arguments() {
    let o = run(pn().args(["chaos", "--fault-rate", "1.5"]));
    assert!(assert_error(&o, 2).contains("--fault-rate"));
    let o = run(pn().args(["chaos", "--channel", "bad,name"]));
    assert_error(&o, 2);
}

// ----- bad input from the caller: typed usage errors, nothing sent -----

#[test]
fn invalid_channel_names_are_refused_before_sending() {
    let server = server();
    let origin = server.origin();
    let long = "x".repeat(93);
    for t in TRANSPORTS {
        for bad in ["", "a-pnpres", long.as_str(), "a\u{1}b", "a,b", "a:b"] {
            let o = run(pn()
                .args(["--origin", &origin, "--transport", t])
                .args(["publish", "-c", bad, "-m", "1"]));
            assert_error(&o, 2);
        }
        for bad in [long.as_str(), "a\u{7}b", "a:b"] {
            let o = run(pn().args(["--origin", &origin, "--transport", t]).args([
                "subscribe",
                "-c",
                bad,
                "--count",
                "1",
            ]));
            assert_error(&o, 2);
        }
    }
    assert_eq!(server.faults().request_count(Endpoint::Any), 0);
}

#[test]
fn oversize_and_non_json_messages_are_refused_before_sending() {
    let server = server();
    let origin = server.origin();
    let oversize = format!("\"{}\"", "x".repeat(33 * 1024));
    for t in TRANSPORTS {
        let o = run(pn()
            .args(["--origin", &origin, "--transport", t])
            .args(["publish", "-c", "ch", "-m", &oversize]));
        let err = assert_error(&o, 2);
        assert!(err.contains("the limit is"), "{t}: {err}");
        for bad in ["{nope", "not json", "1 2", ""] {
            let o = run(pn()
                .args(["--origin", &origin, "--transport", t])
                .args(["publish", "-c", "ch", "-m", bad]));
            let err = assert_error(&o, 2);
            assert!(err.contains("JSON"), "{t} {bad:?}: {err}");
        }
    }
    assert_eq!(server.faults().request_count(Endpoint::Any), 0);
}

// ----- bad answers from the server -----

/// A raw HTTP server on 127.0.0.1 answering every request with `head` and then `body` (called
/// with the connection, it writes what it likes); counts the body bytes it got out.
struct RawServer {
    port: u16,
    written: Arc<AtomicU64>,
}

type BodyWriter = fn(&mut TcpStream, &AtomicU64);

impl RawServer {
    fn start(head: &'static str, body: BodyWriter) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let written = Arc::new(AtomicU64::new(0));
        let counter = written.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let counter = counter.clone();
                std::thread::spawn(move || {
                    if read_head(&mut stream) && stream.write_all(head.as_bytes()).is_ok() {
                        body(&mut stream, &counter);
                    }
                });
            }
        });
        RawServer { port, written }
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }
}

/// Reads up to the end of the request head; false if the connection ended first.
fn read_head(stream: &mut TcpStream) -> bool {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    true
}

fn fixed(bytes: &'static [u8]) -> impl Fn(&mut TcpStream, &AtomicU64) {
    move |s, n| {
        if s.write_all(bytes).is_ok() {
            n.fetch_add(bytes.len() as u64, Ordering::SeqCst);
        }
    }
}

/// Writes zeros in 64 KiB pieces (as chunks when `chunked`) until the peer stops reading or
/// `limit` bytes went out.
fn stream_zeros(s: &mut TcpStream, n: &AtomicU64, chunked: bool, limit: u64) {
    let piece = vec![b'0'; 64 * 1024];
    let _ = s.set_write_timeout(Some(Duration::from_secs(10)));
    while n.load(Ordering::SeqCst) < limit {
        let ok = if chunked {
            s.write_all(format!("{:x}\r\n", piece.len()).as_bytes())
                .and_then(|_| s.write_all(&piece))
                .and_then(|_| s.write_all(b"\r\n"))
        } else {
            s.write_all(&piece)
        };
        if ok.is_err() {
            return;
        }
        n.fetch_add(piece.len() as u64, Ordering::SeqCst);
    }
}

const INVALID_UTF8: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\nConnection: close\r\n\r\n";
const NOT_JSON: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 21\r\nConnection: close\r\n\r\n";

fn invalid_utf8_body(s: &mut TcpStream, n: &AtomicU64) {
    fixed(b"[1,\"\xff\xfe\",\"1\"]")(s, n)
}

fn not_json_body(s: &mut TcpStream, n: &AtomicU64) {
    fixed(b"<html>oops</html>\r\n\r\n")(s, n)
}

#[test]
fn invalid_utf8_and_non_json_answers_are_malformed_responses() {
    let servers = [
        RawServer::start(INVALID_UTF8, invalid_utf8_body),
        RawServer::start(NOT_JSON, not_json_body),
    ];
    for server in &servers {
        let origin = server.origin();
        for t in TRANSPORTS {
            for args in [
                &["time"][..],
                &["publish", "-c", "ch", "-m", "1"],
                &["here-now", "-c", "ch"],
                &["subscribe", "-c", "ch", "--retries", "0"],
            ] {
                let o = run(pn()
                    .args(["--origin", &origin, "--transport", t])
                    .args(args));
                let err = assert_error(&o, 1);
                assert!(err.contains("(MalformedResponse)"), "{t} {args:?}: {err}");
            }
        }
    }
}

/// Content-Length of 64 MiB, then zeros at the reader's pace.
const HUGE: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 67108864\r\nConnection: close\r\n\r\n";
/// A chunked body that never ends.
const ENDLESS: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
/// The adapters' default cap on a response body.
const CAP: u64 = 16 * 1024 * 1024;

fn huge_body(s: &mut TcpStream, n: &AtomicU64) {
    stream_zeros(s, n, false, 64 << 20)
}

fn endless_body(s: &mut TcpStream, n: &AtomicU64) {
    // Bounded so that the test stops by itself even if a client read forever.
    stream_zeros(s, n, true, 256 << 20)
}

/// Runs `cmd` to completion, sampling its peak resident memory (`VmHWM`, KiB) while it runs.
fn run_measuring_peak(cmd: &mut Command) -> (Output, u64) {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pn");
    let status = format!("/proc/{}/status", child.id());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let mut peak = 0;
    loop {
        // VmHWM is a high-water mark: any sample after the peak reads the peak.
        if let Ok(s) = std::fs::read_to_string(&status)
            && let Some(kib) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kib);
        }
        match rx.recv_timeout(Duration::from_millis(5)) {
            Ok(output) => return (output.expect("run pn"), peak),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn huge_and_endless_answers_are_rejected_at_the_cap() {
    for t in TRANSPORTS {
        for (head, body) in [(HUGE, huge_body as BodyWriter), (ENDLESS, endless_body)] {
            let what = head.lines().nth(2).unwrap_or_default();
            let server = RawServer::start(head, body);
            let (o, peak_kib) = run_measuring_peak(
                pn().args(["--origin", &server.origin(), "--transport", t])
                    .arg("time"),
            );
            let err = assert_error(&o, 1);
            assert!(
                err.contains("BodyTooLarge") && err.contains("(MalformedResponse)"),
                "{t} {what}: {err}"
            );
            // The client stopped reading at its cap (plus what socket buffers hold), rather
            // than taking everything in; its memory stayed well below the body's size.
            let written = server.written();
            assert!(
                written <= CAP + (16 << 20),
                "{t} {what}: the server got {written} bytes out before the client gave up"
            );
            if cfg!(target_os = "linux") {
                assert!(peak_kib > 0, "no memory sample");
                assert!(
                    peak_kib < 60 * 1024,
                    "{t} {what}: peak resident memory {peak_kib} KiB"
                );
            }
        }
    }
}
