//! A stored message (publish, signal or presence event) and its subscribe envelope.

use serde::Serialize;
use serde_json::value::RawValue;

/// What kind of event a stored message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A published message (no `e`).
    Message,
    /// A signal (`e` = 1).
    Signal,
    /// A presence event on a `-pnpres` channel (no `e`, no `i`).
    Presence,
}

/// What an event says: where it happened, who sent it and what it carries.
#[derive(Debug)]
pub(crate) struct Content {
    /// The channel it happened on (`<ch>-pnpres` for presence).
    pub channel: String,
    /// Message, signal or presence.
    pub kind: Kind,
    /// The publisher's uuid (`i`).
    pub publisher: Option<String>,
    /// The publisher's sequence number (`s`).
    pub seqn: Option<u64>,
    /// The publisher's `meta` (`u`).
    pub meta: Option<Box<RawValue>>,
    /// The payload (`d`).
    pub data: Box<RawValue>,
    /// The custom message type (`cmt`).
    pub cmt: Option<String>,
}

/// One event as the server keeps it.
#[derive(Debug)]
pub(crate) struct Stored {
    /// Server timetoken that orders the log; cursors compare against it.
    pub order: u64,
    /// The publish timetoken shown as `p.t` (differs from `order` only with `ptto`).
    pub timetoken: u64,
    /// What it says.
    pub content: Content,
}

/// The `{t, r}` pair used for cursors and publish timetokens.
#[derive(Debug, Serialize)]
pub(crate) struct Cursor {
    /// Timetoken as a 17-digit string.
    pub t: String,
    /// Region.
    pub r: u32,
}

impl Cursor {
    /// A cursor for timetoken `tt` in region `r`.
    pub(crate) fn new(tt: u64, r: u32) -> Cursor {
        Cursor {
            t: tt.to_string(),
            r,
        }
    }
}

/// One element of a subscribe response's `m`, in the service's field order.
#[derive(Debug, Serialize)]
pub(crate) struct Envelope<'a> {
    a: &'static str,
    f: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    e: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    i: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<u64>,
    p: Cursor,
    k: &'a str,
    c: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    u: Option<&'a RawValue>,
    d: &'a RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    b: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cmt: Option<&'a str>,
}

impl Stored {
    /// The envelope for a subscriber on `sub_key` that matched through `matched` (`b`).
    pub(crate) fn envelope<'a>(
        &'a self,
        sub_key: &'a str,
        region: u32,
        matched: Option<&'a str>,
    ) -> Envelope<'a> {
        Envelope {
            a: "1",
            f: 0,
            e: (self.content.kind == Kind::Signal).then_some(1),
            i: self.content.publisher.as_deref(),
            s: self.content.seqn,
            p: Cursor::new(self.timetoken, region),
            k: sub_key,
            c: &self.content.channel,
            u: self.content.meta.as_deref(),
            d: &self.content.data,
            b: matched,
            cmt: self.content.cmt.as_deref(),
        }
    }
}

/// The body of a subscribe response.
#[derive(Debug, Serialize)]
pub(crate) struct SubscribeBody<'a> {
    /// The next cursor.
    pub t: Cursor,
    /// The events.
    pub m: Vec<Envelope<'a>>,
}
