//! Publishes one message and prints its timetoken.
//!
//! `PN_ORIGIN=http://127.0.0.1:8090 cargo run -p pn-blocking --example publish`

use pn_blocking::{Client, ClientError};

fn main() -> Result<(), ClientError> {
    let origin = std::env::var("PN_ORIGIN").unwrap_or_else(|_| "http://127.0.0.1:8090".into());
    let client = Client::builder()
        .subscribe_key("demo")
        .publish_key("demo")
        .user_id("example-publisher")
        .origin(origin)
        .build()?;
    let timetoken = client
        .publish(
            "hello-channel",
            &serde_json::json!({"text": "hello from pn-blocking"}),
        )
        .meta(&serde_json::json!({"lang": "en"}))
        .send()?;
    println!("published at {}", timetoken.get());
    client.close();
    Ok(())
}
