//! Subscribe v2: handshake, and the receive long-poll.

use std::collections::HashSet;
use std::sync::Arc;

use hyper::Response;
use serde_json::Value;
use tokio::time::Instant;

use crate::access;
use crate::body::Body;
use crate::encoding::split_list;
use crate::errors::{ApiError, Service, respond};
use crate::filter::Filter;
use crate::firehose;
use crate::json;
use crate::message::{Cursor, Kind, Stored, SubscribeBody};
use crate::options::FIREHOSE_START;
use crate::presence_api;
use crate::request::Req;
use crate::state::{Keyset, Shared};
use crate::timetoken::parse_cursor;

/// Stand-in for a hold time too long to represent.
const FAR_FUTURE: std::time::Duration = std::time::Duration::from_secs(365 * 86_400);

/// What one subscribe request listens to.
#[derive(Debug)]
struct Subscription {
    channels: Vec<String>,
    groups: Vec<String>,
    filter: Option<Filter>,
}

/// An event to deliver and the subscription name it matched through (`b`).
type Delivery = (Arc<Stored>, Option<String>);

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad(Service::Balancer, message)
}

/// The wildcard prefix of `name` (`a.` for `a.*` and `a.*-pnpres`) and whether it is presence.
fn wildcard(name: &str) -> Option<(&str, bool)> {
    if let Some(base) = name.strip_suffix(".*-pnpres") {
        return Some((&name[..base.len() + 1], true));
    }
    name.strip_suffix('*')
        .filter(|p| p.ends_with('.'))
        .map(|p| (p, false))
}

impl Subscription {
    /// Whether `event` passes the filter (presence events always do).
    fn passes(&self, event: &Stored) -> bool {
        let Some(filter) = &self.filter else {
            return true;
        };
        if event.content.kind == Kind::Presence {
            return true;
        }
        let parse = |raw: Option<&serde_json::value::RawValue>| {
            raw.and_then(|r| serde_json::from_str::<Value>(r.get()).ok())
                .unwrap_or(Value::Null)
        };
        filter.matches(
            &parse(event.content.meta.as_deref()),
            &parse(Some(&event.content.data)),
        )
    }

    /// Events after `cursor` on the subscribed channels (direct, wildcard, then via groups,
    /// each channel once), oldest first, at most the newest `cap`.
    fn collect(&self, keyset: &Keyset, cursor: u64, cap: usize) -> Vec<Delivery> {
        let mut seen: HashSet<String> = HashSet::new();
        let mut out: Vec<Delivery> = Vec::new();
        let mut take = |channel: &str, matched: Option<&str>, out: &mut Vec<Delivery>| {
            if seen.insert(channel.to_owned()) {
                let events = keyset
                    .history
                    .after(channel, cursor)
                    .filter(|e| self.passes(e));
                out.extend(events.map(|e| (Arc::clone(e), matched.map(str::to_owned))));
            }
        };
        for name in self.channels.iter().filter(|n| wildcard(n).is_none()) {
            let matched = name.ends_with("-pnpres").then_some(name.as_str());
            take(name, matched, &mut out);
        }
        for name in &self.channels {
            let Some((prefix, presence)) = wildcard(name) else {
                continue;
            };
            if !presence {
                // the service delivers the presence of the wildcard channel itself (subscribers
                // of `a.*` are present on `a.*`) to its subscribers, with `b` = the pattern
                take(&format!("{name}-pnpres"), Some(name), &mut out);
            }
            for channel in keyset.history.channel_names() {
                if channel.ends_with("-pnpres") == presence && channel.starts_with(prefix) {
                    take(channel, Some(name), &mut out);
                }
            }
        }
        for group in &self.groups {
            let (base, presence) = match group.strip_suffix("-pnpres") {
                Some(base) => (base, true),
                None => (group.as_str(), false),
            };
            for member in keyset.groups.members(base) {
                let channel = if presence {
                    format!("{member}-pnpres")
                } else {
                    member.clone()
                };
                take(&channel, Some(group), &mut out);
            }
        }
        out.sort_by_key(|(e, _)| e.order);
        if out.len() > cap {
            out.drain(..out.len() - cap);
        }
        out
    }
}

/// The response body for `events` and next cursor `next`.
fn render(shared: &Shared, sub_key: &str, events: &[Delivery], next: u64) -> Response<Body> {
    let region = shared.options.region;
    let body = SubscribeBody {
        t: Cursor::new(next, region),
        m: events
            .iter()
            .map(|(e, b)| e.envelope(sub_key, region, b.as_deref()))
            .collect(),
    };
    respond(200, json::compact(&body))
}

/// Answers a subscribe request; a receive waits until there is something to deliver.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Req,
    sub_key: String,
    channels: Vec<String>,
) -> Result<Response<Body>, ApiError> {
    let options = &shared.options;
    let groups = req
        .param("channel-group")
        .map(split_list)
        .unwrap_or_default();
    if channels.is_empty() && groups.is_empty() {
        return Err(bad("No channels or channel groups"));
    }
    if channels.len() + groups.len() > options.max_channels_per_request {
        return Err(bad("Too many channels"));
    }
    access::check(
        options.grants.as_ref(),
        req.param("auth"),
        &channels,
        &groups,
    )?;
    let filter = match req.non_empty("filter-expr") {
        Some(expr) => {
            Some(Filter::parse(expr).map_err(|e| bad(format!("Invalid filter expression: {e}")))?)
        }
        None => None,
    };
    let cursor = parse_cursor(req.param("tt")).map_err(|()| bad("Invalid timetoken"))?;
    let timeout = presence_api::timeout_param(&req, &shared, Service::Balancer)?;
    let state = presence_api::state_param(&req, Service::Balancer)?;

    let firehose = match (options.firehose.as_deref(), channels.as_slice()) {
        (Some(f), [only]) if groups.is_empty() && only == f => Some(f),
        _ => None,
    };
    let handshake = {
        let mut inner = shared.lock();
        let handshake = cursor.is_none().then(|| match firehose {
            Some(_) => FIREHOSE_START,
            None => inner.clock.next(),
        });
        if let Some(uuid) = req.non_empty("uuid") {
            let present = presence_api::Presentee {
                uuid,
                channels: &channels,
                groups: &groups,
            };
            presence_api::touch(
                &shared,
                &mut inner,
                &sub_key,
                &present,
                timeout,
                state.as_ref(),
            );
        }
        handshake
    };
    shared.notify();
    if let Some(next) = handshake {
        return Ok(render(&shared, &sub_key, &[], next));
    }
    let cursor = cursor.unwrap_or(0);
    if let Some(channel) = firehose {
        let (messages, next) = firehose::page(channel, cursor, options.queue_cap);
        let events: Vec<Delivery> = messages.into_iter().map(|m| (m, None)).collect();
        return Ok(render(&shared, &sub_key, &events, next));
    }
    let subscription = Subscription {
        channels,
        groups,
        filter,
    };
    let mut wake = shared.wake.subscribe();
    let mut closing = shared.closing.subscribe();
    let names = subscription
        .channels
        .iter()
        .chain(&subscription.groups)
        .cloned()
        .collect();
    let _parked = shared.parked.enter(names);
    let now = Instant::now();
    let deadline = now
        .checked_add(options.hold_time)
        .unwrap_or(now + FAR_FUTURE);
    loop {
        wake.borrow_and_update();
        let expired = *closing.borrow() || Instant::now() >= deadline;
        let found = {
            let mut inner = shared.lock();
            let events = inner
                .keyset(&sub_key)
                .map(|k| subscription.collect(k, cursor, options.queue_cap))
                .unwrap_or_default();
            (!events.is_empty() || expired).then(|| (events, inner.clock.current()))
        };
        if let Some((events, next)) = found {
            return Ok(render(&shared, &sub_key, &events, next));
        }
        tokio::select! {
            _ = wake.changed() => {}
            _ = tokio::time::sleep_until(deadline) => {}
            _ = closing.wait_for(|c| *c) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards() {
        assert_eq!(wildcard("a.*"), Some(("a.", false)));
        assert_eq!(wildcard("a.b.*-pnpres"), Some(("a.b.", true)));
        assert_eq!(wildcard("a*"), None);
        assert_eq!(wildcard("a"), None);
    }
}
