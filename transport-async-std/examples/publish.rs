//! Publishes one message under async-std and prints its timetoken.
//!
//! `cargo run -p pn-async-std --example async_std_publish -- [channel] [message]`, against the dev server
//! at `$PN_ORIGIN` (default `http://127.0.0.1:8090`).

use pn_async_std::{Client, SpawnerExt};

#[async_std::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let origin = std::env::var("PN_ORIGIN").unwrap_or_else(|_| "http://127.0.0.1:8090".into());
    let mut args = std::env::args().skip(1);
    let channel = args.next().unwrap_or_else(|| "demo-channel".into());
    let message = args
        .next()
        .unwrap_or_else(|| "hello from pn-async-std".into());

    let client = Client::builder()
        .subscribe_key("demo")
        .publish_key("demo")
        .user_id("publish-example")
        .origin(origin)
        .spawner(|task| {
            async_std::task::spawn(task);
        })
        .build()?;
    let timetoken = client.publish(&channel, &message).await?;
    println!("published to {channel} at {timetoken}");
    client.close().await;
    Ok(())
}
