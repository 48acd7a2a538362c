//! `pn-bench soak`: a `pn-hyper` subscriber in a process of its own, measured for idle
//! memory, memory per subscribed channel (1 vs `--channels`), and resident memory sampled
//! through a long receive (`--seconds`) while the feeder publishes: fails if memory grows
//! beyond a tolerance once warmed up (a leak or an unbounded cache).

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pn_core::{Category, Config, Event, MessageKind, Subscribe};
use pn_hyper::Listener;

use crate::feeder::{Feeder, Progress, check_seq};
use crate::origin::origin;
use crate::stats::rss_kib;
use crate::{CHANNEL, Opts, PUB_KEY, SUB_KEY};

/// Growth allowed between the early and late halves of the warmed-up samples.
const TOLERANCE_KIB: u64 = 1024;
/// How long to wait for a status.
const STALL: Duration = Duration::from_secs(10);

/// Starts a dev server (unless `--origin`) and runs the soak client in a child process.
pub fn run(o: &Opts) -> Result<(), String> {
    let (origin, server) = origin(o)?;
    let status = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .args(["soak-client", "--origin", &origin])
        .args(["--seconds", &o.number("seconds", 60)?.to_string()])
        .args(["--channels", &o.number("channels", 1000)?.to_string()])
        .status()
        .map_err(|e| e.to_string())?;
    if let Some(server) = server {
        server.shutdown();
    }
    status
        .success()
        .then_some(())
        .ok_or_else(|| "the soak failed".into())
}

/// Resident memory once the allocator and the runtime have settled.
fn settled_rss() -> u64 {
    std::thread::sleep(Duration::from_millis(500));
    rss_kib()
}

async fn wait_for(events: &mut Listener, category: Category) -> Result<(), String> {
    loop {
        match tokio::time::timeout(STALL, events.next()).await {
            Ok(Some(Event::Status(s))) if s.category == category => return Ok(()),
            Ok(Some(_)) => {}
            _ => return Err(format!("no {category:?} status")),
        }
    }
}

/// The child: measures and prints; fails on growth.
pub fn client(o: &Opts) -> Result<(), String> {
    let seconds = o.number("seconds", 60)?;
    let channels = o.number("channels", 1000)?.max(2);
    let origin = o.text("origin").ok_or("--origin is required")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let base = settled_rss();
    let config = Config::new(SUB_KEY, "pn-bench-soak").with_origin(origin);
    let client = rt
        .block_on(async { pn_hyper::Client::new(config.clone()) })
        .map_err(|e| e.to_string())?;
    let mut events = client.listen();
    let extra: Vec<String> = (1..channels).map(|i| format!("soak-{i}")).collect();
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let (one, many) = rt.block_on(async {
        let subscribe = Subscribe::channels([CHANNEL]).map_err(|e| e.to_string())?;
        client
            .subscribe(subscribe)
            .await
            .map_err(|e| e.to_string())?;
        wait_for(&mut events, Category::Connected).await?;
        let one = settled_rss();
        client
            .subscribe_to(&extra)
            .await
            .map_err(|e| e.to_string())?;
        wait_for(&mut events, Category::SubscriptionChanged).await?;
        let many = settled_rss();
        client
            .unsubscribe(&extra, &[])
            .await
            .map_err(|e| e.to_string())?;
        wait_for(&mut events, Category::SubscriptionChanged).await?;
        Ok::<_, String>((one, many))
    })?;
    println!("baseline process (runtime, no client): {base} KiB");
    println!("idle client, 1 channel: +{} KiB", one.saturating_sub(base));
    println!(
        "{channels} channels: +{} KiB = {:.2} KiB/channel",
        many.saturating_sub(one),
        many.saturating_sub(one) as f64 / (channels - 1) as f64
    );
    let mut feeder_config = config.with_publish_key(PUB_KEY);
    feeder_config.user_id = "pn-bench-feeder".into();
    let samples = rt.block_on(receive(&mut events, feeder_config, seconds))?;
    rt.block_on(client.close());
    verdict(&samples)
}

/// A sample: seconds since the start, resident KiB, messages counted.
type Sample = (f64, u64, u64);

async fn receive(
    events: &mut Listener,
    config: Config,
    seconds: u64,
) -> Result<Vec<Sample>, String> {
    let progress = Arc::new(Progress::default());
    let feeder = Feeder::start(config, CHANNEL, u64::MAX, 100, Arc::clone(&progress))
        .map_err(|e| format!("feeder: {e}"))?;
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let every = Duration::from_secs((seconds / 15).max(1));
    let mut next_sample = start + every;
    let mut samples = Vec::new();
    let mut received = 0;
    let result = loop {
        let wake = next_sample.min(end);
        match tokio::time::timeout_at(wake.into(), events.next()).await {
            Ok(Some(Event::Message(m))) if m.kind == MessageKind::Message => {
                let value: serde_json::Value = match m.parse() {
                    Ok(v) => v,
                    Err(e) => break Err(format!("payload: {e}")),
                };
                if let Err(e) = check_seq(&value, received) {
                    break Err(e.to_string());
                }
                received += 1;
                progress.counted(received);
            }
            Ok(None) => break Err("the client closed".into()),
            _ => {}
        }
        let now = Instant::now();
        if now >= next_sample {
            samples.push((start.elapsed().as_secs_f64(), rss_kib(), received));
            println!(
                "t={:>5.1}s rss={:>6} KiB received={received}",
                start.elapsed().as_secs_f64(),
                rss_kib()
            );
            next_sample += every;
        }
        if now >= end {
            break Ok(samples);
        }
    };
    feeder.finish().map_err(|e| format!("feeder: {e}"))?;
    result
}

/// Compares the early and late halves of the samples after the first quarter (warm-up).
fn verdict(samples: &[Sample]) -> Result<(), String> {
    let warm = &samples[samples.len() / 4..];
    if warm.len() < 2 {
        return Err("too few samples: run for longer".into());
    }
    let (early, late) = warm.split_at(warm.len() / 2);
    let mean = |s: &[Sample]| s.iter().map(|x| x.1).sum::<u64>() / s.len() as u64;
    let (early, late) = (mean(early), mean(late));
    let (t, _, n) = samples[samples.len() - 1];
    println!(
        "received {n} messages in {t:.0} s ({:.0}/s); rss early {early} KiB, late {late} KiB",
        n as f64 / t
    );
    let tolerance = TOLERANCE_KIB.max(early / 20);
    if late > early + tolerance {
        return Err(format!(
            "memory grew by {} KiB (tolerance {tolerance} KiB)",
            late - early
        ));
    }
    println!("soak: no growth beyond {tolerance} KiB");
    Ok(())
}
