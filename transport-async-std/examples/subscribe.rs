//! Subscribes to channels under smol and prints every message and status.
//!
//! `cargo run -p pn-async-std --example async_std_subscribe -- [channel…]`, against the dev server at
//! `$PN_ORIGIN` (default `http://127.0.0.1:8090`).

use pn_async_std::pn_core::{Event, Subscribe};
use pn_async_std::{Client, SpawnerExt};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    smol::block_on(async {
        let origin = std::env::var("PN_ORIGIN").unwrap_or_else(|_| "http://127.0.0.1:8090".into());
        let mut channels: Vec<String> = std::env::args().skip(1).collect();
        if channels.is_empty() {
            channels.push("demo-channel".into());
        }

        let client = Client::builder()
            .subscribe_key("demo")
            .user_id("subscribe-example")
            .origin(origin)
            .spawner(|task| smol::spawn(task).detach())
            .build()?;
        let mut listener = client.listen();
        client
            .subscribe(Subscribe::channels(channels)?.with_presence(true))
            .await?;
        while let Some(event) = listener.next().await {
            match event {
                Event::Message(m) => println!(
                    "{} {} from {:?}: {}",
                    m.timetoken,
                    m.channel,
                    m.publisher,
                    m.payload.get()
                ),
                Event::Status(s) => println!("status: {} ({:?})", s.category, s.recovery),
                Event::Result(_) => {}
            }
        }
        Ok(())
    })
}
