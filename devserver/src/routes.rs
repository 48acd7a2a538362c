//! Maps a request path to the endpoint it names.

use crate::encoding::{decode_path, split_path_list};
use crate::errors::{ApiError, Service};
use crate::groups::GroupOp;

/// A presence request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PresenceOp {
    /// `/v2/presence/sub-key/{sub}`: every occupied channel.
    HereNowGlobal,
    /// `…/channel/{chs}`.
    HereNow(Vec<String>),
    /// `…/channel/{chs}/leave`.
    Leave(Vec<String>),
    /// `…/channel/{chs}/heartbeat`.
    Heartbeat(Vec<String>),
    /// `…/channel/{chs}/uuid/{uuid}`.
    GetState(Vec<String>, String),
    /// `…/channel/{chs}/uuid/{uuid}/data`.
    SetState(Vec<String>, String),
    /// `…/uuid/{uuid}`.
    WhereNow(String),
}

/// The endpoint a path names, with its decoded path arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `/time/0`.
    Time,
    /// `/publish/…` or `/signal/…`; `message` is the decoded GET segment (None for POST).
    Publish {
        signal: bool,
        pub_key: String,
        sub_key: String,
        channel: String,
        message: Option<String>,
    },
    /// `/v2/subscribe/{sub}/{channels}/0`.
    Subscribe {
        sub_key: String,
        channels: Vec<String>,
    },
    /// `/v2/presence/sub-key/{sub}/…`.
    Presence { sub_key: String, op: PresenceOp },
    /// `/v1/channel-registration/sub-key/{sub}/channel-group…`.
    Groups { sub_key: String, op: GroupOp },
}

impl Route {
    /// The subscribe key named in the path (empty for `/time`).
    pub(crate) fn sub_key(&self) -> &str {
        match self {
            Route::Time => "",
            Route::Publish { sub_key, .. }
            | Route::Subscribe { sub_key, .. }
            | Route::Presence { sub_key, .. }
            | Route::Groups { sub_key, .. } => sub_key,
        }
    }

    /// The publish key named in the path, if any.
    pub(crate) fn pub_key(&self) -> Option<&str> {
        match self {
            Route::Publish { pub_key, .. } => Some(pub_key),
            _ => None,
        }
    }
}

/// Parses `path` (as sent, percent-encoded).
pub(crate) fn parse(path: &str) -> Result<Route, ApiError> {
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let decode = |s: &str, service: Service| {
        decode_path(s).ok_or_else(|| ApiError::bad(service, "Invalid path encoding"))
    };
    let list = |s: &str, service: Service| {
        split_path_list(s).ok_or_else(|| ApiError::bad(service, "Invalid path encoding"))
    };
    match segments.as_slice() {
        ["time", "0"] => Ok(Route::Time),
        [
            kind @ ("publish" | "signal"),
            pub_key,
            sub_key,
            _,
            channel,
            _,
            rest @ ..,
        ] => {
            // a GET message may hold raw `/` (e.g. base64 ciphertext): it is everything after
            // the callback segment
            let b = Service::Balancer;
            Ok(Route::Publish {
                signal: *kind == "signal",
                pub_key: decode(pub_key, b)?,
                sub_key: decode(sub_key, b)?,
                channel: decode(channel, b)?,
                message: (!rest.is_empty())
                    .then(|| decode(&rest.join("/"), b))
                    .transpose()?,
            })
        }
        ["v2", "subscribe", sub_key, channels, _] => Ok(Route::Subscribe {
            sub_key: decode(sub_key, Service::Balancer)?,
            channels: list(channels, Service::Balancer)?,
        }),
        ["v2", "presence", "sub-key" | "sub_key", sub_key, rest @ ..] => {
            let p = Service::Presence;
            let op = match rest {
                [] | [""] => PresenceOp::HereNowGlobal,
                ["channel", chs] => PresenceOp::HereNow(list(chs, p)?),
                ["channel", chs, "leave"] => PresenceOp::Leave(list(chs, p)?),
                ["channel", chs, "heartbeat"] => PresenceOp::Heartbeat(list(chs, p)?),
                ["channel", chs, "uuid", uuid] => {
                    PresenceOp::GetState(list(chs, p)?, decode(uuid, p)?)
                }
                ["channel", chs, "uuid", uuid, "data"] => {
                    PresenceOp::SetState(list(chs, p)?, decode(uuid, p)?)
                }
                ["uuid", uuid] => PresenceOp::WhereNow(decode(uuid, p)?),
                _ => return Err(ApiError::NotFound),
            };
            Ok(Route::Presence {
                sub_key: decode(sub_key, p)?,
                op,
            })
        }
        [
            "v1",
            "channel-registration",
            "sub-key" | "sub_key",
            sub_key,
            "channel-group",
            rest @ ..,
        ] => {
            let r = Service::ChannelRegistry;
            let op = match rest {
                [] | [""] => GroupOp::ListGroups,
                [group] => GroupOp::Channels(decode(group, r)?),
                [group, "remove"] => GroupOp::Delete(decode(group, r)?),
                _ => return Err(ApiError::NotFound),
            };
            Ok(Route::Groups {
                sub_key: decode(sub_key, r)?,
                op,
            })
        }
        _ => Err(ApiError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(parse("/time/0"), Ok(Route::Time));
        assert_eq!(
            parse("/publish/p/s/0/ch%201/0/%22a+b%22"),
            Ok(Route::Publish {
                signal: false,
                pub_key: "p".into(),
                sub_key: "s".into(),
                channel: "ch 1".into(),
                message: Some("\"a+b\"".into())
            })
        );
        assert!(matches!(
            parse("/publish/p/s/0/ch/0"),
            Ok(Route::Publish { message: None, .. })
        ));
        assert_eq!(
            parse("/v2/subscribe/s/,/0"),
            Ok(Route::Subscribe {
                sub_key: "s".into(),
                channels: vec![]
            })
        );
        assert_eq!(
            parse("/v2/presence/sub_key/s/channel/a,b/uuid/u%2F1/data"),
            Ok(Route::Presence {
                sub_key: "s".into(),
                op: PresenceOp::SetState(vec!["a".into(), "b".into()], "u/1".into())
            })
        );
        assert_eq!(
            parse("/v1/channel-registration/sub-key/s/channel-group/g/remove"),
            Ok(Route::Groups {
                sub_key: "s".into(),
                op: GroupOp::Delete("g".into())
            })
        );
        assert_eq!(parse("/v3/nothing"), Err(ApiError::NotFound));
        assert!(parse("/v2/subscribe/s/%FF/0").is_err());
    }
}
