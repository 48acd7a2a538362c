//! The `/v2/presence` endpoints: here-now, where-now, heartbeat, leave, get/set state.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hyper::Response;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::access;
use crate::body::Body;
use crate::encoding::split_list;
use crate::errors::{ApiError, Service, respond};
use crate::json;
use crate::presence::Action;
use crate::request::Req;
use crate::routes::PresenceOp;
use crate::state::{Inner, Shared};

/// Longest presence timeout accepted from a `heartbeat` parameter, in seconds.
const MAX_TIMEOUT_SECS: u64 = 86_400;

/// A uuid and the channels and groups a request names for it.
pub(crate) struct Presentee<'a> {
    /// The uuid.
    pub uuid: &'a str,
    /// Channels named in the path.
    pub channels: &'a [String],
    /// Groups named in `channel-group`.
    pub groups: &'a [String],
}

fn bad(message: &str) -> ApiError {
    ApiError::bad(Service::Presence, message)
}

/// The presence timeout a request asks for (`heartbeat`), or the configured default.
pub(crate) fn timeout_param(
    req: &Req,
    shared: &Shared,
    service: Service,
) -> Result<Duration, ApiError> {
    match req.non_empty("heartbeat") {
        None | Some("0") => Ok(shared.options.presence_timeout),
        Some(v) => v
            .parse::<u64>()
            .map(|secs| Duration::from_secs(secs.min(MAX_TIMEOUT_SECS)))
            .map_err(|_| ApiError::bad(service, "Invalid heartbeat")),
    }
}

/// The `state` parameter as a JSON object, if given.
pub(crate) fn state_param(
    req: &Req,
    service: Service,
) -> Result<Option<Map<String, Value>>, ApiError> {
    match req.non_empty("state") {
        None => Ok(None),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(Some(map)),
            _ => Err(ApiError::bad(service, "Invalid JSON")),
        },
    }
}

/// Marks `who` present on its channels (and its groups' channels) for `timeout`, first
/// applying `state` (keyed by channel or group name); publishes the resulting events.
pub(crate) fn touch(
    shared: &Shared,
    inner: &mut Inner,
    sub_key: &str,
    who: &Presentee<'_>,
    timeout: Duration,
    state: Option<&Map<String, Value>>,
) {
    let options = &shared.options;
    let limits = shared.limits();
    let Some(keyset) = inner.keyset_mut(sub_key, options.max_keysets) else {
        return;
    };
    let channels = keyset.resolve(who.channels, who.groups);
    let mut events = Vec::new();
    for (key, value) in state.into_iter().flatten() {
        let targets: Vec<String> = if who.groups.contains(key) {
            keyset.groups.members(key).cloned().collect()
        } else if channels.contains(key) {
            vec![key.clone()]
        } else {
            Vec::new()
        };
        for channel in targets {
            keyset
                .presence
                .set_state(&channel, who.uuid, Some(value.clone()), limits, &mut events);
        }
    }
    let now = Instant::now();
    for channel in &channels {
        keyset
            .presence
            .touch(channel, who.uuid, timeout, now, limits, &mut events);
    }
    inner.emit(sub_key, events, options);
}

/// `{"status": 200, "message": "OK", "service": "Presence"}` and its variants.
#[derive(Serialize)]
struct Ok<P: Serialize> {
    status: u16,
    message: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<P>,
    service: &'static str,
}

fn ok<P: Serialize>(payload: Option<P>) -> Response<Body> {
    respond(
        200,
        json::spaced(&Ok {
            status: 200,
            message: "OK",
            payload,
            service: "Presence",
        }),
    )
}

/// Answers a presence request.
pub(crate) fn handle(
    shared: &Shared,
    req: &Req,
    sub_key: &str,
    op: PresenceOp,
) -> Result<Response<Body>, ApiError> {
    let groups = req
        .param("channel-group")
        .map(split_list)
        .unwrap_or_default();
    let named = match &op {
        PresenceOp::HereNow(chs)
        | PresenceOp::Leave(chs)
        | PresenceOp::Heartbeat(chs)
        | PresenceOp::GetState(chs, _)
        | PresenceOp::SetState(chs, _) => Some(chs.as_slice()),
        PresenceOp::HereNowGlobal | PresenceOp::WhereNow(_) => None,
    };
    if let Some(channels) = named {
        if channels.len() + groups.len() > shared.options.max_channels_per_request {
            return Err(bad("Too many channels"));
        }
        access::check(
            shared.options.grants.as_ref(),
            req.param("auth"),
            channels,
            &groups,
        )?;
    }
    let uuid = req.non_empty("uuid").unwrap_or("");
    match op {
        PresenceOp::HereNowGlobal => Ok(here_now(shared, req, sub_key, None, &groups)),
        PresenceOp::HereNow(channels) => {
            Ok(here_now(shared, req, sub_key, Some(&channels), &groups))
        }
        PresenceOp::WhereNow(uuid) => {
            #[derive(Serialize)]
            struct Channels<'a> {
                channels: Vec<&'a str>,
            }
            let inner = shared.lock();
            let channels = inner
                .keyset(sub_key)
                .map(|k| k.presence.channels_of(&uuid))
                .unwrap_or_default();
            Ok(ok(Some(Channels { channels })))
        }
        PresenceOp::Heartbeat(channels) => {
            let timeout = timeout_param(req, shared, Service::Presence)?;
            let state = state_param(req, Service::Presence)?;
            if !uuid.is_empty() {
                let who = Presentee {
                    uuid,
                    channels: &channels,
                    groups: &groups,
                };
                touch(
                    shared,
                    &mut shared.lock(),
                    sub_key,
                    &who,
                    timeout,
                    state.as_ref(),
                );
                shared.notify();
            }
            Ok(ok(None::<()>))
        }
        PresenceOp::Leave(channels) => {
            let limits = shared.limits();
            let mut inner = shared.lock();
            let mut events = Vec::new();
            if let Some(keyset) = inner.keyset_mut(sub_key, shared.options.max_keysets) {
                for channel in keyset.resolve(&channels, &groups) {
                    keyset
                        .presence
                        .remove(&channel, uuid, Action::Leave, limits, &mut events);
                }
            }
            inner.emit(sub_key, events, &shared.options);
            drop(inner);
            shared.notify();
            #[derive(Serialize)]
            struct Left {
                status: u16,
                action: &'static str,
                message: &'static str,
                service: &'static str,
            }
            Ok(respond(
                200,
                json::spaced(&Left {
                    status: 200,
                    action: "leave",
                    message: "OK",
                    service: "Presence",
                }),
            ))
        }
        PresenceOp::SetState(channels, target) => {
            let state = state_param(req, Service::Presence)?.ok_or_else(|| bad("Missing state"))?;
            let limits = shared.limits();
            let mut inner = shared.lock();
            let mut events = Vec::new();
            let keyset = inner
                .keyset_mut(sub_key, shared.options.max_keysets)
                .ok_or_else(|| bad("Invalid Subscribe Key"))?;
            let value = (!state.is_empty()).then(|| Value::Object(state.clone()));
            for channel in keyset.resolve(&channels, &groups) {
                if !keyset
                    .presence
                    .set_state(&channel, &target, value.clone(), limits, &mut events)
                {
                    return Err(bad("Too many presence entries"));
                }
            }
            inner.emit(sub_key, events, &shared.options);
            drop(inner);
            shared.notify();
            Ok(ok(Some(Value::Object(state))))
        }
        PresenceOp::GetState(channels, target) => {
            let inner = shared.lock();
            let empty = Value::Object(Map::new());
            let keyset = inner.keyset(sub_key);
            let resolved = keyset
                .map(|k| k.resolve(&channels, &groups))
                .unwrap_or_else(|| channels.clone());
            let state_of = |c: &str| {
                keyset
                    .and_then(|k| k.presence.state(c, &target))
                    .unwrap_or(&empty)
            };
            if channels.len() == 1 && groups.is_empty() {
                #[derive(Serialize)]
                struct Single<'a> {
                    status: u16,
                    uuid: &'a str,
                    service: &'static str,
                    message: &'static str,
                    payload: &'a Value,
                    channel: &'a str,
                }
                let channel = &channels[0];
                let body = Single {
                    status: 200,
                    uuid: &target,
                    service: "Presence",
                    message: "OK",
                    payload: state_of(channel),
                    channel,
                };
                return Ok(respond(200, json::spaced(&body)));
            }
            #[derive(Serialize)]
            struct Channels<'a> {
                channels: BTreeMap<&'a str, &'a Value>,
            }
            #[derive(Serialize)]
            struct Multi<'a> {
                status: u16,
                message: &'static str,
                payload: Channels<'a>,
                service: &'static str,
                uuid: &'a str,
            }
            let channels = resolved.iter().map(|c| (c.as_str(), state_of(c))).collect();
            let body = Multi {
                status: 200,
                message: "OK",
                payload: Channels { channels },
                service: "Presence",
                uuid: &target,
            };
            Ok(respond(200, json::spaced(&body)))
        }
    }
}

/// One channel's occupants in a here-now answer.
#[derive(Serialize)]
struct Occupants {
    #[serde(skip_serializing_if = "Option::is_none")]
    uuids: Option<Vec<Value>>,
    occupancy: usize,
}

/// Here-now for `channels` (and `groups`), or for every occupied channel when `None`.
fn here_now(
    shared: &Shared,
    req: &Req,
    sub_key: &str,
    channels: Option<&[String]>,
    groups: &[String],
) -> Response<Body> {
    let with_uuids = !req.flag("disable_uuids");
    let with_state = req.flag("state");
    let limit = req
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(1000);
    let offset = req
        .param("offset")
        .and_then(|o| o.parse::<usize>().ok())
        .unwrap_or(0);
    let inner = shared.lock();
    let keyset = inner.keyset(sub_key);
    let occupants = |channel: &str| -> Occupants {
        let Some(presence) = keyset.map(|k| &k.presence) else {
            return Occupants {
                uuids: with_uuids.then(Vec::new),
                occupancy: 0,
            };
        };
        let all = presence.occupants(channel);
        let uuids = with_uuids.then(|| {
            let entry = |uuid: &str| match (with_state, presence.state(channel, uuid)) {
                (false, _) => Value::String(uuid.to_owned()),
                (true, None) => serde_json::json!({ "uuid": uuid }),
                (true, Some(state)) => serde_json::json!({ "state": state, "uuid": uuid }),
            };
            all.iter()
                .skip(offset)
                .take(limit)
                .map(|u| entry(u))
                .collect()
        });
        Occupants {
            uuids,
            occupancy: all.len(),
        }
    };
    if let Some([channel]) = channels.filter(|_| groups.is_empty()) {
        #[derive(Serialize)]
        struct Single {
            status: u16,
            message: &'static str,
            service: &'static str,
            #[serde(flatten)]
            occupants: Occupants,
        }
        let body = Single {
            status: 200,
            message: "OK",
            service: "Presence",
            occupants: occupants(channel),
        };
        return respond(200, json::spaced(&body));
    }
    let names: Vec<String> = match (channels, keyset) {
        (_, None) => Vec::new(),
        (None, Some(k)) => k
            .presence
            .occupied_channels()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        (Some(chs), Some(k)) => k.resolve(chs, groups),
    };
    let mut by_channel = BTreeMap::new();
    let mut total = 0;
    for name in names {
        let entry = occupants(&name);
        if entry.occupancy > 0 {
            total += entry.occupancy;
            by_channel.insert(name, entry);
        }
    }
    #[derive(Serialize)]
    struct Payload {
        channels: BTreeMap<String, Occupants>,
        total_channels: usize,
        total_occupancy: usize,
    }
    let payload = Payload {
        total_channels: by_channel.len(),
        channels: by_channel,
        total_occupancy: total,
    };
    ok(Some(payload))
}
