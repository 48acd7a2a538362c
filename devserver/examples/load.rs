//! Load benchmark (not a test): publish→deliver throughput and latency of the dev server with
//! N long-polling subscribers on one channel, over loopback.
//!
//! ```text
//! cargo run --release -p pn-devserver --example load -- --subscribers 1,100,1000 --messages 500
//! ```
//!
//! Each subscriber is a hyper HTTP/1.1 client on its own connection running the handshake /
//! receive loop; publishers send `{"seq":n,"sent":µs}` over keep-alive connections as fast as
//! answers come back. Latency is receive time minus send time of each delivered message.
//! The run is bounded: each scenario stops publishing after 20 s and waits at most 20 s more.
//! The server runs with `queue_cap` raised to 10 000 so that no message is dropped for slow
//! subscribers and every delivery is counted (drops are reported if they happen anyway).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use pn_devserver::{DevServer, Options};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Longest a scenario publishes, and longest it then waits for deliveries.
const PHASE_LIMIT: Duration = Duration::from_secs(20);

struct Args {
    subscribers: Vec<usize>,
    messages: usize,
    publishers: usize,
}

fn args() -> Args {
    let mut parsed = Args {
        subscribers: vec![1, 100, 1000],
        messages: 500,
        publishers: 4,
    };
    let raw: Vec<String> = std::env::args().skip(1).collect();
    for pair in raw.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or("");
        match pair[0].as_str() {
            "--subscribers" => {
                parsed.subscribers = value
                    .split(',')
                    .filter_map(|s| s.trim().parse().ok())
                    .collect()
            }
            "--messages" => parsed.messages = value.parse().unwrap_or(parsed.messages),
            "--publishers" => parsed.publishers = value.parse().unwrap_or(parsed.publishers).max(1),
            other => {
                eprintln!(
                    "unknown argument {other}; use --subscribers 1,100,1000 --messages 500 --publishers 4"
                );
                std::process::exit(2);
            }
        }
    }
    parsed
}

type Conn = SendRequest<Empty<Bytes>>;

async fn connect(addr: SocketAddr) -> Conn {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).ok();
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    sender
}

async fn get(conn: &mut Conn, target: &str) -> Value {
    let request = Request::get(target)
        .header("host", "127.0.0.1")
        .body(Empty::new())
        .expect("request");
    let response = conn.send_request(request).await.expect("response");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    serde_json::from_slice(&body).expect("JSON body")
}

/// Runs the subscribe loop until `expected` messages arrived or `stop` passes.
async fn subscriber(
    addr: SocketAddr,
    id: usize,
    channel: String,
    expected: usize,
    epoch: Instant,
    latencies: mpsc::UnboundedSender<u64>,
) {
    let mut conn = connect(addr).await;
    let base = format!("/v2/subscribe/demo/{channel}/0?uuid=sub-{id}");
    let mut tt = get(&mut conn, &format!("{base}&tt=0")).await["t"]["t"]
        .as_str()
        .unwrap_or("0")
        .to_owned();
    let mut got = 0;
    while got < expected {
        let body = get(&mut conn, &format!("{base}&tt={tt}&tr=1")).await;
        let now = epoch.elapsed().as_micros() as u64;
        for m in body["m"].as_array().into_iter().flatten() {
            if let Some(sent) = m["d"]["sent"].as_u64() {
                got += 1;
                let _ = latencies.send(now.saturating_sub(sent));
            }
        }
        tt = body["t"]["t"].as_str().unwrap_or("0").to_owned();
    }
}

struct Outcome {
    subscribers: usize,
    published: usize,
    delivered: usize,
    elapsed: Duration,
    publish_elapsed: Duration,
    p50: u64,
    p99: u64,
}

async fn scenario(
    server: &DevServer,
    subscribers: usize,
    messages: usize,
    publishers: usize,
) -> Outcome {
    let addr = server.addr();
    let channel = format!("load-{subscribers}");
    let epoch = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    for id in 0..subscribers {
        tasks.push(tokio::spawn(subscriber(
            addr,
            id,
            channel.clone(),
            messages,
            epoch,
            tx.clone(),
        )));
    }
    drop(tx);
    let parked = Instant::now();
    while server.parked_subscribers(&channel) < subscribers {
        assert!(parked.elapsed() < PHASE_LIMIT, "subscribers did not park");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut pubs = Vec::new();
    for _ in 0..publishers {
        let next = Arc::clone(&next);
        let channel = channel.clone();
        pubs.push(tokio::spawn(async move {
            let mut conn = connect(addr).await;
            loop {
                let seq = next.fetch_add(1, Ordering::Relaxed) as usize;
                if seq >= messages || started.elapsed() > PHASE_LIMIT {
                    break;
                }
                let sent = epoch.elapsed().as_micros() as u64;
                let message = format!("%7B%22seq%22%3A{seq}%2C%22sent%22%3A{sent}%7D");
                get(
                    &mut conn,
                    &format!("/publish/demo/demo/0/{channel}/0/{message}?uuid=pub"),
                )
                .await;
            }
        }));
    }
    for p in pubs {
        p.await.expect("publisher");
    }
    let publish_elapsed = started.elapsed();
    let published = (next.load(Ordering::Relaxed) as usize).min(messages);
    let expected = published * subscribers;
    let mut latencies = Vec::with_capacity(expected);
    let deadline = tokio::time::Instant::now() + PHASE_LIMIT;
    while latencies.len() < expected {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(latency)) => latencies.push(latency),
            _ => break,
        }
    }
    let elapsed = started.elapsed();
    for t in tasks {
        t.abort();
    }
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    Outcome {
        subscribers,
        published,
        delivered: latencies.len(),
        elapsed,
        publish_elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

fn main() {
    let args = args();
    let options = Options {
        queue_cap: 10_000,
        history_per_channel: 10_000,
        ..Options::default()
    };
    let server = DevServer::start("127.0.0.1:0".parse().unwrap(), options).expect("server");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "| subscribers | messages published | deliveries | publish rate (msg/s) | deliveries/s | p50 latency | p99 latency | lost |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &subscribers in &args.subscribers {
        let o = runtime.block_on(scenario(
            &server,
            subscribers,
            args.messages,
            args.publishers,
        ));
        let expected = o.published * o.subscribers;
        println!(
            "| {} | {} | {} | {:.0} | {:.0} | {:.2} ms | {:.2} ms | {} |",
            o.subscribers,
            o.published,
            o.delivered,
            o.published as f64 / o.publish_elapsed.as_secs_f64(),
            o.delivered as f64 / o.elapsed.as_secs_f64(),
            o.p50 as f64 / 1000.0,
            o.p99 as f64 / 1000.0,
            expected - o.delivered,
        );
    }
    runtime.shutdown_timeout(Duration::from_secs(1));
    server.shutdown();
}
