//! `pn subscribe`.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pn_core::{Category, Event, Recovery, RetryPolicy, Subscribe, Timetoken};

use crate::args::{Global, SubscribeArgs};
use crate::error::{Failure, Result};
use crate::output::{self, Color, Style};
use crate::transport::{self, Client};

/// Whether a status reports a failure (as opposed to a change of condition).
pub fn is_failure(category: Category) -> bool {
    !matches!(
        category,
        Category::Acknowledgment
            | Category::Connected
            | Category::Reconnected
            | Category::Disconnected
            | Category::SubscriptionChanged
    )
}

/// Subscribes and prints every event until `--count` messages arrived (or forever).
///
/// A failure before the subscription first connects ends the command (exit 1); later
/// failures are printed and the core retries, unless it gives up. Ctrl-C leaves the channels
/// (so presence shows the user gone at once) and exits 0.
pub fn run(g: &Global, a: SubscribeArgs) -> Result<()> {
    let mut config = transport::config(g)?;
    config.filter_expression = a.filter.clone();
    config.retry_policy = match a.retries {
        0 => RetryPolicy::None,
        max_retries => RetryPolicy::Exponential {
            min_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(150),
            max_retries,
        },
    };
    let mut sub = Subscribe::channels(a.channel.iter().cloned())?
        .groups(a.group.iter().cloned())?
        .with_presence(a.presence);
    if let Some(tt) = &a.timetoken {
        sub = sub.from_timetoken(tt.parse::<Timetoken>()?);
    }
    let mut client = Client::connect(g.transport, config)?;
    let progress = Style::for_stderr();
    if progress.is_terminal() && !a.json {
        let names: Vec<&str> = a
            .channel
            .iter()
            .chain(&a.group)
            .map(String::as_str)
            .collect();
        eprintln!(
            "{}",
            progress.paint(
                Color::Dim,
                &format!("subscribing to {} (Ctrl-C to stop)", names.join(", "))
            )
        );
    }
    let interrupted = on_ctrl_c(client.leave_handle());
    let result = receive(&mut client, sub, &a, &interrupted);
    client.close();
    result
}

/// Starts a thread that, on Ctrl-C, notes it and makes the client leave everything, which ends
/// [`receive`] with a `Disconnected` status; the flag it returns tells that apart. The handler
/// is in place when this returns.
fn on_ctrl_c(leave: Box<dyn FnOnce() + Send>) -> Arc<AtomicBool> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let started = interrupt().and_then(|(rt, interrupt)| {
        std::thread::Builder::new()
            .name("pn-ctrl-c".into())
            .spawn(move || {
                if rt.block_on(interrupt) {
                    flag.store(true, Ordering::SeqCst);
                    leave();
                }
            })
    });
    if let Err(e) = started {
        // Ctrl-C still stops the command, only without a leave.
        eprintln!("pn: no Ctrl-C handler ({e}): stopping will not send a leave");
    }
    interrupted
}

/// A runtime and a future on it that completes with `true` on Ctrl-C (SIGINT), the handler
/// already registered.
fn interrupt() -> std::io::Result<(
    tokio::runtime::Runtime,
    impl std::future::Future<Output = bool> + Send,
)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    #[cfg(unix)]
    let interrupt = {
        let _context = rt.enter();
        let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
        async move { sigint.recv().await.is_some() }
    };
    #[cfg(not(unix))]
    let interrupt = async { tokio::signal::ctrl_c().await.is_ok() };
    Ok((rt, interrupt))
}

fn receive(
    client: &mut Client,
    sub: Subscribe,
    a: &SubscribeArgs,
    interrupted: &AtomicBool,
) -> Result<()> {
    client.subscribe(sub)?;
    let style = Style::for_stdout();
    let mut stdout = std::io::stdout().lock();
    let mut connected = false;
    let mut received = 0;
    if a.count == Some(0) {
        return Ok(());
    }
    while let Some(event) = client.next_event(None) {
        let line = if a.json {
            output::event_json(&event)
        } else {
            Some(style.event(&event))
        };
        if let Some(line) = line {
            writeln!(stdout, "{line}")?;
            stdout.flush()?;
        }
        if let Event::Status(s) = &event {
            if interrupted.load(Ordering::SeqCst) && s.category == Category::Disconnected {
                return Ok(());
            }
            if matches!(s.category, Category::Connected | Category::Reconnected) {
                connected = true;
            } else if is_failure(s.category) && (!connected || s.recovery == Recovery::GaveUp) {
                let why = s.error.as_ref().map_or(String::new(), |e| format!(": {e}"));
                return Err(Failure::failed(format!(
                    "subscribe failed{why} ({})",
                    s.category
                )));
            }
        }
        if output::counts_as_message(&event) {
            received += 1;
            if a.count == Some(received) {
                return Ok(());
            }
        }
    }
    Err(Failure::failed("the subscription ended (Disconnected)"))
}
