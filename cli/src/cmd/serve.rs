//! `pn serve`: the dev server until Ctrl-C.

use std::collections::HashMap;
use std::time::Duration;

use pn_devserver::Options;

use crate::args::{Global, ServeArgs};
use crate::error::{Failure, Result};
use crate::output::{Color, Style};

fn seconds(value: f64, flag: &str) -> Result<Duration> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| Failure::usage(format!("--{flag}: {value} is not a number of seconds")))
}

/// The dev server options the arguments describe.
pub fn options(g: &Global, a: &ServeArgs) -> Result<Options> {
    let mut o = Options::default();
    if let Some(s) = a.hold_time {
        o.hold_time = seconds(s, "hold-time")?;
    }
    if let Some(s) = a.interval {
        o.interval = seconds(s, "interval")?;
    }
    if let Some(s) = a.presence_timeout {
        o.presence_timeout = seconds(s, "presence-timeout")?;
    }
    if let Some(r) = a.region {
        o.region = r;
    }
    if let Some(n) = a.queue_cap {
        o.queue_cap = n;
    }
    if let Some(n) = a.announce_max {
        o.announce_max = n;
    }
    if let Some(n) = a.max_message_size {
        o.max_message_size = n;
    }
    if let Some(n) = a.history {
        o.history_per_channel = n;
    }
    o.secret_key = g.secret_key.clone();
    if !a.grant.is_empty() {
        let mut grants: HashMap<String, Vec<String>> = HashMap::new();
        for g in &a.grant {
            let (token, names) = g.split_once('=').ok_or_else(|| {
                Failure::usage(format!("--grant {g:?}: expected TOKEN=NAME[,NAME…]"))
            })?;
            grants
                .entry(token.to_owned())
                .or_default()
                .extend(names.split(',').filter(|n| !n.is_empty()).map(String::from));
        }
        o.grants = Some(grants);
    }
    Ok(o)
}

/// Serves on `--addr` until Ctrl-C, then shuts down gracefully.
pub fn run(g: &Global, a: ServeArgs) -> Result<()> {
    let options = options(g, &a)?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(a.addr)
            .await
            .map_err(|e| Failure::failed(format!("cannot listen on {}: {e}", a.addr)))?;
        let addr = listener.local_addr()?;
        let style = Style::for_stderr();
        eprintln!(
            "pn: dev server listening on {} (Ctrl-C to stop)",
            style.paint(Color::Bold, &format!("http://{addr}"))
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("pn: shutting down");
        };
        pn_devserver::serve(listener, options, shutdown)
            .await
            .map_err(|e| Failure::failed(format!("dev server: {e}")))
    })
}
