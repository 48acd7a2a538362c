//! `pn-bench`: runs the same publish and subscribe workloads with `pn` (each transport), the
//! official `pubnub` crate and a bare-hyper floor against one dev server, each workload in a
//! process of its own, and prints medians and ratios. See BENCHMARKS.md at the repository root.
//!
//! ```text
//! pn-bench compare [--runs 5] [--publish 2000] [--subscribe 20000] [--drain 100000] [--pn PATH]
//!                  [--origin URL]
//! pn-bench worker official|floor publish|subscribe|drain --count N --origin URL
//! pn-bench soak [--seconds 60] [--channels 1000] [--origin URL]
//! ```

mod compare;
mod floor;
mod official;
mod origin;
mod soak;

// The `pn bench` feeder and /proc readings, shared with the CLI (one source, two crates).
#[path = "../../cli/src/cmd/bench/feeder.rs"]
mod feeder;
#[path = "../../cli/src/cmd/bench/stats.rs"]
mod stats;

use std::collections::HashMap;
use std::process::ExitCode;

/// Sub key, pub key and channel every workload uses.
pub const SUB_KEY: &str = "demo";
/// The publish key.
pub const PUB_KEY: &str = "demo";
/// The channel the feeder publishes on.
pub const CHANNEL: &str = "bench";
/// The dev server's firehose channel (`pn bench drain`'s default).
pub const FIREHOSE: &str = "firehose";

/// Where a subscribe workload's messages come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A feeder publishes them on [`CHANNEL`] while the client counts (`subscribe`).
    Feeder,
    /// The dev server's firehose channel [`FIREHOSE`]: a full page on every receive (`drain`).
    Firehose,
}

impl Source {
    /// The channel to subscribe to.
    pub fn channel(self) -> &'static str {
        match self {
            Source::Feeder => CHANNEL,
            Source::Firehose => FIREHOSE,
        }
    }

    /// Measures `receive` counting `count` messages from this source at `origin`.
    pub fn measure(
        self,
        origin: &str,
        count: u64,
        receive: impl FnOnce(&feeder::Progress) -> std::io::Result<()>,
    ) -> std::io::Result<stats::Measured> {
        match self {
            Source::Feeder => delivery(origin, count, receive),
            Source::Firehose => {
                stats::Measured::of(count, || receive(&feeder::Progress::default()))
            }
        }
    }
}

/// Command-line options: `--name value` pairs after the positional words.
pub struct Opts {
    words: Vec<String>,
    named: HashMap<String, String>,
}

impl Opts {
    fn parse() -> Result<Opts, String> {
        let mut words = Vec::new();
        let mut named = HashMap::new();
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.strip_prefix("--") {
                Some(name) => {
                    let value = args.next().ok_or(format!("--{name} needs a value"))?;
                    named.insert(name.to_owned(), value);
                }
                None => words.push(a),
            }
        }
        Ok(Opts { words, named })
    }

    /// The `i`th positional word.
    pub fn word(&self, i: usize) -> &str {
        self.words.get(i).map_or("", String::as_str)
    }

    /// `--name` as text.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.named.get(name).map(String::as_str)
    }

    /// `--name` as a number, or `default`.
    pub fn number(&self, name: &str, default: u64) -> Result<u64, String> {
        self.text(name).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| format!("--{name}: {v:?} is not a number"))
        })
    }
}

fn main() -> ExitCode {
    let result = Opts::parse().and_then(|o| match o.word(0) {
        "compare" => compare::run(&o),
        "worker" => worker(&o),
        "soak" => soak::run(&o),
        "soak-client" => soak::client(&o),
        other => Err(format!(
            "unknown mode {other:?}: compare | worker | soak (see the doc comment in bench/src/main.rs)"
        )),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pn-bench: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One workload of one client, printing the same lines as `pn bench`.
fn worker(o: &Opts) -> Result<(), String> {
    let count = o.number("count", 1000)?;
    let origin = o.text("origin").ok_or("--origin is required")?;
    let measured = match (o.word(1), o.word(2)) {
        ("floor", "publish") => floor::publish(origin, count),
        ("floor", "subscribe") => floor::subscribe(origin, count, Source::Feeder),
        ("floor", "drain") => floor::subscribe(origin, count, Source::Firehose),
        ("official", "publish") => official::publish(origin, count),
        ("official", "subscribe") => official::subscribe(origin, count, Source::Feeder),
        ("official", "drain") => official::subscribe(origin, count, Source::Firehose),
        (c, w) => return Err(format!("unknown worker {c:?} {w:?}")),
    }
    .map_err(|e| e.to_string())?;
    println!("{}", measured.lines(o.word(2)));
    Ok(())
}

/// Runs `receive` while a feeder publishes `count` messages to [`CHANNEL`] on `origin`
/// (window 100, the service's per-response cap).
pub fn delivery(
    origin: &str,
    count: u64,
    receive: impl FnOnce(&crate::feeder::Progress) -> std::io::Result<()>,
) -> std::io::Result<crate::stats::Measured> {
    let config = pn_core::Config::new(SUB_KEY, "pn-bench-feeder")
        .with_origin(origin)
        .with_publish_key(PUB_KEY);
    crate::feeder::measure_delivery(config, CHANNEL, count, 100, receive)
}
