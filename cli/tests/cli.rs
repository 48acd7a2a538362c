//! The `pn` binary against an in-process dev server on 127.0.0.1.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

mod common;

use common::*;
use pn_devserver::{DevServer, Options};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/conformance");

/// Asserts the run failed with exactly one `pn: error:` line on stderr, free of panic text.
fn assert_one_error_line(o: &Output) -> String {
    assert!(
        !o.status.success(),
        "expected failure, stdout: {}",
        stdout(o)
    );
    one_error_line(o)
}

/// A port on 127.0.0.1 that nothing listens on.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A running `pn subscribe`, its stdout lines arriving on a channel.
struct Subscriber {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Subscriber {
    fn start(origin: &str, transport: &str, extra: &[&str]) -> Subscriber {
        let mut child = pn()
            .args(["--origin", origin, "--transport", transport, "subscribe"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn pn subscribe");
        let out: ChildStdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Subscriber { child, lines }
    }

    /// The next stdout line (or panics after 10 s).
    fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(10))
            .expect("a line from pn subscribe")
    }

    /// Reads lines up to one containing `needle`; returns them all.
    fn until(&self, needle: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = self.line();
            let done = line.contains(needle);
            seen.push(line);
            if done {
                return seen;
            }
        }
    }

    /// Waits for the process to exit (at most 10 s); its status and remaining stdout lines.
    fn finish(mut self) -> (std::process::ExitStatus, Vec<String>, String) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("pn subscribe did not exit");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let rest: Vec<String> = self.lines.iter().collect();
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        (status, rest, err)
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

fn round_trip(transport: &str) {
    let server = server();
    let origin = server.origin();
    let channel = format!("rt-{transport}");
    let sub = Subscriber::start(
        &origin,
        transport,
        &["--channel", &channel, "--count", "2", "--json"],
    );
    let first = json(&sub.line());
    assert_eq!(first["type"], "status", "{first}");
    assert_eq!(first["category"], "Connected", "{first}");
    let mut timetokens = Vec::new();
    for (i, msg) in [r#"{"n":1}"#, r#""two""#].iter().enumerate() {
        let o = run(pn().args([
            "--origin",
            &origin,
            "--transport",
            transport,
            "publish",
            "--channel",
            &channel,
            "--message",
            msg,
        ]));
        assert!(o.status.success(), "publish {i}: {}", stderr(&o));
        let tt = stdout(&o).trim().to_owned();
        assert!(
            tt.len() >= 17 && tt.bytes().all(|b| b.is_ascii_digit()),
            "{tt:?}"
        );
        timetokens.push(tt);
    }
    let (status, rest, err) = sub.finish();
    assert!(status.success(), "subscribe exit {status:?}: {err}");
    let messages: Vec<serde_json::Value> = rest
        .iter()
        .map(|l| json(l))
        .filter(|v| v["type"] == "message")
        .collect();
    assert_eq!(messages.len(), 2, "{rest:?}");
    assert_eq!(messages[0]["channel"], channel.as_str());
    assert_eq!(messages[0]["payload"], json(r#"{"n":1}"#));
    assert_eq!(messages[1]["payload"], "two");
    assert_eq!(messages[0]["timetoken"], timetokens[0].as_str());
    assert_eq!(messages[1]["timetoken"], timetokens[1].as_str());
}

#[test]
fn publish_subscribe_round_trip_hyper() {
    round_trip("hyper");
}

#[test]
fn publish_subscribe_round_trip_async_std() {
    round_trip("async-std");
}

#[test]
fn publish_subscribe_round_trip_blocking() {
    round_trip("blocking");
}

#[test]
fn time_and_signal_on_every_transport() {
    let server = server();
    for t in TRANSPORTS {
        let o = run(pn().args(["--origin", &server.origin(), "--transport", t, "time"]));
        assert!(o.status.success(), "{t}: {}", stderr(&o));
        let tt: u64 = stdout(&o).trim().parse().expect("a timetoken");
        assert!(tt > 15_000_000_000_000_000, "{t}: {tt}");

        let o = run(pn()
            .args(["signal", "-c", "sig", "-m", r#"{"s":1}"#, "--transport", t])
            .args(["--origin", &server.origin()]));
        assert!(o.status.success(), "{t}: {}", stderr(&o));
        assert!(stdout(&o).trim().parse::<u64>().is_ok(), "{}", stdout(&o));
    }
}

#[test]
fn dry_run_prints_the_exact_request_and_sends_nothing() {
    // A closed port: a dry run must not try to connect.
    let origin = format!("http://127.0.0.1:{}", closed_port());
    let o = run(pn().args([
        "publish",
        "--dry-run",
        "--origin",
        &origin,
        "--user-id",
        "me",
        "--channel",
        "ch 1",
        "--message",
        r#"{"a":[1,"b c"]}"#,
        "--store",
        "false",
        "--ttl",
        "5",
        "--meta",
        r#"{"k":"v"}"#,
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(stdout(&o).trim());
    assert_eq!(v["method"], "GET");
    assert_eq!(
        v["path"],
        "/publish/demo/demo/0/ch%201/0/%7B%22a%22%3A%5B1%2C%22b%20c%22%5D%7D"
    );
    let sdk = format!("PubNub-Rust-pn%2F{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(
        v["query"],
        format!("store=0&ttl=5&meta=%7B%22k%22%3A%22v%22%7D&seqn=1&uuid=me&pnsdk={sdk}")
    );
    assert_eq!(v["body"], serde_json::Value::Null);

    let o = run(pn().args([
        "publish",
        "--dry-run",
        "--post",
        "--user-id",
        "me",
        "-c",
        "ch",
        "-m",
        r#"["x"]"#,
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(stdout(&o).trim());
    assert_eq!(v["method"], "POST");
    assert_eq!(v["path"], "/publish/demo/demo/0/ch/0");
    assert_eq!(v["query"], format!("seqn=1&uuid=me&pnsdk={sdk}"));
    assert_eq!(v["body"], r#"["x"]"#);
}

#[test]
fn replay_prints_one_json_line_per_record() {
    for file in ["python.jsonl", "objectivec.jsonl"] {
        let path = format!("{CORPUS}/{file}");
        let input = std::fs::read_to_string(&path).expect("the shared corpus");
        let o = run(pn().args(["replay", &path]));
        assert!(o.status.success(), "{file}: {}", stderr(&o));
        let out = stdout(&o);
        let records: Vec<&str> = input.lines().filter(|l| !l.trim().is_empty()).collect();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), records.len(), "{file}");
        for (record, line) in records.iter().zip(&lines) {
            let (r, l) = (json(record), json(line));
            assert_eq!(l["source"], r["source"], "{file}");
            assert!(l["outcome"] == "ok" || l["outcome"] == "error", "{line}");
        }
    }
}

#[test]
fn replay_reads_stdin() {
    let path = format!("{CORPUS}/python.jsonl");
    let first = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let mut child = pn()
        .args(["replay", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), first.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert_eq!(json(out.trim())["source"], json(&first)["source"]);
}

#[test]
fn bad_json_message_is_refused_before_sending() {
    let origin = format!("http://127.0.0.1:{}", closed_port());
    let o = run(pn().args(["--origin", &origin, "publish", "-c", "ch", "-m", "{nope"]));
    let err = assert_one_error_line(&o);
    assert!(err.contains("JSON"), "{err}");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn missing_publish_key_is_refused() {
    let o = run(pn().args(["publish", "--pub-key", "", "-c", "ch", "-m", "1"]));
    let err = assert_one_error_line(&o);
    assert!(err.contains("publish key"), "{err}");
}

#[test]
fn unreachable_origin_reports_network_issues() {
    let origin = format!("http://127.0.0.1:{}", closed_port());
    for t in TRANSPORTS {
        let o = run(pn().args([
            "--origin",
            &origin,
            "--transport",
            t,
            "publish",
            "-c",
            "c",
            "-m",
            "1",
        ]));
        let err = assert_one_error_line(&o);
        assert!(err.contains("NetworkIssues"), "{t}: {err}");
        assert_eq!(o.status.code(), Some(1), "{t}");
    }
    for t in TRANSPORTS {
        let o = run(pn().args(["--origin", &origin, "--transport", t]).args([
            "subscribe",
            "-c",
            "c",
            "--retries",
            "0",
        ]));
        let err = assert_one_error_line(&o);
        assert!(err.contains("NetworkIssues"), "{t}: {err}");
    }
}

#[test]
fn access_denied_is_reported() {
    let mut grants = HashMap::new();
    grants.insert("tok".to_owned(), vec!["open".to_owned()]);
    let options = Options {
        grants: Some(grants),
        ..Options::default()
    };
    let server = DevServer::start("127.0.0.1:0".parse().unwrap(), options).unwrap();
    let origin = server.origin();
    let ok = run(pn().args([
        "--origin", &origin, "--auth", "tok", "publish", "-c", "open", "-m", "1",
    ]));
    assert!(ok.status.success(), "{}", stderr(&ok));
    let o = run(pn().args([
        "--origin", &origin, "--auth", "tok", "publish", "-c", "closed", "-m", "1",
    ]));
    let err = assert_one_error_line(&o);
    assert!(err.contains("AccessDenied"), "{err}");
    let o = run(pn().args([
        "--origin",
        &origin,
        "--auth",
        "tok",
        "subscribe",
        "-c",
        "closed",
    ]));
    let err = assert_one_error_line(&o);
    assert!(err.contains("AccessDenied"), "{err}");
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let o = run(pn().args(["publish", "--channel", "c"]));
    let err = assert_one_error_line(&o);
    assert!(err.contains("--message"), "{err}");
    assert_eq!(o.status.code(), Some(2));
    let o = run(pn().args(["--transport", "carrier-pigeon", "time"]));
    assert_one_error_line(&o);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn help_documents_exit_codes() {
    let o = run(pn().arg("--help"));
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.contains("Exit status"), "{out}");
    for cmd in [
        "demo",
        "serve",
        "publish",
        "subscribe",
        "replay",
        "time",
        "here-now",
    ] {
        assert!(out.contains(cmd), "{cmd} missing from --help");
    }
}

#[test]
fn presence_commands_see_a_subscriber() {
    let server = server();
    let origin = server.origin();
    let sub = Subscriber::start(
        &origin,
        "blocking",
        &["--channel", "room", "--user-id", "alice"],
    );
    sub.until("Connected");
    for t in TRANSPORTS {
        let o = run(pn().args([
            "--origin",
            &origin,
            "--transport",
            t,
            "here-now",
            "-c",
            "room",
        ]));
        assert!(o.status.success(), "{t}: {}", stderr(&o));
        assert!(
            stdout(&o).lines().any(|l| l.trim() == "alice"),
            "{t}: {}",
            stdout(&o)
        );

        let o = run(pn().args([
            "--origin",
            &origin,
            "--transport",
            t,
            "where-now",
            "--uuid",
            "alice",
        ]));
        assert!(o.status.success(), "{t}: {}", stderr(&o));
        assert_eq!(stdout(&o).trim(), "room", "{t}");
    }
    let o = run(pn().args([
        "--origin",
        &origin,
        "state",
        "set",
        "-c",
        "room",
        "--uuid",
        "bob",
        "-s",
        r#"{"mood":"ok"}"#,
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(pn().args([
        "--origin", &origin, "state", "get", "-c", "room", "--uuid", "bob",
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let (channel, state) = out.trim().split_once(' ').expect("channel and state");
    assert_eq!(channel, "room");
    assert_eq!(json(state), json(r#"{"mood":"ok"}"#));
    let o = run(pn().args([
        "--origin", &origin, "state", "set", "-c", "room", "-s", "[1]",
    ]));
    assert_one_error_line(&o);
}

#[test]
fn demo_runs_every_transport() {
    let o = run(pn().arg("demo"));
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    for t in TRANSPORTS {
        assert!(
            out.contains(&format!("hello from {t}")),
            "{t} missing: {out}"
        );
        assert!(
            out.contains(&format!("[{t:>9}]")),
            "{t} received nothing: {out}"
        );
    }
}

#[test]
fn serve_answers_until_interrupted() {
    let mut child = pn()
        .args(["serve", "--addr", "127.0.0.1:0", "--hold-time", "1"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pn serve");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    let origin = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    let o = run(pn().args(["--origin", &origin, "time"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(pn().args(["--origin", &origin, "publish", "-c", "c", "-m", "1"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
}

#[test]
fn secret_key_signs_requests() {
    let options = Options {
        secret_key: Some("sec-key".into()),
        ..Options::default()
    };
    let server = DevServer::start("127.0.0.1:0".parse().unwrap(), options).unwrap();
    let origin = server.origin();
    let signed = run(pn()
        .args(["--origin", &origin, "--secret-key", "sec-key"])
        .args(["publish", "-c", "c", "-m", r#"{"x":"y z"}"#]));
    assert!(signed.status.success(), "{}", stderr(&signed));
    let unsigned = run(pn().args(["--origin", &origin, "publish", "-c", "c", "-m", "1"]));
    let err = assert_one_error_line(&unsigned);
    assert!(err.contains("AccessDenied"), "{err}");
}

#[test]
fn json_subscription_prints_presence_events() {
    let server = server();
    let origin = server.origin();
    let sub = Subscriber::start(
        &origin,
        "hyper",
        &[
            "-c",
            "lobby",
            "--presence",
            "--json",
            "--user-id",
            "watcher",
        ],
    );
    sub.until("Connected");
    let other = Subscriber::start(
        &origin,
        "blocking",
        &["-c", "lobby", "--user-id", "visitor"],
    );
    let lines = sub.until("visitor");
    let join = json(lines.last().unwrap());
    assert_eq!(join["type"], "presence", "{join}");
    assert_eq!(join["channel"], "lobby");
    assert_eq!(join["presence"]["action"], "join");
    drop(other);
}

#[cfg(unix)]
#[test]
fn ctrl_c_leaves_the_channels_and_exits_cleanly() {
    let server = server();
    for transport in TRANSPORTS {
        let channel = format!("bye-{transport}");
        let sub = Subscriber::start(
            &server.origin(),
            transport,
            &["--channel", &channel, "--json", "--user-id", "leaver"],
        );
        assert_eq!(json(&sub.line())["category"], "Connected");
        let leaves = || {
            server
                .faults()
                .requests()
                .iter()
                .filter(|r| {
                    r.path_and_query
                        .contains(&format!("/channel/{channel}/leave"))
                })
                .count()
        };
        assert_eq!(leaves(), 0);
        // SIGINT, as a terminal's Ctrl-C sends it.
        let kill = run(Command::new("kill").args(["-INT", &sub.child.id().to_string()]));
        assert!(kill.status.success(), "kill -INT: {}", stderr(&kill));
        let (status, rest, err) = sub.finish();
        assert!(status.success(), "{transport}: exit {status:?}: {err}");
        assert!(
            rest.iter().any(|l| json(l)["category"] == "Disconnected"),
            "{transport}: {rest:?}"
        );
        assert_eq!(leaves(), 1, "{transport}: one leave");
    }
}

#[cfg(unix)]
#[test]
fn a_second_ctrl_c_exits_at_once_when_the_leave_hangs() {
    use pn_devserver::{Endpoint, Fault, FaultRule, Target};
    let server = server();
    server
        .faults()
        .inject(FaultRule::new(Fault::Stall, Target::Next(1)).on(Endpoint::Presence));
    let sub = Subscriber::start(
        &server.origin(),
        "blocking",
        &["--channel", "stuck", "--json"],
    );
    assert_eq!(json(&sub.line())["category"], "Connected");
    let interrupt = || {
        let kill = run(Command::new("kill").args(["-INT", &sub.child.id().to_string()]));
        assert!(kill.status.success(), "kill -INT: {}", stderr(&kill));
    };
    interrupt();
    // The leave reached the server, which never answers it.
    assert!(
        server
            .faults()
            .wait_for_requests(Endpoint::Presence, 1, Duration::from_secs(10))
    );
    interrupt();
    let (status, _, err) = sub.finish();
    assert_eq!(status.code(), Some(130), "{err}");
}
