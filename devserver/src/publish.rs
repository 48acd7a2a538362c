//! Publish, fire and signal.

use hyper::Response;
use serde_json::value::RawValue;

use crate::access;
use crate::body::Body;
use crate::encoding::escaped_len;
use crate::errors::{ApiError, Service, respond};
use crate::json;
use crate::message::{Content, Kind};
use crate::request::Req;
use crate::state::{Draft, Shared};

/// Longest accepted `custom_message_type`.
const MAX_CMT_LEN: usize = 50;

/// Parses `text` as one JSON value, keeping its bytes.
fn raw_json(text: &str) -> Option<Box<RawValue>> {
    serde_json::from_str::<Box<RawValue>>(text.trim()).ok()
}

/// Answers a publish (`signal` false) or signal; `message` is the GET segment, else the body.
pub(crate) fn handle(
    shared: &Shared,
    req: &Req,
    signal: bool,
    sub_key: &str,
    channel: &str,
    message: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let options = &shared.options;
    let reject = |status: u16, message: &'static str| ApiError::PublishRejected {
        status,
        message,
        timetoken: shared.timetoken(),
    };
    if channel.is_empty() || channel.contains(',') {
        return Err(reject(400, "Invalid Character in Channel Name"));
    }
    access::check(
        options.grants.as_ref(),
        req.param("auth"),
        &[channel.to_owned()],
        &[],
    )?;
    let text = match message {
        Some(m) => m,
        None => std::str::from_utf8(&req.body).map_err(|_| reject(400, "Invalid JSON"))?,
    };
    let data = raw_json(text).ok_or_else(|| reject(400, "Invalid JSON"))?;
    if signal {
        if data.get().len() > options.max_signal_size {
            return Err(reject(400, "Signal size too large"));
        }
    } else if escaped_len(channel) + escaped_len(data.get()) > options.max_message_size {
        return Err(reject(413, "Message Too Large"));
    }
    let meta = match req.non_empty("meta") {
        None => None,
        Some(m) => Some(raw_json(m).ok_or_else(|| reject(400, "Invalid JSON"))?),
    };
    let cmt = req.non_empty("custom_message_type").map(str::to_owned);
    if cmt.as_ref().is_some_and(|c| c.len() > MAX_CMT_LEN) {
        return Err(reject(400, "Invalid custom message type"));
    }
    let timetoken = req
        .non_empty("ptto")
        .map(|t| t.parse::<u64>())
        .transpose()
        .map_err(|_| ApiError::bad(Service::Balancer, "Invalid ptto"))?;
    let draft = Draft {
        content: Content {
            channel: channel.to_owned(),
            kind: if signal { Kind::Signal } else { Kind::Message },
            publisher: req.non_empty("uuid").map(str::to_owned),
            seqn: if signal {
                None
            } else {
                req.param("seqn").and_then(|s| s.parse().ok())
            },
            meta,
            data,
            cmt,
        },
        timetoken,
    };
    let stored = shared.lock().store(sub_key, draft, options);
    let timetoken =
        stored.ok_or_else(|| ApiError::bad(Service::Balancer, "Invalid Subscribe Key"))?;
    shared.notify();
    Ok(respond(
        200,
        json::compact(&(1, "Sent", timetoken.to_string())),
    ))
}
