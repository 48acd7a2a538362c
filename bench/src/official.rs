//! The official `pubnub` crate (0.9) with its reqwest transport pointed at the bench origin.

use std::io;
use std::time::Duration;

use futures::StreamExt;
use pubnub::subscribe::ConnectionStatus;
use pubnub::subscribe::{EventEmitter, EventSubscriber, SubscriptionParams};
use pubnub::transport::TransportReqwest;
use pubnub::{Keyset, PubNubClientBuilder};
use serde_json::Value;

use crate::feeder::{check_seq, payload};
use crate::stats::Measured;
use crate::{CHANNEL, PUB_KEY, SUB_KEY, Source};

/// How long to wait for the connection or the next message.
const STALL: Duration = Duration::from_secs(10);

fn client(origin: &str) -> io::Result<pubnub::PubNubClient> {
    let mut transport = TransportReqwest::default();
    transport.set_hostname(origin);
    PubNubClientBuilder::with_transport(transport)
        .with_keyset(Keyset {
            subscribe_key: SUB_KEY,
            publish_key: Some(PUB_KEY),
            secret_key: None,
        })
        .with_user_id("official")
        .build()
        .map_err(io::Error::other)
}

fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

async fn publish_one(pubnub: &pubnub::PubNubClient, seq: u64) -> io::Result<()> {
    let message: Value = serde_json::from_str(&payload(seq)).map_err(io::Error::other)?;
    pubnub
        .publish_message(message)
        .channel(CHANNEL)
        .execute()
        .await
        .map(drop)
        .map_err(io::Error::other)
}

/// `count` sequential publishes.
pub fn publish(origin: &str, count: u64) -> io::Result<Measured> {
    let rt = runtime()?;
    let pubnub = rt.block_on(async {
        let pubnub = client(origin)?;
        publish_one(&pubnub, u64::MAX).await?;
        Ok::<_, io::Error>(pubnub)
    })?;
    Measured::of(count, || {
        rt.block_on(async {
            for seq in 0..count {
                publish_one(&pubnub, seq).await?;
            }
            Ok(())
        })
    })
}

/// Counts `count` messages from `source` on a subscription's message stream.
pub fn subscribe(origin: &str, count: u64, source: Source) -> io::Result<Measured> {
    let rt = runtime()?;
    let _guard = rt.enter();
    let pubnub = client(origin)?;
    let mut statuses = pubnub.status_stream();
    let subscription = pubnub.subscription(SubscriptionParams {
        channels: Some(&[source.channel()]),
        channel_groups: None,
        options: None,
    });
    let mut messages = subscription.messages_stream();
    subscription.subscribe();
    rt.block_on(async {
        loop {
            match tokio::time::timeout(STALL, statuses.next()).await {
                Ok(Some(ConnectionStatus::Connected)) => return Ok(()),
                Ok(Some(_)) => {}
                _ => return Err(io::Error::other("the official client did not connect")),
            }
        }
    })?;
    let mut lost = 0;
    let measured = source.measure(origin, count, |progress| {
        rt.block_on(async {
            // The official client skips messages now and then (a restarted long-poll resumes
            // from a later cursor): count what arrives up to the last one, report the gaps.
            let mut next = 0;
            while next < count {
                let message = tokio::time::timeout(STALL, messages.next())
                    .await
                    .map_err(|_| io::Error::other(format!("stalled after {next}")))?
                    .ok_or(io::ErrorKind::UnexpectedEof)?;
                let value: Value =
                    serde_json::from_slice(&message.data).map_err(io::Error::other)?;
                if check_seq(&value, next).is_err() {
                    let seq = value["seq"].as_u64().ok_or(io::ErrorKind::InvalidData)?;
                    if seq < next {
                        continue; // a duplicate
                    }
                    lost += seq - next;
                    next = seq;
                }
                next += 1;
                progress.counted(next);
            }
            Ok(())
        })
    });
    if lost > 0 {
        println!("lost: {lost}");
    }
    // The rate and the CPU time per message count what was delivered.
    let measured = measured.map(|m| Measured {
        count: m.count - lost,
        ..m
    });
    pubnub.disconnect();
    measured
}
