//! Channel groups of one key set and the `/v1/channel-registration` endpoints.

use std::collections::{BTreeSet, HashMap};

use hyper::Response;
use serde::Serialize;

use crate::access;
use crate::body::Body;
use crate::encoding::split_list;
use crate::errors::{ApiError, Service, respond};
use crate::json;
use crate::request::Req;
use crate::state::Shared;

/// Group name → member channels.
#[derive(Debug, Default)]
pub(crate) struct Groups {
    groups: HashMap<String, BTreeSet<String>>,
}

impl Groups {
    /// The channels of `group` (none if it does not exist), sorted.
    pub(crate) fn members(&self, group: &str) -> impl Iterator<Item = &String> {
        self.groups.get(group).into_iter().flatten()
    }

    /// Every group name, sorted.
    pub(crate) fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.groups.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

/// What a channel-registration request does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GroupOp {
    /// List every group of the key set.
    ListGroups,
    /// Add, remove or list the channels of a group (by query parameters).
    Channels(String),
    /// Delete a group.
    Delete(String),
}

fn bad(message: &str) -> ApiError {
    ApiError::bad(Service::ChannelRegistry, message)
}

/// `{"status": 200, "message": "OK", "service": "channel-registry", "error": false}`
fn ok() -> Response<Body> {
    #[derive(Serialize)]
    struct Ok {
        status: u16,
        message: &'static str,
        service: &'static str,
        error: bool,
    }
    respond(
        200,
        json::spaced(&Ok {
            status: 200,
            message: "OK",
            service: "channel-registry",
            error: false,
        }),
    )
}

/// `{"status": 200, "payload": …, "service": "channel-registry", "error": false}`
fn payload<P: Serialize>(payload: P) -> Response<Body> {
    #[derive(Serialize)]
    struct WithPayload<P> {
        status: u16,
        payload: P,
        service: &'static str,
        error: bool,
    }
    respond(
        200,
        json::spaced(&WithPayload {
            status: 200,
            payload,
            service: "channel-registry",
            error: false,
        }),
    )
}

/// Answers a channel-registration request.
pub(crate) fn handle(
    shared: &Shared,
    req: &Req,
    sub_key: &str,
    op: GroupOp,
) -> Result<Response<Body>, ApiError> {
    let options = &shared.options;
    let group = match &op {
        GroupOp::ListGroups => None,
        GroupOp::Channels(g) | GroupOp::Delete(g) => Some(g.clone()),
    };
    if let Some(g) = &group {
        if g.is_empty() || g.ends_with("-pnpres") {
            return Err(bad("Invalid channel group name"));
        }
        access::check(
            options.grants.as_ref(),
            req.param("auth"),
            &[],
            std::slice::from_ref(g),
        )?;
    }
    let mut inner = shared.lock();
    match op {
        GroupOp::ListGroups => {
            #[derive(Serialize)]
            struct List<'a> {
                namespace: &'static str,
                groups: Vec<&'a str>,
            }
            let groups = inner
                .keyset(sub_key)
                .map(|k| k.groups.names())
                .unwrap_or_default();
            Ok(payload(List {
                namespace: "",
                groups,
            }))
        }
        GroupOp::Delete(group) => {
            if let Some(keyset) = inner.keyset_mut(sub_key, options.max_keysets) {
                keyset.groups.groups.remove(&group);
            }
            Ok(ok())
        }
        GroupOp::Channels(group) => {
            let add = req.param("add").map(split_list);
            let remove = req.param("remove").map(split_list);
            match (add, remove) {
                (Some(_), Some(_)) => Err(bad("Cannot add and remove in one request")),
                (Some(channels), None) => {
                    if channels.is_empty() {
                        return Err(bad("Missing channels"));
                    }
                    if channels.len() > options.max_channels_per_request {
                        return Err(bad("Too many channels"));
                    }
                    let keyset = inner
                        .keyset_mut(sub_key, options.max_keysets)
                        .ok_or_else(|| bad("Too many subscribe keys"))?;
                    if !keyset.groups.groups.contains_key(&group)
                        && keyset.groups.groups.len() >= options.max_groups
                    {
                        return Err(bad("Maximum number of channel groups reached"));
                    }
                    let members = keyset.groups.groups.entry(group).or_default();
                    let new = channels.iter().filter(|c| !members.contains(*c)).count();
                    if members.len() + new > options.max_channels_per_group {
                        return Err(bad("Maximum number of channels in a channel group reached"));
                    }
                    members.extend(channels);
                    Ok(ok())
                }
                (None, Some(channels)) => {
                    if channels.is_empty() {
                        return Err(bad("Missing channels"));
                    }
                    if let Some(keyset) = inner.keyset_mut(sub_key, options.max_keysets) {
                        if let Some(members) = keyset.groups.groups.get_mut(&group) {
                            for c in &channels {
                                members.remove(c);
                            }
                        }
                    }
                    Ok(ok())
                }
                (None, None) => {
                    #[derive(Serialize)]
                    struct Channels<'a> {
                        channels: Vec<&'a String>,
                        group: &'a str,
                    }
                    let channels = inner
                        .keyset(sub_key)
                        .map(|k| k.groups.members(&group).collect())
                        .unwrap_or_default();
                    Ok(payload(Channels {
                        channels,
                        group: &group,
                    }))
                }
            }
        }
    }
}
