//! The command line, as clap definitions.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Exit status:
  0  success
  1  the operation failed (network, service refusal, an expected event did not arrive)
  2  usage error (unknown flag, missing argument, invalid value such as bad JSON
     or a missing publish key): nothing was sent

Every error is one line on stderr, starting with `pn: error:`; failures from the
service or the network end with their category, e.g. (NetworkIssues) or (AccessDenied).

The defaults talk to a local dev server: start one with `pn serve`, or try `pn demo`.";

/// `pn`: a PubNub client on the command line.
#[derive(Debug, Parser)]
#[command(name = "pn", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Which adapter runs the command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TransportKind {
    /// tokio + hyper (`pn-hyper`).
    Hyper,
    /// async-std / smol primitives (`pn-async-std`).
    AsyncStd,
    /// Threads and blocking sockets (`pn-blocking`).
    Blocking,
}

impl TransportKind {
    /// Every transport, in the order `pn demo` runs them.
    pub const ALL: [TransportKind; 3] = [
        TransportKind::Hyper,
        TransportKind::AsyncStd,
        TransportKind::Blocking,
    ];

    /// The name as given on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::Hyper => "hyper",
            TransportKind::AsyncStd => "async-std",
            TransportKind::Blocking => "blocking",
        }
    }
}

/// Connection options shared by every command.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Where requests go: `http://host:port`, `https://host[:port]` or `host[:port]` (HTTPS).
    #[arg(
        long,
        global = true,
        env = "PN_ORIGIN",
        default_value = "http://127.0.0.1:8090"
    )]
    pub origin: String,
    /// Publish key (an empty value means none).
    #[arg(long, global = true, env = "PN_PUB_KEY", default_value = "demo")]
    pub pub_key: String,
    /// Subscribe key.
    #[arg(long, global = true, env = "PN_SUB_KEY", default_value = "demo")]
    pub sub_key: String,
    /// Secret key: sign every request (for `pn serve`: require signed requests).
    #[arg(long, global = true, env = "PN_SECRET_KEY")]
    pub secret_key: Option<String>,
    /// This client's user id [default: pn-cli-<pid>].
    #[arg(long, global = true, env = "PN_USER_ID")]
    pub user_id: Option<String>,
    /// Access token sent as `auth`.
    #[arg(long, global = true, env = "PN_AUTH")]
    pub auth: Option<String>,
    /// Which adapter runs the command.
    #[arg(long, global = true, value_enum, default_value_t = TransportKind::Hyper)]
    pub transport: TransportKind,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start an embedded dev server, exercise all three transports against it, print what arrives.
    Demo,
    /// Run a local dev server until Ctrl-C.
    Serve(ServeArgs),
    /// Publish a message; prints its timetoken.
    Publish(PublishArgs),
    /// Send a signal (a small, unstored message); prints its timetoken.
    Signal(SignalArgs),
    /// Subscribe and print events as they arrive.
    Subscribe(SubscribeArgs),
    /// List the users present on channels.
    HereNow(HereNowArgs),
    /// List the channels a user is present on.
    WhereNow(WhereNowArgs),
    /// Read or set presence state.
    #[command(subcommand)]
    State(StateCommand),
    /// Print the service's time (a timetoken).
    Time,
    /// Decode recorded HTTP exchanges (conformance JSON lines) and print what the decoder makes of them.
    Replay(ReplayArgs),
    /// Measure throughput: sequential publishes, or messages delivered to a subscription
    /// (`--origin embedded`: an in-process dev server).
    #[command(subcommand)]
    Bench(crate::cmd::bench::BenchCommand),
    /// Publish numbered messages to a subscriber through injected faults; check every one
    /// arrives exactly once, in order (`--origin embedded` or none: an embedded dev server).
    Chaos(crate::cmd::chaos::ChaosArgs),
}

/// `pn serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub addr: SocketAddr,
    /// Seconds a subscribe long-poll is held before an empty answer.
    #[arg(long, value_name = "SECONDS")]
    pub hold_time: Option<f64>,
    /// Region number sent in timetokens.
    #[arg(long)]
    pub region: Option<u32>,
    /// Most messages one subscribe response carries.
    #[arg(long)]
    pub queue_cap: Option<usize>,
    /// Occupancy above which presence switches to interval events.
    #[arg(long)]
    pub announce_max: Option<usize>,
    /// Seconds between interval presence events.
    #[arg(long, value_name = "SECONDS")]
    pub interval: Option<f64>,
    /// Presence timeout applied when a client sends no `heartbeat` (seconds).
    #[arg(long, value_name = "SECONDS")]
    pub presence_timeout: Option<f64>,
    /// Largest publish (escaped channel + message) in bytes.
    #[arg(long)]
    pub max_message_size: Option<usize>,
    /// Messages kept per channel for catching up.
    #[arg(long)]
    pub history: Option<usize>,
    /// Turn access control on and grant TOKEN these channels/groups (`*`, `a.*` allowed);
    /// repeatable. Example: `--grant alice=chat,news.*`.
    #[arg(long, value_name = "TOKEN=NAMES")]
    pub grant: Vec<String>,
}

/// `pn publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The channel.
    #[arg(long, short)]
    pub channel: String,
    /// The message, as JSON (e.g. '"hello"' or '{"text":"hi"}').
    #[arg(long, short)]
    pub message: String,
    /// Store the message in history (service default when absent).
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    pub store: Option<bool>,
    /// Hours to keep the message in history.
    #[arg(long, value_name = "HOURS")]
    pub ttl: Option<u32>,
    /// Metadata for server-side filters, as a JSON object.
    #[arg(long, value_name = "JSON")]
    pub meta: Option<String>,
    /// Send the message in a POST body instead of the URL.
    #[arg(long)]
    pub post: bool,
    /// Print the request as JSON (method, path, query, body) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `pn signal`.
#[derive(Debug, Args)]
pub struct SignalArgs {
    /// The channel.
    #[arg(long, short)]
    pub channel: String,
    /// The signal's payload, as JSON.
    #[arg(long, short)]
    pub message: String,
}

/// `pn subscribe`.
#[derive(Debug, Args)]
pub struct SubscribeArgs {
    /// Channels, comma-separated (wildcards like `a.*` allowed).
    #[arg(long, short, value_delimiter = ',')]
    pub channel: Vec<String>,
    /// Channel groups, comma-separated.
    #[arg(long, short, value_delimiter = ',')]
    pub group: Vec<String>,
    /// Also receive presence events.
    #[arg(long)]
    pub presence: bool,
    /// Catch up from this timetoken.
    #[arg(long)]
    pub timetoken: Option<String>,
    /// Server-side filter expression (e.g. `lang == 'en'`).
    #[arg(long)]
    pub filter: Option<String>,
    /// Exit after this many message events (messages, signals, objects, actions, files;
    /// not presence or statuses).
    #[arg(long, short = 'n')]
    pub count: Option<u64>,
    /// Retries (exponential, from 2 s) before a failing subscription gives up; 0 fails at the
    /// first error.
    #[arg(long, default_value_t = 2)]
    pub retries: u32,
    /// One JSON object a line (the conformance event format; statuses as
    /// `{"type":"status","category":…}`).
    #[arg(long)]
    pub json: bool,
}

/// `pn here-now`.
#[derive(Debug, Args)]
pub struct HereNowArgs {
    /// Channels, comma-separated.
    #[arg(long, short, value_delimiter = ',')]
    pub channel: Vec<String>,
    /// Channel groups, comma-separated.
    #[arg(long, short, value_delimiter = ',')]
    pub group: Vec<String>,
    /// Also print each user's state.
    #[arg(long)]
    pub state: bool,
}

/// `pn where-now`.
#[derive(Debug, Args)]
pub struct WhereNowArgs {
    /// The user [default: --user-id].
    #[arg(long)]
    pub uuid: Option<String>,
}

/// `pn state get|set`.
#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Print a user's state on channels.
    Get(StateGetArgs),
    /// Set this user's (or --uuid's) state on channels.
    Set(StateSetArgs),
}

/// `pn state get`.
#[derive(Debug, Args)]
pub struct StateGetArgs {
    /// Channels, comma-separated.
    #[arg(long, short, value_delimiter = ',', required = true)]
    pub channel: Vec<String>,
    /// The user [default: --user-id].
    #[arg(long)]
    pub uuid: Option<String>,
}

/// `pn state set`.
#[derive(Debug, Args)]
pub struct StateSetArgs {
    /// Channels, comma-separated.
    #[arg(long, short, value_delimiter = ',', required = true)]
    pub channel: Vec<String>,
    /// The user whose state to set [default: --user-id].
    #[arg(long)]
    pub uuid: Option<String>,
    /// The state, as a JSON object.
    #[arg(long, short)]
    pub state: String,
}

/// `pn replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A file of conformance records (JSON lines), or `-` for stdin.
    pub file: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_go_after_the_subcommand() {
        let cli = Cli::try_parse_from(["pn", "time", "--transport", "blocking", "--origin", "x"])
            .unwrap();
        assert_eq!(cli.global.transport, TransportKind::Blocking);
        assert_eq!(cli.global.origin, "x");
    }

    #[test]
    fn channel_lists_split_on_commas() {
        let cli = Cli::try_parse_from(["pn", "subscribe", "-c", "a,b", "--count", "2"]).unwrap();
        let Command::Subscribe(s) = cli.command else {
            panic!("not subscribe")
        };
        assert_eq!(s.channel, ["a", "b"]);
        assert_eq!(s.count, Some(2));
    }
}
