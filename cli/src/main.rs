//! `pn`: the command-line PubNub client. Parses the command line, runs one command, prints
//! any failure as one line on stderr and exits with the documented code.

mod args;
mod cmd;
mod error;
mod output;
mod transport;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::error::Failure;
use crate::output::{Color, Style};

fn main() -> ExitCode {
    // A panic would be a bug; still, print it as one line, never with a backtrace hint.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        eprintln!("pn: error: internal error: {}", what.replace('\n', " "));
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if !e.use_stderr() {
                // --help and --version.
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                // `pn` or `pn state` alone: the help, on stderr, as a usage error.
                let _ = e.print();
                return ExitCode::from(error::EXIT_USAGE);
            }
            let failure = Failure::usage(format!("{} (see --help)", clap_one_line(&e)));
            eprintln!("pn: error: {failure}");
            return ExitCode::from(failure.code);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let style = Style::for_stderr();
            eprintln!("pn: {} {failure}", style.paint(Color::Red, "error:"));
            ExitCode::from(failure.code)
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    let g = &cli.global;
    match cli.command {
        Command::Demo => cmd::demo::run(g),
        Command::Serve(a) => cmd::serve::run(g, a),
        Command::Publish(a) => cmd::publish::publish(g, a),
        Command::Signal(a) => cmd::publish::signal(g, a),
        Command::Subscribe(a) => cmd::subscribe::run(g, a),
        Command::HereNow(a) => cmd::presence::here_now(g, a),
        Command::WhereNow(a) => cmd::presence::where_now(g, a),
        Command::State(a) => cmd::presence::state(g, a),
        Command::Time => cmd::time::run(g),
        Command::Replay(a) => cmd::replay::run(a),
        Command::Bench(c) => cmd::bench::run(g, c),
        Command::Chaos(a) => cmd::chaos::run(g, a),
    }
}

/// Clap's message without its `error:` prefix and usage block, on one line.
fn clap_one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    text.lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .trim_start_matches("error: ")
        .to_owned()
}
