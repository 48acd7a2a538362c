//! Publishes one message and prints its timetoken.
//!
//! `cargo run -p pn-hyper --example hyper_publish -- [channel] [message]`, against the dev server at
//! `$PN_ORIGIN` (default `http://127.0.0.1:8090`).

use pn_hyper::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let origin = std::env::var("PN_ORIGIN").unwrap_or_else(|_| "http://127.0.0.1:8090".into());
    let mut args = std::env::args().skip(1);
    let channel = args.next().unwrap_or_else(|| "demo-channel".into());
    let message = args.next().unwrap_or_else(|| "hello from pn-hyper".into());

    let client = Client::builder()
        .subscribe_key("demo")
        .publish_key("demo")
        .user_id("publish-example")
        .origin(origin)
        .build()?;
    let timetoken = client
        .publish(&channel, &message)
        .meta(&serde_json::json!({"from": "example"}))
        .await?;
    println!("published to {channel} at {timetoken}");
    client.close().await;
    Ok(())
}
