//! The floor: the same requests as the SDKs with no SDK work — build the URL, send it with a
//! bare hyper client on a current-thread runtime, read the body, validate the JSON.

use std::io;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use crate::feeder::{check_seq, payload};
use crate::stats::Measured;
use crate::{CHANNEL, PUB_KEY, SUB_KEY, Source};

type Http = Client<HttpConnector, Empty<Bytes>>;

fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

fn http() -> Http {
    Client::builder(TokioExecutor::new()).build_http()
}

/// GET `url`; the body parsed as JSON, failing on a non-200 answer.
async fn get_json(client: &Http, url: &str) -> io::Result<Value> {
    let uri = url.parse().map_err(io::Error::other)?;
    let response = client.get(uri).await.map_err(io::Error::other)?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(io::Error::other)?
        .to_bytes();
    if status != 200 {
        return Err(io::Error::other(format!("{url}: status {status}")));
    }
    serde_json::from_slice(&body).map_err(io::Error::other)
}

async fn publish_one(client: &Http, origin: &str, seq: u64) -> io::Result<()> {
    let message = utf8_percent_encode(&payload(seq), NON_ALPHANUMERIC).to_string();
    let url = format!("{origin}/publish/{PUB_KEY}/{SUB_KEY}/0/{CHANNEL}/0/{message}?uuid=floor");
    let answer = get_json(client, &url).await?;
    match answer.get(0).and_then(Value::as_i64) {
        Some(1) => Ok(()),
        _ => Err(io::Error::other(format!("publish refused: {answer}"))),
    }
}

/// `count` sequential publishes.
pub fn publish(origin: &str, count: u64) -> io::Result<Measured> {
    let rt = runtime()?;
    let client = http();
    rt.block_on(publish_one(&client, origin, u64::MAX))?;
    Measured::of(count, || {
        rt.block_on(async {
            for seq in 0..count {
                publish_one(&client, origin, seq).await?;
            }
            Ok(())
        })
    })
}

/// One subscribe request on `channel` from `cursor` (`("0", 0)`: the handshake); the body.
async fn long_poll(
    client: &Http,
    origin: &str,
    channel: &str,
    cursor: &(String, u64),
) -> io::Result<Value> {
    let (tt, tr) = cursor;
    let url = format!("{origin}/v2/subscribe/{SUB_KEY}/{channel}/0?uuid=floor&tt={tt}&tr={tr}");
    get_json(client, &url).await
}

/// The next cursor of a subscribe body.
fn next_cursor(body: &Value) -> io::Result<(String, u64)> {
    let t = &body["t"];
    match (t["t"].as_str(), t["r"].as_u64()) {
        (Some(tt), Some(tr)) => Ok((tt.to_owned(), tr)),
        _ => Err(io::Error::other(format!("no cursor in {body}"))),
    }
}

/// Counts `count` messages from `source` with a handshake/receive loop.
pub fn subscribe(origin: &str, count: u64, source: Source) -> io::Result<Measured> {
    let rt = runtime()?;
    let client = http();
    let channel = source.channel();
    let handshake = ("0".into(), 0);
    let mut cursor = rt
        .block_on(async { next_cursor(&long_poll(&client, origin, channel, &handshake).await?) })?;
    source.measure(origin, count, |progress| {
        rt.block_on(async {
            let mut received = 0;
            while received < count {
                let body = long_poll(&client, origin, channel, &cursor).await?;
                cursor = next_cursor(&body)?;
                let messages = body["m"].as_array().ok_or(io::ErrorKind::InvalidData)?;
                for m in messages {
                    check_seq(&m["d"], received)?;
                    received += 1;
                }
                progress.counted(received);
            }
            Ok(())
        })
    })
}
