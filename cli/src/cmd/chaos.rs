//! `pn chaos`: a subscriber on the chosen transport, a publisher sending numbered messages at a
//! steady pace, and (with the embedded dev server) seeded random faults on every subscribe
//! request — dropped connections, stalls, 5xx, 429 with `Retry-After`, truncated bodies. The
//! subscriber must receive every message exactly once, in order, and its statuses must tell
//! the story of each outage (`UnexpectedDisconnect` → `Reconnected`).

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::Args;
use pn_core::{Category, Event, MessageKind, Recovery, RetryPolicy, Status, Subscribe};
use pn_devserver::{Endpoint, Fault, FaultRule, Options, Target};

use crate::args::Global;
use crate::error::{Failure, Result};
use crate::transport::{self, Client, Message};

/// `pn chaos`.
#[derive(Debug, Args)]
pub struct ChaosArgs {
    /// How many numbered messages (`{"n": 0}`, `{"n": 1}`, …) to publish.
    #[arg(long, short = 'n', default_value_t = 200)]
    pub count: u64,
    /// Seed of the fault generator (the same seed faults the same subscribe requests).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Fraction of subscribe requests that fail (embedded dev server only), 0.0..=0.9.
    #[arg(long, default_value_t = 0.25)]
    pub fault_rate: f64,
    /// Milliseconds between two publishes (the real service's recommended pace is 5-10
    /// messages a second per channel, i.e. 100-200 ms).
    #[arg(long, default_value_t = 100)]
    pub interval_ms: u64,
    /// The channel [default: pn-chaos-<pid>].
    #[arg(long, short)]
    pub channel: Option<String>,
    /// Most messages one subscribe answer of the embedded dev server carries (the service's
    /// 100): an outage longer than this many intervals loses the oldest, as it would for real.
    #[arg(long, default_value_t = 100)]
    pub queue_cap: usize,
    /// Seconds to wait for stragglers after the last publish before declaring them missing.
    #[arg(long, default_value_t = 30)]
    pub grace_secs: u64,
}

/// The embedded server's long-poll hold: shorter than the subscriber's timeout, so that only
/// a stalled request times out.
const HOLD: Duration = Duration::from_secs(1);
/// The subscriber's long-poll timeout with the embedded server (a stall resolves after it).
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(2);
/// The subscriber's retry policy: short and linear (the core adds under a second of jitter).
const RETRY: RetryPolicy = RetryPolicy::Linear {
    delay: Duration::from_millis(100),
    max_retries: 1000,
};
/// How long to keep listening for duplicates once every message arrived.
const DUPLICATE_WINDOW: Duration = Duration::from_millis(300);

/// How long past the deadline an open outage is given to end in `Reconnected`.
const SETTLE: Duration = Duration::from_secs(10);

/// The faults injected, each on an equal share of the subscribe requests.
fn faults() -> [Fault; 6] {
    [
        Fault::CloseConnection,
        Fault::Stall,
        Fault::Status {
            code: 500,
            retry_after: None,
        },
        Fault::Status {
            code: 503,
            retry_after: None,
        },
        Fault::Status {
            code: 429,
            retry_after: Some(1),
        },
        Fault::Truncate,
    ]
}

/// Whether the user asked for the embedded server: `--origin embedded`, or no origin at all
/// (neither `--origin` nor `PN_ORIGIN`).
fn wants_embedded(g: &Global) -> bool {
    if g.origin == "embedded" {
        return true;
    }
    let on_command_line = std::env::args().any(|a| a == "--origin" || a.starts_with("--origin="));
    !on_command_line && std::env::var_os("PN_ORIGIN").is_none()
}

/// What the subscriber saw.
#[derive(Debug, Default)]
struct Tally {
    /// Every `n`, in arrival order.
    arrivals: Vec<u64>,
    /// Messages that were not `{"n": <integer>}`.
    foreign: u64,
    statuses: Vec<(Category, Recovery)>,
}

impl Tally {
    fn distinct(&self, count: u64) -> usize {
        let mut seen = vec![false; count as usize];
        for &n in &self.arrivals {
            if let Some(s) = seen.get_mut(n as usize) {
                *s = true;
            }
        }
        seen.iter().filter(|s| **s).count()
    }

    /// Whether the last status announced a retry that has not been resolved yet.
    fn outage_open(&self) -> bool {
        self.statuses.last().is_some_and(|(c, r)| {
            *c == Category::UnexpectedDisconnect && matches!(r, Recovery::Retrying { .. })
        })
    }

    fn observe(&mut self, event: &Event) {
        match event {
            Event::Message(m) if m.kind == MessageKind::Message => {
                let n = serde_json::from_str::<serde_json::Value>(m.payload.get())
                    .ok()
                    .and_then(|v| v.get("n").and_then(serde_json::Value::as_u64));
                match n {
                    Some(n) => self.arrivals.push(n),
                    None => self.foreign += 1,
                }
            }
            Event::Message(_) => self.foreign += 1,
            Event::Status(s) => self.statuses.push((s.category, s.recovery)),
            Event::Result(_) => {}
        }
    }
}

/// The verdict on a [`Tally`].
#[derive(Debug, PartialEq, Eq)]
struct Summary {
    received: usize,
    duplicates: usize,
    missing: usize,
    out_of_order: usize,
    foreign: u64,
    /// `UnexpectedDisconnect` statuses that announced a retry.
    outages: usize,
    /// Outages closed by `Reconnected`.
    recovered: usize,
    /// Outages still open at the end, or ended by anything but `Reconnected`.
    unresolved: usize,
    gave_up: usize,
    connected: usize,
    counts: BTreeMap<&'static str, usize>,
}

fn summarize(t: &Tally, count: u64) -> Summary {
    let mut seen = vec![false; count as usize];
    let (mut duplicates, mut out_of_order, mut missing_range) = (0, 0, 0);
    let mut highest: Option<u64> = None;
    for &n in &t.arrivals {
        match seen.get_mut(n as usize) {
            Some(true) => duplicates += 1,
            Some(s) => {
                *s = true;
                if highest.is_some_and(|h| n < h) {
                    out_of_order += 1;
                }
                highest = highest.max(Some(n));
            }
            None => missing_range += 1,
        }
    }
    let received = seen.iter().filter(|s| **s).count();
    let mut s = Summary {
        received,
        duplicates,
        missing: count as usize - received,
        out_of_order,
        foreign: t.foreign + missing_range,
        outages: 0,
        recovered: 0,
        unresolved: 0,
        gave_up: 0,
        connected: 0,
        counts: BTreeMap::new(),
    };
    let mut outage = false;
    for &(category, recovery) in &t.statuses {
        *s.counts.entry(category.as_str()).or_default() += 1;
        if recovery == Recovery::GaveUp {
            s.gave_up += 1;
        }
        match category {
            Category::Connected => s.connected += 1,
            Category::UnexpectedDisconnect if matches!(recovery, Recovery::Retrying { .. }) => {
                if outage {
                    s.unresolved += 1;
                }
                s.outages += 1;
                outage = true;
            }
            Category::Reconnected if outage => {
                s.recovered += 1;
                outage = false;
            }
            _ if outage => {
                s.unresolved += 1;
                outage = false;
            }
            _ => {}
        }
    }
    if outage {
        s.unresolved += 1;
    }
    s
}

impl Summary {
    fn line(&self, transport: &str, sent: u64, subscribes: Option<u64>) -> String {
        let counts: Vec<String> = self
            .counts
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect();
        let subscribes = subscribes.map_or(String::new(), |n| format!(" subscribe_requests={n}"));
        format!(
            "chaos summary: transport={transport} sent={sent} received={} duplicates={} \
             missing={} out_of_order={} foreign={} outages={} recovered={} unresolved={} \
             statuses={}{subscribes}",
            self.received,
            self.duplicates,
            self.missing,
            self.out_of_order,
            self.foreign,
            self.outages,
            self.recovered,
            self.unresolved,
            if counts.is_empty() {
                "-".into()
            } else {
                counts.join(",")
            },
        )
    }

    /// What went wrong, if anything.
    fn problems(&self, faults: bool) -> Vec<String> {
        let mut p = Vec::new();
        for (what, n) in [
            ("missing", self.missing),
            ("duplicated", self.duplicates),
            ("out of order", self.out_of_order),
            ("unexplained outages", self.unresolved),
            ("gave up", self.gave_up),
        ] {
            if n > 0 {
                p.push(format!("{n} {what}"));
            }
        }
        if self.foreign > 0 {
            p.push(format!("{} unexpected messages", self.foreign));
        }
        if self.connected != 1 {
            p.push(format!(
                "Connected {} times (expected once)",
                self.connected
            ));
        }
        if faults && self.recovered == 0 {
            p.push("no UnexpectedDisconnect → Reconnected although faults were injected".into());
        }
        p
    }
}

/// Runs the chaos test; fails (exit 1) if anything was lost, duplicated or reordered.
pub fn run(g: &Global, a: ChaosArgs) -> Result<()> {
    if !(0.0..=0.9).contains(&a.fault_rate) {
        return Err(Failure::usage("--fault-rate must be within 0.0..=0.9"));
    }
    if a.interval_ms == 0 {
        return Err(Failure::usage("--interval-ms must be at least 1"));
    }
    let channel = a
        .channel
        .clone()
        .unwrap_or_else(|| format!("pn-chaos-{}", std::process::id()));
    // Validate the name before anything starts.
    Subscribe::channels([channel.as_str()])?;

    let mut global = g.clone();
    let server = if wants_embedded(g) {
        let options = Options {
            hold_time: HOLD,
            queue_cap: a.queue_cap.max(1),
            ..Options::default()
        };
        let server = super::local_server(options)?;
        global.origin = server.origin();
        Some(server)
    } else {
        None
    };
    let injected = server.is_some() && a.fault_rate > 0.0;
    if let (Some(server), true) = (&server, injected) {
        // Rule i sees only the requests rules 0..i let through: scale its fraction so that each
        // fault hits rate/len of all subscribe requests.
        let all = faults();
        let share = a.fault_rate / all.len() as f64;
        for (i, fault) in all.into_iter().enumerate() {
            let fraction = share / (1.0 - share * i as f64);
            server.faults().inject(
                FaultRule::new(
                    fault,
                    Target::Random {
                        fraction,
                        seed: a.seed.wrapping_mul(31).wrapping_add(i as u64),
                    },
                )
                .on(Endpoint::Subscribe),
            );
        }
    }
    println!(
        "chaos: transport={} origin={} channel={channel} count={} interval={}ms fault_rate={} seed={}",
        g.transport.name(),
        global.origin,
        a.count,
        a.interval_ms,
        if server.is_some() { a.fault_rate } else { 0.0 },
        a.seed
    );

    let mut config = transport::config(&global)?;
    config.retry_policy = RETRY;
    if server.is_some() {
        config.subscribe_timeout = SUBSCRIBE_TIMEOUT;
    }
    let mut publisher_config = config.clone();
    publisher_config.user_id = format!("{}-publisher", config.user_id);
    let mut subscriber = Client::connect(g.transport, config)?;
    let result = exercise(&mut subscriber, g, &a, &channel, publisher_config);
    subscriber.close();
    let subscribes = server
        .as_ref()
        .map(|s| s.faults().request_count(Endpoint::Subscribe));
    let requests = server.as_ref().map(|s| s.faults().requests());
    let embedded = server.is_some();
    if let Some(server) = server {
        server.shutdown();
    }
    let (tally, sent) = result?;
    let summary = summarize(&tally, a.count);
    println!("{}", summary.line(g.transport.name(), sent, subscribes));
    let mut problems = summary.problems(injected);
    if sent != a.count {
        problems.insert(0, format!("only {sent} of {} published", a.count));
    }
    if !problems.is_empty() {
        // What the server saw of the subscriber, to tell where the cursor went.
        for r in requests.unwrap_or_default() {
            if r.endpoint == Endpoint::Subscribe {
                println!("request: {} {}", r.method, r.path_and_query);
            }
        }
        if summary.missing > 0 {
            println!("missing: {}", missing_ranges(&tally, a.count));
            if embedded {
                println!(
                    "note: an outage longer than {} intervals ({} ms) overflows the dev server's \
                     queue (--queue-cap), which then drops the oldest messages as the service does",
                    a.queue_cap,
                    a.queue_cap as u64 * a.interval_ms
                );
            }
        }
    }
    if problems.is_empty() {
        println!(
            "chaos: ok: {} messages exactly once and in order through {} outages",
            a.count, summary.recovered
        );
        Ok(())
    } else {
        Err(Failure::failed(format!("chaos: {}", problems.join(", "))))
    }
}

/// Subscribes, waits for `Connected`, publishes from another thread and collects what arrives.
fn exercise(
    subscriber: &mut Client,
    g: &Global,
    a: &ChaosArgs,
    channel: &str,
    publisher_config: pn_core::Config,
) -> Result<(Tally, u64)> {
    let mut tally = Tally::default();
    subscriber.subscribe(Subscribe::channels([channel])?)?;
    let connect_deadline = Instant::now() + Duration::from_secs(a.grace_secs.max(5));
    while !tally
        .statuses
        .iter()
        .any(|(c, _)| *c == Category::Connected)
    {
        let Some(event) = subscriber.next_event(Some(connect_deadline)) else {
            return Err(Failure::failed("chaos: the subscriber never connected"));
        };
        report(&event);
        tally.observe(&event);
        if let Event::Status(s) = &event
            && s.recovery == Recovery::GaveUp
        {
            return Err(Failure::failed(format!(
                "chaos: the subscriber gave up: {}",
                describe(s)
            )));
        }
    }

    // The publisher: its own client, at a steady pace; tells how many it sent.
    let (done_tx, done_rx) = mpsc::channel::<Result<u64>>();
    let transport_kind = g.transport;
    let count = a.count;
    let interval = Duration::from_millis(a.interval_ms);
    let target = channel.to_owned();
    let publisher = std::thread::spawn(move || {
        let result = (|| -> Result<u64> {
            let client = Client::connect(transport_kind, publisher_config)?;
            let start = Instant::now();
            let mut sent = 0;
            for n in 0..count {
                let due = start + interval * n as u32;
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait); // the pace itself
                }
                let m = Message {
                    channel: target.clone(),
                    json: transport::raw_json(&format!(r#"{{"n":{n}}}"#))?,
                    signal: false,
                    store: None,
                    ttl: None,
                    meta: None,
                    post: false,
                };
                if let Err(e) = client.publish(&m) {
                    client.close();
                    return Err(Failure::failed(format!("chaos: publish {n} failed: {e}")));
                }
                sent += 1;
            }
            client.close();
            Ok(sent)
        })();
        let _ = done_tx.send(result);
    });

    let grace = Duration::from_secs(a.grace_secs);
    let mut sent: Option<u64> = None;
    let mut deadline: Option<Instant> = None;
    let mut complete_at: Option<Instant> = None;
    loop {
        if sent.is_none()
            && let Ok(result) = done_rx.try_recv()
        {
            let n = result?;
            sent = Some(n);
            deadline = Some(Instant::now() + grace);
        }
        if complete_at.is_none() && tally.distinct(a.count) == a.count as usize {
            complete_at = Some(Instant::now() + DUPLICATE_WINDOW);
        }
        let now = Instant::now();
        let end = match (complete_at, deadline) {
            (Some(c), _) if sent.is_some() => Some(c),
            (_, Some(d)) => Some(d),
            _ => None,
        };
        // An outage still open at the end (the subscriber keeps polling while it waits) is
        // watched to its end, for a while.
        let settled = !tally.outage_open();
        let too_late = deadline.is_some_and(|d| now >= d + SETTLE);
        if end.is_some_and(|e| now >= e) && (settled || too_late) {
            break;
        }
        // Wake at least every 50 ms to notice the publisher finishing.
        let slice = now + Duration::from_millis(50);
        while let Some(event) = subscriber.next_event(Some(slice)) {
            report(&event);
            tally.observe(&event);
        }
    }
    let _ = publisher.join();
    Ok((tally, sent.unwrap_or(0)))
}

/// The numbers that never arrived, as ranges (`3..=7,12`).
fn missing_ranges(t: &Tally, count: u64) -> String {
    let mut seen = vec![false; count as usize];
    for &n in &t.arrivals {
        if let Some(s) = seen.get_mut(n as usize) {
            *s = true;
        }
    }
    let mut out: Vec<String> = Vec::new();
    let mut n = 0;
    while n < count as usize {
        if seen[n] {
            n += 1;
            continue;
        }
        let start = n;
        while n < count as usize && !seen[n] {
            n += 1;
        }
        out.push(if n - 1 == start {
            start.to_string()
        } else {
            format!("{start}..={}", n - 1)
        });
    }
    out.join(",")
}

fn describe(s: &Status) -> String {
    let error = s
        .error
        .as_ref()
        .map_or(String::new(), |e| format!(" ({e})"));
    let recovery = match s.recovery {
        Recovery::None => String::new(),
        Recovery::Retrying { attempt, delay } => {
            format!(", retry {attempt} in {} ms", delay.as_millis())
        }
        Recovery::GaveUp => ", gave up".into(),
    };
    format!("{}{error}{recovery}", s.category)
}

fn report(event: &Event) {
    if let Event::Status(s) = event {
        println!("status: {}", describe(s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(arrivals: &[u64], statuses: &[(Category, Recovery)]) -> Tally {
        Tally {
            arrivals: arrivals.to_vec(),
            foreign: 0,
            statuses: statuses.to_vec(),
        }
    }

    const RETRYING: Recovery = Recovery::Retrying {
        attempt: 1,
        delay: Duration::from_millis(100),
    };

    #[test]
    fn a_clean_run_passes() {
        let t = tally(
            &[0, 1, 2],
            &[
                (Category::Connected, Recovery::None),
                (Category::UnexpectedDisconnect, RETRYING),
                (Category::Reconnected, Recovery::None),
            ],
        );
        let s = summarize(&t, 3);
        assert_eq!((s.received, s.outages, s.recovered), (3, 1, 1));
        assert!(s.problems(true).is_empty(), "{:?}", s.problems(true));
    }

    #[test]
    fn losses_duplicates_and_reordering_are_counted() {
        let t = tally(&[0, 2, 1, 2, 7], &[(Category::Connected, Recovery::None)]);
        let s = summarize(&t, 4);
        assert_eq!(
            (
                s.received,
                s.duplicates,
                s.missing,
                s.out_of_order,
                s.foreign
            ),
            (3, 1, 1, 1, 1)
        );
        let p = s.problems(false);
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(
            summarize(&tally(&[0], &[(Category::Connected, Recovery::None)]), 1)
                .problems(true)
                .iter()
                .any(|p| p.contains("no UnexpectedDisconnect"))
        );
    }

    #[test]
    fn an_outage_must_end_in_reconnected() {
        let t = tally(
            &[0],
            &[
                (Category::Connected, Recovery::None),
                (Category::UnexpectedDisconnect, RETRYING),
                (Category::Disconnected, Recovery::None),
                (Category::UnexpectedDisconnect, RETRYING),
            ],
        );
        let s = summarize(&t, 1);
        assert_eq!((s.outages, s.recovered, s.unresolved), (2, 0, 2));
    }
}
