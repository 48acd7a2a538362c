//! Subscribes to a channel and prints what arrives, through a callback listener, until
//! five messages have arrived.
//!
//! `PN_ORIGIN=http://127.0.0.1:8090 cargo run -p pn-blocking --example subscribe`

use std::sync::mpsc;

use pn_blocking::{Client, ClientError, Event};

fn main() -> Result<(), ClientError> {
    let origin = std::env::var("PN_ORIGIN").unwrap_or_else(|_| "http://127.0.0.1:8090".into());
    let client = Client::builder()
        .subscribe_key("demo")
        .publish_key("demo")
        .user_id("example-subscriber")
        .origin(origin)
        .build()?;
    let (done_tx, done_rx) = mpsc::channel();
    let mut seen = 0;
    client.add_listener(move |event| match event {
        Event::Message(m) => {
            println!(
                "{} from {:?} at {}: {}",
                m.channel,
                m.publisher,
                m.timetoken.get(),
                m.payload.get()
            );
            seen += 1;
            if seen == 5 {
                let _ = done_tx.send(());
            }
        }
        Event::Status(s) => println!("status: {} ({:?})", s.category, s.recovery),
        Event::Result(_) => {}
    });
    client.subscribe_to(&["hello-channel"])?;
    println!("waiting for 5 messages on hello-channel; publish with the publish example");
    let _ = done_rx.recv();
    client.close();
    Ok(())
}
