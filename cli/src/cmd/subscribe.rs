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
/// [`receive`] with a `Disconnected` status; the flag it returns tells that apart. A second
/// Ctrl-C exits at once (status 130), should the leave hang. On Unix the handler is in place
/// when this returns.
fn on_ctrl_c(leave: Box<dyn FnOnce() + Send>) -> Arc<AtomicBool> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let started = interrupts().and_then(|(rt, mut interrupts)| {
        std::thread::Builder::new()
            .name("pn-ctrl-c".into())
            .spawn(move || {
                // `leave` may block on the client's own runtime: call it outside this one.
                if rt.block_on(interrupts.next()).is_none() {
                    return;
                }
                flag.store(true, Ordering::SeqCst);
                leave();
                if rt.block_on(interrupts.next()).is_some() {
                    std::process::exit(130);
                }
            })
    });
    if let Err(e) = started {
        // Ctrl-C still stops the command, only without a leave.
        eprintln!("pn: no Ctrl-C handler ({e}): stopping will not send a leave");
    }
    interrupted
}

/// Ctrl-C presses, one at a time.
trait Interrupts {
    /// The next press; `None` if no more can be seen.
    async fn next(&mut self) -> Option<()>;
}

#[cfg(unix)]
impl Interrupts for tokio::signal::unix::Signal {
    async fn next(&mut self) -> Option<()> {
        self.recv().await
    }
}

#[cfg(not(unix))]
struct CtrlC;

#[cfg(not(unix))]
impl Interrupts for CtrlC {
    async fn next(&mut self) -> Option<()> {
        tokio::signal::ctrl_c().await.ok()
    }
}

/// A runtime and the Ctrl-C presses seen on it (on Unix, SIGINT, handled from now on).
fn interrupts() -> std::io::Result<(tokio::runtime::Runtime, impl Interrupts + Send + 'static)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    #[cfg(unix)]
    let interrupts = {
        let _context = rt.enter();
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?
    };
    #[cfg(not(unix))]
    let interrupts = CtrlC;
    Ok((rt, interrupts))
}

fn receive(
    client: &mut Client,
    sub: Subscribe,
    a: &SubscribeArgs,
    interrupted: &AtomicBool,
) -> Result<()> {
    client.subscribe(sub)?;
    if interrupted.load(Ordering::SeqCst) {
        // Ctrl-C came before the subscription existed; closing leaves what it subscribed.
        return Ok(());
    }
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
