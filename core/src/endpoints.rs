//! The service's endpoints: each command becomes a method, an encoded path and decoded query
//! values here; [`crate::Core`] adds the common parameters, signs, and encodes the query.

use crate::channel::{Channel, ChannelGroup};
use crate::encoding::{push_encoded, push_name_list};
use crate::request::{Method, RequestKind};

/// A query value: plain text, or a list of names joined by raw commas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryValue {
    /// One value, encoded as a whole.
    Text(String),
    /// Names, each encoded, joined with `,`.
    List(Vec<String>),
}

impl QueryValue {
    /// The value before encoding (lists joined with `,`), as signed.
    pub fn decoded(&self) -> String {
        match self {
            QueryValue::Text(t) => t.clone(),
            QueryValue::List(l) => l.join(","),
        }
    }

    /// Appends the encoded value.
    pub fn push_encoded(&self, out: &mut String) {
        match self {
            QueryValue::Text(t) => push_encoded(out, t),
            QueryValue::List(l) => push_name_list(out, l),
        }
    }
}

/// A request before the common parameters are added.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// The method.
    pub method: Method,
    /// The encoded path.
    pub path: String,
    /// The endpoint's own query parameters.
    pub query: Vec<(&'static str, QueryValue)>,
    /// The body, for POST.
    pub body: Option<Vec<u8>>,
    /// Long-poll or regular.
    pub kind: RequestKind,
}

impl Endpoint {
    fn get(path: String) -> Endpoint {
        Endpoint {
            method: Method::Get,
            path,
            query: Vec::new(),
            body: None,
            kind: RequestKind::Regular,
        }
    }

    /// Adds a text parameter.
    pub fn param(mut self, key: &'static str, value: impl Into<String>) -> Endpoint {
        self.query.push((key, QueryValue::Text(value.into())));
        self
    }

    /// Adds a text parameter if present.
    pub fn param_opt(self, key: &'static str, value: Option<impl Into<String>>) -> Endpoint {
        match value {
            Some(v) => self.param(key, v),
            None => self,
        }
    }

    /// Adds `channel-group` if there are groups.
    pub fn groups(mut self, groups: &[ChannelGroup]) -> Endpoint {
        if !groups.is_empty() {
            let names = groups.iter().map(|g| g.as_str().to_owned()).collect();
            self.query.push(("channel-group", QueryValue::List(names)));
        }
        self
    }
}

fn path(segments: &[&str], encoded_tail: &[&str]) -> String {
    let mut p = String::new();
    for s in segments {
        p.push('/');
        push_encoded(&mut p, s);
    }
    for s in encoded_tail {
        p.push('/');
        p.push_str(s);
    }
    p
}

fn names<S: AsRef<str>>(list: &[S]) -> String {
    let mut s = String::new();
    push_name_list(&mut s, list);
    s
}

/// `/publish/{pub}/{sub}/0/{channel}/0[/{message}]` (GET carries the message in the path).
pub fn publish(
    kind: &str,
    pub_key: &str,
    sub_key: &str,
    channel: &Channel,
    message: &str,
    method: Method,
) -> Endpoint {
    let mut p = path(&[kind, pub_key, sub_key, "0", channel.as_str(), "0"], &[]);
    let mut e = Endpoint::get(String::new());
    match method {
        Method::Get => {
            p.push('/');
            push_encoded(&mut p, message);
        }
        Method::Post => {
            e.method = Method::Post;
            e.body = Some(message.as_bytes().to_vec());
        }
    }
    e.path = p;
    e
}

/// `/v2/subscribe/{sub}/{channels}/0`, a long-poll.
pub fn subscribe<'a>(
    sub_key: &str,
    channels: impl Iterator<Item = &'a Channel>,
    groups: &[ChannelGroup],
) -> Endpoint {
    let channels: Vec<&str> = channels.map(Channel::as_str).collect();
    let p = path(&["v2", "subscribe", sub_key], &[&names(&channels), "0"]);
    let mut e = Endpoint::get(p).groups(groups);
    e.kind = RequestKind::LongPoll;
    e
}

fn presence_path(sub_key: &str, tail: &[&str]) -> String {
    path(&["v2", "presence", "sub-key", sub_key], tail)
}

/// `/v2/presence/sub-key/{sub}/channel/{channels}/{action}` for `leave` and `heartbeat`.
pub fn presence_action(
    sub_key: &str,
    channels: &[Channel],
    groups: &[ChannelGroup],
    action: &str,
) -> Endpoint {
    Endpoint::get(presence_path(
        sub_key,
        &["channel", &names(channels), action],
    ))
    .groups(groups)
}

/// `/v2/presence/sub-key/{sub}/channel/{channels}/uuid/{uuid}[/data]`: get or set state.
pub fn state(
    sub_key: &str,
    channels: &[Channel],
    groups: &[ChannelGroup],
    uuid: &str,
    set: bool,
) -> Endpoint {
    let mut uuid_enc = String::new();
    push_encoded(&mut uuid_enc, uuid);
    let list = names(channels);
    let mut tail = vec!["channel", list.as_str(), "uuid", uuid_enc.as_str()];
    if set {
        tail.push("data");
    }
    Endpoint::get(presence_path(sub_key, &tail)).groups(groups)
}

/// `/v2/presence/sub-key/{sub}[/channel/{channels}]`: here_now, global when no names.
pub fn here_now(sub_key: &str, channels: &[Channel], groups: &[ChannelGroup]) -> Endpoint {
    let p = if channels.is_empty() && groups.is_empty() {
        presence_path(sub_key, &[])
    } else {
        presence_path(sub_key, &["channel", &names(channels)])
    };
    Endpoint::get(p).groups(groups)
}

/// `/v2/presence/sub-key/{sub}/uuid/{uuid}`.
pub fn where_now(sub_key: &str, uuid: &str) -> Endpoint {
    let mut uuid_enc = String::new();
    push_encoded(&mut uuid_enc, uuid);
    Endpoint::get(presence_path(sub_key, &["uuid", &uuid_enc]))
}

/// `/time/0`.
pub fn time() -> Endpoint {
    Endpoint::get("/time/0".into())
}

/// `/v1/channel-registration/sub-key/{sub}/channel-group/{group}[/remove]`.
pub fn channel_group(sub_key: &str, group: &ChannelGroup, delete: bool) -> Endpoint {
    let mut p = path(
        &[
            "v1",
            "channel-registration",
            "sub-key",
            sub_key,
            "channel-group",
            group.as_str(),
        ],
        &[],
    );
    if delete {
        p.push_str("/remove");
    }
    Endpoint::get(p)
}

/// Adds `add=` or `remove=` with a list of channels to a channel-group endpoint.
pub fn with_channel_list(e: Endpoint, key: &'static str, channels: &[Channel]) -> Endpoint {
    let mut e = e;
    let list = channels.iter().map(|c| c.as_str().to_owned()).collect();
    e.query.push((key, QueryValue::List(list)));
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(s: &str) -> Channel {
        Channel::new(s).unwrap()
    }

    #[test]
    fn paths() {
        let e = publish("publish", "p", "s", &ch("a b"), r#"{"x":1}"#, Method::Get);
        assert_eq!(e.path, "/publish/p/s/0/a%20b/0/%7B%22x%22%3A1%7D");
        let e = publish("signal", "p", "s", &ch("c"), "1", Method::Post);
        assert_eq!(
            (e.path.as_str(), e.body.as_deref()),
            ("/signal/p/s/0/c/0", Some(&b"1"[..]))
        );
        let chans = [ch("b"), ch("a")];
        let e = subscribe("s", chans.iter(), &[]);
        assert_eq!(e.path, "/v2/subscribe/s/b,a/0");
        assert_eq!(e.kind, RequestKind::LongPoll);
        let g = [ChannelGroup::new("g 1").unwrap()];
        let e = subscribe("s", [].iter(), &g);
        assert_eq!(e.path, "/v2/subscribe/s/,/0");
        assert_eq!(e.query[0].0, "channel-group");
        assert_eq!(
            presence_action("s", &[ch("a")], &[], "leave").path,
            "/v2/presence/sub-key/s/channel/a/leave"
        );
        assert_eq!(
            state("s", &[ch("a")], &[], "u 1", true).path,
            "/v2/presence/sub-key/s/channel/a/uuid/u%201/data"
        );
        assert_eq!(here_now("s", &[], &[]).path, "/v2/presence/sub-key/s");
        assert_eq!(where_now("s", "u").path, "/v2/presence/sub-key/s/uuid/u");
        let g = ChannelGroup::new("g").unwrap();
        assert_eq!(
            channel_group("s", &g, true).path,
            "/v1/channel-registration/sub-key/s/channel-group/g/remove"
        );
    }

    #[test]
    fn list_values_keep_raw_commas() {
        let v = QueryValue::List(vec!["a b".into(), "c".into()]);
        let mut out = String::new();
        v.push_encoded(&mut out);
        assert_eq!(out, "a%20b,c");
        assert_eq!(v.decoded(), "a b,c");
    }
}
