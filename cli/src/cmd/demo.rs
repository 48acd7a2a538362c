//! `pn demo`: an embedded dev server and one client per transport talking through it.

use std::time::{Duration, Instant};

use pn_core::{Category, Event, MessageKind, Subscribe};
use pn_devserver::Options;

use crate::args::{Global, TransportKind};
use crate::error::{Failure, Result};
use crate::output::{Color, Style};
use crate::transport::{self, Client, Message};

const CHANNEL: &str = "pn-demo";
/// How long the whole demo may take before it is declared failed.
const DEADLINE: Duration = Duration::from_secs(15);
/// How long to wait on one client before looking at the next.
const SLICE: Duration = Duration::from_millis(20);

/// What one client has seen so far.
struct Seen {
    kind: TransportKind,
    client: Client,
    connected: bool,
    messages: usize,
    joins_of_others: usize,
}

/// Runs the demo; fails unless every client connected, received every message and presence
/// events arrived.
pub fn run(g: &Global) -> Result<()> {
    let style = Style::for_stdout();
    let server = super::local_server(Options::default())?;
    println!(
        "{} dev server on {}",
        style.paint(Color::Bold, "==>"),
        server.origin()
    );
    let mut global = g.clone();
    global.origin = server.origin();
    global.pub_key = "demo".into();
    global.sub_key = "demo".into();
    global.secret_key = None;
    global.auth = None;

    let mut clients = Vec::new();
    for kind in TransportKind::ALL {
        global.user_id = Some(user(kind));
        let client = Client::connect(kind, transport::config(&global)?)?;
        client.subscribe(Subscribe::channels([CHANNEL])?.with_presence(true))?;
        println!(
            "{} {} subscribed to {CHANNEL} (with presence) as {}",
            style.paint(Color::Bold, "==>"),
            kind.name(),
            user(kind)
        );
        clients.push(Seen {
            kind,
            client,
            connected: false,
            messages: 0,
            joins_of_others: 0,
        });
    }
    let deadline = Instant::now() + DEADLINE;
    let result = drive(&mut clients, deadline, &style);
    for seen in clients {
        seen.client.close();
    }
    server.shutdown();
    result?;
    println!(
        "{} every transport received every message",
        style.paint(Color::Green, "==> ok:")
    );
    Ok(())
}

fn user(kind: TransportKind) -> String {
    format!("demo-{}", kind.name())
}

fn drive(clients: &mut [Seen], deadline: Instant, style: &Style) -> Result<()> {
    let n = clients.len();
    pump(clients, deadline, style, |c| c.connected, "connect")?;
    for seen in clients.iter() {
        let message = format!(
            r#"{{"text":"hello from {0}","from":"{0}"}}"#,
            seen.kind.name()
        );
        let tt = seen.client.publish(&Message {
            channel: CHANNEL.into(),
            json: transport::raw_json(&message)?,
            signal: false,
            store: None,
            ttl: None,
            meta: None,
            post: false,
        })?;
        println!(
            "{} {} published {message} @{tt}",
            style.paint(Color::Bold, "==>"),
            seen.kind.name()
        );
    }
    pump(
        clients,
        deadline,
        style,
        |c| c.messages >= n,
        "receive every message",
    )?;
    // Presence joins travel with the messages; give any straggler a moment.
    let presence_deadline = (Instant::now() + Duration::from_secs(2)).min(deadline);
    pump(
        clients,
        presence_deadline,
        style,
        |c| c.joins_of_others > 0 || c.kind != TransportKind::ALL[0],
        "see another transport join",
    )
}

/// Polls every client in turn, printing what arrives, until `done` holds for all of them.
fn pump(
    clients: &mut [Seen],
    deadline: Instant,
    style: &Style,
    done: impl Fn(&Seen) -> bool,
    what: &str,
) -> Result<()> {
    while !clients.iter().all(&done) {
        if Instant::now() >= deadline {
            let late: Vec<&str> = clients
                .iter()
                .filter(|c| !done(c))
                .map(|c| c.kind.name())
                .collect();
            return Err(Failure::failed(format!(
                "demo: {} did not {what} in time",
                late.join(", ")
            )));
        }
        for seen in clients.iter_mut() {
            let slice = (Instant::now() + SLICE).min(deadline);
            while let Some(event) = seen.client.next_event(Some(slice)) {
                observe(seen, &event, style)?;
            }
        }
    }
    Ok(())
}

fn observe(seen: &mut Seen, event: &Event, style: &Style) -> Result<()> {
    let tag = style.paint(Color::Dim, &format!("[{:>9}]", seen.kind.name()));
    println!("{tag} {}", style.event(event));
    match event {
        Event::Status(s) if s.category == Category::Connected => seen.connected = true,
        Event::Status(s) if crate::cmd::subscribe::is_failure(s.category) => {
            return Err(Failure::failed(format!(
                "demo: {} reported {}",
                seen.kind.name(),
                style.status(s)
            )));
        }
        Event::Message(m) => match &m.kind {
            MessageKind::Presence(p) => {
                if p.uuid.as_deref().is_some_and(|u| u != user(seen.kind)) {
                    seen.joins_of_others += 1;
                }
            }
            _ => seen.messages += 1,
        },
        _ => {}
    }
    Ok(())
}
