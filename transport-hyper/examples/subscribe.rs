//! Subscribes to channels and prints every message and status until Ctrl-C.
//!
//! `cargo run -p pn-hyper --example hyper_subscribe -- [channel…]`, against the dev server at
//! `$PN_ORIGIN` (default `http://127.0.0.1:8090`).

use pn_hyper::Client;
use pn_hyper::pn_core::{Event, Subscribe};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let origin = std::env::var("PN_ORIGIN").unwrap_or_else(|_| "http://127.0.0.1:8090".into());
    let mut channels: Vec<String> = std::env::args().skip(1).collect();
    if channels.is_empty() {
        channels.push("demo-channel".into());
    }

    let client = Client::builder()
        .subscribe_key("demo")
        .user_id("subscribe-example")
        .origin(origin)
        .build()?;
    let mut listener = client.listen();
    client
        .subscribe(Subscribe::channels(channels)?.with_presence(true))
        .await?;

    loop {
        tokio::select! {
            event = listener.next() => match event {
                Some(Event::Message(m)) => println!(
                    "{} {} from {:?}: {}",
                    m.timetoken,
                    m.channel,
                    m.publisher,
                    m.payload.get()
                ),
                Some(Event::Status(s)) => println!("status: {} ({:?})", s.category, s.recovery),
                Some(Event::Result(_)) => {}
                None => break,
            },
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    client.close().await;
    Ok(())
}
