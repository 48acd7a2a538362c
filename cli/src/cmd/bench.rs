//! `pn bench publish|subscribe|drain`: throughput of one transport against a server.
//!
//! `publish` sends N small JSON objects one after the other. `subscribe` subscribes, then a
//! feeder thread publishes numbered messages (see [`feeder`]) while this client counts them,
//! parsing each payload as a user would; the feeder's own CPU time is left out of the report.
//! `drain` counts the same way from a dev server's firehose channel, which answers every
//! receive with a full page at once: no publisher shares the machine, the client is measured.
//! `--origin embedded` starts an in-process dev server for the run.

pub mod feeder;
pub mod stats;

use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use pn_core::{Category, Event, MessageKind, Subscribe};
use pn_devserver::Options;

use crate::args::Global;
use crate::cmd::subscribe::is_failure;
use crate::error::{Failure, Result};
use crate::transport::{self, Client, Executor, Message};
use feeder::Progress;
use stats::Measured;

/// How long a subscribe benchmark waits for the next message (or the connection) before failing.
const STALL: Duration = Duration::from_secs(10);

/// `pn bench`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// N sequential publishes of a small JSON object; last line `publish: N in S s = R/s`.
    Publish(BenchArgs),
    /// Count M messages on a subscription while a feeder publishes them; last line
    /// `subscribe: M in S s = R/s`.
    Subscribe(BenchArgs),
    /// Count M messages from a dev server's firehose channel: every receive gets a full page at
    /// once, no publisher in the loop, so the subscriber alone is measured; last line
    /// `drain: M in S s = R/s`. With `--origin embedded` the channel is a firehose; a separate
    /// server needs its `firehose` option.
    Drain(DrainArgs),
}

/// Options of `pn bench drain`.
#[derive(Debug, Args)]
pub struct DrainArgs {
    /// How many messages.
    #[arg(long, short = 'n', default_value_t = 1000)]
    pub count: u64,
    /// The firehose channel.
    #[arg(long, short, default_value = "firehose")]
    pub channel: String,
}

/// Options of both benchmarks.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// How many messages.
    #[arg(long, short = 'n', default_value_t = 1000)]
    pub count: u64,
    /// The channel.
    #[arg(long, short, default_value = "bench")]
    pub channel: String,
    /// Subscribe: most messages the feeder publishes ahead of the subscriber (keep it at or
    /// below the server's per-response cap, 100 on the service, or messages are dropped).
    #[arg(long, default_value_t = 100)]
    pub window: u64,
}

/// Runs a benchmark against `--origin` (`embedded`: an in-process dev server).
pub fn run(g: &Global, command: BenchCommand) -> Result<()> {
    let mut g = g.clone();
    let server = if g.origin == "embedded" {
        let firehose = match &command {
            BenchCommand::Drain(a) => Some(a.channel.clone()),
            _ => None,
        };
        let options = Options {
            firehose,
            ..Options::default()
        };
        let server = super::local_server(options)?;
        g.origin = server.origin();
        Some(server)
    } else {
        None
    };
    let result = match command {
        BenchCommand::Publish(a) => publish(&g, &a),
        BenchCommand::Subscribe(a) => subscribe(&g, &a),
        BenchCommand::Drain(a) => drain(&g, &a),
    };
    if let Some(server) = server {
        server.shutdown();
    }
    println!("{}", result?);
    Ok(())
}

fn message(channel: &str, seq: u64) -> Result<Message> {
    Ok(Message {
        channel: channel.to_owned(),
        json: transport::raw_json(&feeder::payload(seq))?,
        signal: false,
        store: None,
        ttl: None,
        meta: None,
        post: false,
    })
}

fn publish(g: &Global, a: &BenchArgs) -> Result<String> {
    let client = Client::connect_on(g.transport, transport::config(g)?, Executor::CallingThread)?;
    // One publish outside the measurement opens the connection.
    let warm_up = client.publish(&message(&a.channel, u64::MAX)?);
    let result = warm_up.map_err(Failure::from).and_then(|_| {
        Measured::of(a.count, || {
            for seq in 0..a.count {
                client.publish(&message(&a.channel, seq)?)?;
            }
            Ok(())
        })
    });
    client.close();
    Ok(result?.lines("publish"))
}

fn subscribe(g: &Global, a: &BenchArgs) -> Result<String> {
    let config = transport::config(g)?;
    let mut feeder_config = config.clone();
    feeder_config.user_id = "pn-bench-feeder".into();
    let result = subscribed(g, config, &a.channel, |client| {
        feeder::measure_delivery(feeder_config, &a.channel, a.count, a.window, |p| {
            count(client, a.count, p).map_err(|f| std::io::Error::other(f.message))
        })
        .map_err(|e| Failure::failed(e.to_string()))
    });
    Ok(result?.lines("subscribe"))
}

fn drain(g: &Global, a: &DrainArgs) -> Result<String> {
    let result = subscribed(g, transport::config(g)?, &a.channel, |client| {
        Measured::of(a.count, || count(client, a.count, &Progress::default()))
    });
    Ok(result?.lines("drain"))
}

/// Runs `measure` on a client subscribed to `channel` once it is connected, then closes it.
fn subscribed(
    g: &Global,
    config: pn_core::Config,
    channel: &str,
    measure: impl FnOnce(&mut Client) -> Result<Measured>,
) -> Result<Measured> {
    let mut client = Client::connect_on(g.transport, config, Executor::CallingThread)?;
    let result = client
        .subscribe(Subscribe::channels([channel])?)
        .map_err(Failure::from)
        .and_then(|()| connected(&mut client))
        .and_then(|()| measure(&mut client));
    client.close();
    result
}

/// Waits for the subscription's `Connected` status.
fn connected(client: &mut Client) -> Result<()> {
    let deadline = Instant::now() + STALL;
    while let Some(event) = client.next_event(Some(deadline)) {
        if let Event::Status(s) = event {
            if s.category == Category::Connected {
                return Ok(());
            }
            if is_failure(s.category) {
                return Err(Failure::failed(format!(
                    "subscribe failed ({})",
                    s.category
                )));
            }
        }
    }
    Err(Failure::failed("the subscription did not connect in time"))
}

/// Counts `n` published messages, parsing each payload and checking its sequence number.
fn count(client: &mut Client, n: u64, progress: &Progress) -> Result<()> {
    let mut received = 0;
    while received < n {
        let Some(event) = client.next_event(Some(Instant::now() + STALL)) else {
            return Err(Failure::failed(format!(
                "no message for {STALL:?} after {received} of {n}"
            )));
        };
        match event {
            Event::Message(m) if m.kind == MessageKind::Message => {
                let value: serde_json::Value = m
                    .parse()
                    .map_err(|e| Failure::failed(format!("payload: {e}")))?;
                feeder::check_seq(&value, received).map_err(|e| Failure::failed(e.to_string()))?;
                received += 1;
                progress.counted(received);
            }
            Event::Status(s) if is_failure(s.category) => {
                return Err(Failure::failed(format!(
                    "subscribe failed after {received} of {n} ({})",
                    s.category
                )));
            }
            _ => {}
        }
    }
    Ok(())
}
