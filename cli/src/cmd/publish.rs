//! `pn publish` and `pn signal`.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use pn_core::{Core, Request};

use crate::args::{Global, PublishArgs, SignalArgs};
use crate::error::Result;
use crate::output::json_string;
use crate::transport::{self, Client, Message, raw_json};

/// The message the arguments describe (checking the JSON before anything else).
fn message(a: &PublishArgs) -> Result<Message> {
    Ok(Message {
        channel: a.channel.clone(),
        json: raw_json(&a.message)?,
        signal: false,
        store: a.store,
        ttl: a.ttl,
        meta: a.meta.as_deref().map(raw_json).transpose()?,
        post: a.post,
    })
}

/// `pn publish`: prints the publish timetoken, or with `--dry-run` the request as JSON.
pub fn publish(g: &Global, a: PublishArgs) -> Result<()> {
    let message = message(&a)?;
    let config = transport::config(g)?;
    if a.dry_run {
        let publish = message.to_publish()?;
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let mut core = Core::new(config, 0, Instant::now(), unix)?;
        let request = core.publish_request(publish, Instant::now())?;
        println!("{}", request_json(&request));
        return Ok(());
    }
    send(g, config, &message)
}

/// `pn signal`: prints the signal's timetoken.
pub fn signal(g: &Global, a: SignalArgs) -> Result<()> {
    let message = Message {
        channel: a.channel,
        json: raw_json(&a.message)?,
        signal: true,
        store: None,
        ttl: None,
        meta: None,
        post: false,
    };
    send(g, transport::config(g)?, &message)
}

fn send(g: &Global, config: pn_core::Config, message: &Message) -> Result<()> {
    let client = Client::connect(g.transport, config)?;
    let result = client.publish(message);
    client.close();
    println!("{}", result?);
    Ok(())
}

/// The request as one JSON object: method, path, query (still percent-encoded), body.
pub fn request_json(r: &Request) -> String {
    let body = match &r.body {
        Some(b) => json_string(&String::from_utf8_lossy(b)),
        None => "null".into(),
    };
    format!(
        "{{\"method\":{},\"path\":{},\"query\":{},\"body\":{body}}}",
        json_string(r.method.as_str()),
        json_string(r.path()),
        json_string(r.query()),
    )
}
