//! The subscribe envelope (protocol.md §3): `{"t":{"t":"…","r":N},"m":[…]}` → cursor and events.
//!
//! This is the hot path. Envelopes are deserialised borrowing from the body (`&RawValue` for
//! every member), and each event copies its payload bytes exactly once.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::SubscribeBody;
use super::body::{
    given, malformed, parse_body, raw_str, raw_u64, required, success_text, wire_object,
};
use super::error::in_body_error;
use super::presence_event;
use crate::channel::{Channel, PRESENCE_SUFFIX};
use crate::error::Error;
use crate::event::{Message, MessageKind};
use crate::request::Response;
use crate::timetoken::{Cursor, Region, Timetoken};

wire_object! {
    /// The whole answer.
    struct WireBody<'a> {
        t: WireTimetoken<'a>,
        m: Vec<Envelope<'a>>,
    }
}

wire_object! {
    /// A `{t, r}` pair (the next cursor, or an event's `p`).
    struct WireTimetoken<'a> {
        t: &'a RawValue,
        r: &'a RawValue,
    }
}

wire_object! {
    /// One envelope; members left raw and read leniently, unknown members ignored.
    struct Envelope<'a> {
        c: &'a RawValue,
        p: WireTimetoken<'a>,
        d: &'a RawValue,
        b: &'a RawValue,
        e: &'a RawValue,
        i: &'a RawValue,
        s: &'a RawValue,
        u: &'a RawValue,
        cmt: &'a RawValue,
        mt: &'a RawValue,
    }
}

/// Decodes a subscribe answer.
pub(super) fn decode(response: &Response) -> Result<SubscribeBody, Error> {
    let text = success_text(response)?;
    let body: WireBody<'_> = parse_body(response, text, "not a subscribe envelope")?;
    let status = response.status;
    let next = body.t.ok_or_else(|| {
        in_body_error(response, text).unwrap_or_else(|| malformed(status, "missing t"))
    })?;
    let cursor = Cursor {
        timetoken: timetoken(status, next.t, "t.t")?,
        region: match given(next.r) {
            None => None,
            Some(r) => Some(
                region(r).ok_or_else(|| malformed(status, format!("t.r is not a region: {r}")))?,
            ),
        },
    };
    let envelopes = body.m.unwrap_or_default();
    let mut messages = Vec::with_capacity(envelopes.len());
    let mut skipped = Vec::new();
    for envelope in envelopes {
        match message(status, envelope) {
            Ok(m) => messages.push(m),
            Err(e) => skipped.push(e),
        }
    }
    Ok(SubscribeBody {
        cursor,
        messages,
        skipped,
    })
}

fn timetoken(status: u16, raw: Option<&RawValue>, what: &str) -> Result<Timetoken, Error> {
    let raw = required(status, raw, what)?;
    raw_u64(raw)
        .map(Timetoken)
        .ok_or_else(|| malformed(status, format!("{what} is not a timetoken: {raw}")))
}

fn region(raw: &RawValue) -> Option<Region> {
    raw_u64(raw).and_then(|r| u32::try_from(r).ok()).map(Region)
}

/// One envelope → one event: presence by a `-pnpres` channel first, then by `e`.
fn message(status: u16, envelope: Envelope<'_>) -> Result<Message, Error> {
    let c = required(status, envelope.c, "envelope c")?;
    let c =
        raw_str(c).ok_or_else(|| malformed(status, format!("envelope c is not a string: {c}")))?;
    let p = envelope
        .p
        .ok_or_else(|| malformed(status, "missing envelope p"))?;
    let timetoken = timetoken(status, p.t, "envelope p.t")?;
    let d = required(status, envelope.d, "envelope d")?;
    let b = envelope.b.and_then(raw_str).filter(|b| *b != c);
    let presence = c.ends_with(PRESENCE_SUFFIX);
    let kind = if presence {
        MessageKind::Presence(presence_event::parse(d))
    } else {
        kind_of(envelope.e.and_then(raw_u64))
    };
    let name = |n: Cow<'_, str>| {
        let bare = if presence {
            n.strip_suffix(PRESENCE_SUFFIX).unwrap_or(&n)
        } else {
            &n
        };
        Channel::from_wire(bare)
    };
    Ok(Message {
        kind,
        channel: name(c),
        subscription: b.map(name),
        timetoken,
        region: p.r.and_then(region).unwrap_or_default(),
        publisher: envelope.i.and_then(raw_str).map(Cow::into_owned),
        payload: d.to_owned(),
        user_metadata: given(envelope.u).map(RawValue::to_owned),
        custom_message_type: envelope
            .cmt
            .and_then(raw_str)
            .or_else(|| envelope.mt.and_then(raw_str))
            .map(Cow::into_owned),
        sequence: envelope.s.and_then(raw_u64),
    })
}

/// The kind a non-presence envelope's `e` names; unknown values are messages.
fn kind_of(e: Option<u64>) -> MessageKind {
    match e {
        Some(1) => MessageKind::Signal,
        Some(2) => MessageKind::Object,
        Some(3) => MessageKind::MessageAction,
        Some(4) => MessageKind::File,
        _ => MessageKind::Message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::PresenceAction;
    use crate::status::Category;

    fn ok(body: &str) -> SubscribeBody {
        decode(&Response::new(200, body)).unwrap()
    }

    fn only(body: &str) -> Message {
        let mut decoded = ok(body);
        assert_eq!(decoded.messages.len(), 1);
        decoded.messages.remove(0)
    }

    #[test]
    fn handshake_gives_cursor_only() {
        let b = ok(r#"{"t":{"t":"14818963579052943","r":12},"m":[]}"#);
        assert_eq!(b.cursor.timetoken, Timetoken(14818963579052943));
        assert_eq!(b.cursor.region, Some(Region(12)));
        assert!(b.messages.is_empty());
    }

    #[test]
    fn direct_message() {
        let m = only(
            r#"{"t":{"t":"14818963573055360","r":12},"m":[{"a":"2","f":0,"i":"test-subscribe-asyncio-uuid-pub","s":1,"p":{"t":"14818963573025400","r":12},"k":"sub-c-33f5","c":"test-subscribe-asyncio-ch","d":"hey"}]}"#,
        );
        assert_eq!(m.kind, MessageKind::Message);
        assert_eq!(m.channel.as_str(), "test-subscribe-asyncio-ch");
        assert_eq!(m.subscription, None);
        assert_eq!(m.timetoken, Timetoken(14818963573025400));
        assert_eq!(m.region, Region(12));
        assert_eq!(
            m.publisher.as_deref(),
            Some("test-subscribe-asyncio-uuid-pub")
        );
        assert_eq!(m.payload.get(), r#""hey""#);
        assert_eq!(m.sequence, Some(1));
        assert!(m.user_metadata.is_none() && m.custom_message_type.is_none());
    }

    #[test]
    fn message_through_a_group_keeps_b() {
        let m = only(
            r#"{"t":{"t":"17379929965457610","r":42},"m":[{"a":"3","f":0,"i":"uuid-mock","s":1,"p":{"t":"17379929965457610","r":42},"k":"sub-c-d0b8","c":"test-subscribe-unsubscribe-channel","d":"hey","b":"test-subscribe-unsubscribe-group"}]}"#,
        );
        assert_eq!(m.channel.as_str(), "test-subscribe-unsubscribe-channel");
        assert_eq!(
            m.subscription.as_ref().map(Channel::as_str),
            Some("test-subscribe-unsubscribe-group")
        );
    }

    #[test]
    fn presence_join_strips_suffix_and_drops_equal_b() {
        let m = only(
            r#"{"t":{"t":"1","r":2},"m":[{"a":"2","f":0,"p":{"t":"14818963587725382","r":2},"k":"sub-c-33f5","c":"test-subscribe-asyncio-join-leave-ch-pnpres","d":{"action": "join", "timestamp": 1481896358, "uuid": "test-subscribe-asyncio-listener", "occupancy": 1},"b":"test-subscribe-asyncio-join-leave-ch-pnpres"}]}"#,
        );
        assert_eq!(m.channel.as_str(), "test-subscribe-asyncio-join-leave-ch");
        assert_eq!(m.subscription, None);
        assert_eq!(m.publisher, None);
        let p = m.presence().unwrap();
        assert_eq!(p.action, PresenceAction::Join);
        assert_eq!(p.uuid.as_deref(), Some("test-subscribe-asyncio-listener"));
        assert_eq!((p.occupancy, p.timestamp), (Some(1), Some(1481896358)));
        assert_eq!(
            m.payload.get(),
            r#"{"action": "join", "timestamp": 1481896358, "uuid": "test-subscribe-asyncio-listener", "occupancy": 1}"#
        );
    }

    #[test]
    fn presence_through_a_group() {
        let m = only(
            r#"{"t":{"t":"15808216996080765","r":12},"m":[{"a":"5","f":0,"p":{"t":"15808216996056577","r":12},"k":"demo","c":"test-channel1-pnpres","u":{"pn_action":"join","pn_uuid":"david","pn_timestamp":1580821699,"pn_occupancy":1,"pn_ispresence":1,"pn_channel":"test-channel1"},"d":{"action":"join","uuid":"david","timestamp":1580821699,"occupancy":1},"b":"test-channel-group1-pnpres"}]}"#,
        );
        assert_eq!(m.channel.as_str(), "test-channel1");
        assert_eq!(
            m.subscription.as_ref().map(Channel::as_str),
            Some("test-channel-group1")
        );
        assert_eq!(m.presence().unwrap().uuid.as_deref(), Some("david"));
        assert!(
            m.user_metadata
                .unwrap()
                .get()
                .starts_with(r#"{"pn_action":"join""#)
        );
    }

    #[test]
    fn state_change_presence() {
        let m = only(
            r#"{"t":{"t":"15800701771138813","r":12},"m":[{"a":"5","f":0,"p":{"t":"15800701771129796","r":12},"k":"demo","c":"test-channel1-pnpres","d":{"action":"state-change","uuid":"serhii","timestamp":1580070177,"data":{"channel1-state":["channel-1-updated-random-value"]},"occupancy":1},"b":"test-channel1-pnpres"}]}"#,
        );
        let p = m.presence().unwrap();
        assert_eq!(p.action, PresenceAction::StateChange);
        assert_eq!(
            p.state.as_ref().map(|s| s.get()),
            Some(r#"{"channel1-state":["channel-1-updated-random-value"]}"#)
        );
    }

    #[test]
    fn region_change_redelivers_with_lower_next_timetoken() {
        let event = r#"{"a":"2","f":0,"p":{"t":"14720341367516371","r":1},"k":"sub-c-33f55052-190b-11e6-bfbc-02ee2ddab7fe","c":"heartbeat-tornado-ch-pnpres","d":{"action": "timeout", "timestamp": 1472034136, "uuid": "heartbeat-tornado-messenger", "occupancy": 1},"b":"heartbeat-tornado-ch-pnpres"}"#;
        let first = ok(&format!(
            r#"{{"t":{{"t":"14720341368999461","r":12}},"m":[{event}]}}"#
        ));
        let second = ok(&format!(
            r#"{{"t":{{"t":"14720341368363471","r":3}},"m":[{event}]}}"#
        ));
        assert_eq!(second.cursor.timetoken, Timetoken(14720341368363471));
        assert!(second.cursor.timetoken < first.cursor.timetoken);
        assert_eq!(second.cursor.region, Some(Region(3)));
        let (a, b) = (&first.messages[0], &second.messages[0]);
        assert_eq!((a.timetoken, a.region), (b.timetoken, b.region));
        assert_eq!(a.timetoken, Timetoken(14720341367516371));
        assert_eq!(a.region, Region(1));
        assert_eq!(a.payload.get(), b.payload.get());
        assert_eq!(a.presence().unwrap().action, PresenceAction::Timeout);
    }

    #[test]
    fn kinds_by_e() {
        let object = only(
            r#"{"t":{"t":"17579657099296034","r":41},"m":[{"a":"5","f":0,"e":2,"p":{"t":"17579657099296034","r":43},"k":"demo","c":"Chanted-channel-identifier","d":{"source":"objects","version":"2.0","event":"delete","type":"membership","data":{"channel":{"id":"Chanted-channel-identifier"},"uuid":{"id":"Serhii-uuid-identifier"}}}}]}"#,
        );
        assert_eq!(object.kind, MessageKind::Object);
        assert_eq!(object.region, Region(43));
        let action = only(
            r#"{"t":{"t":"17579669502110345","r":41},"m":[{"a":"5","f":0,"e":3,"i":"serhii","p":{"t":"17579669502110345","r":43},"k":"demo","c":"test-channel","d":{"source":"actions","version":"1.0","event":"added","data":{"type":"custom","value":"test-value","actionTimetoken":"17579669502020754","messageTimetoken":"17579669463728661"}}}]}"#,
        );
        assert_eq!(action.kind, MessageKind::MessageAction);
        assert_eq!(action.publisher.as_deref(), Some("serhii"));
        let signal = only(
            r#"{"t":{"t":"17579691188566801","r":43},"m":[{"a":"5","f":0,"e":1,"i":"serhii","p":{"t":"17579691188566801","r":43},"k":"demo","c":"test-channel","d":{"hello":"there"}}]}"#,
        );
        assert_eq!(signal.kind, MessageKind::Signal);
        assert_eq!(signal.payload.get(), r#"{"hello":"there"}"#);
        let envelope = |e: &str| {
            only(&format!(
                r#"{{"t":{{"t":"1","r":1}},"m":[{{"c":"ch","p":{{"t":"2","r":1}},"d":{{"message":"hi","file":{{"id":"x","name":"y"}}}},"e":{e}}}]}}"#
            ))
            .kind
        };
        assert_eq!(envelope("4"), MessageKind::File);
        assert_eq!(envelope("0"), MessageKind::Message);
        assert_eq!(envelope("99"), MessageKind::Message);
        assert_eq!(envelope("\"1\""), MessageKind::Signal);
        assert_eq!(envelope("null"), MessageKind::Message);
    }

    #[test]
    fn presence_wins_over_e_and_shape_does_not_matter() {
        let pres = only(
            r#"{"t":{"t":"1","r":1},"m":[{"c":"x-pnpres","e":1,"p":{"t":"2","r":1},"d":"not an object"}]}"#,
        );
        assert_eq!(
            pres.presence().unwrap().action,
            PresenceAction::Other(String::new())
        );
        let lookalike = only(
            r#"{"t":{"t":"1","r":1},"m":[{"c":"x","p":{"t":"2","r":1},"d":{"action":"join","uuid":"u","timestamp":1,"occupancy":1}}]}"#,
        );
        assert_eq!(lookalike.kind, MessageKind::Message);
    }

    #[test]
    fn metadata_and_custom_type() {
        let m = only(
            r#"{"t":{"t":"17579686271846058","r":41},"m":[{"a":"5","f":0,"i":"serhii","s":1,"p":{"t":"17579686271846058","r":41},"k":"demo","c":"test-channel","u":{"access-level":"editor"},"d":"Hello there","cmt":"test-message-type","future":{"x":[1]}}]}"#,
        );
        assert_eq!(
            m.user_metadata.unwrap().get(),
            r#"{"access-level":"editor"}"#
        );
        assert_eq!(m.custom_message_type.as_deref(), Some("test-message-type"));
        let legacy =
            only(r#"{"t":{"t":"1","r":1},"m":[{"c":"x","p":{"t":"2"},"d":1,"mt":"old"}]}"#);
        assert_eq!(legacy.custom_message_type.as_deref(), Some("old"));
        assert_eq!(legacy.region, Region(0));
        let both = only(
            r#"{"t":{"t":"1","r":1},"m":[{"c":"x","p":{"t":"2"},"d":1,"mt":"old","cmt":"new"}]}"#,
        );
        assert_eq!(both.custom_message_type.as_deref(), Some("new"));
    }

    #[test]
    fn escaped_names_and_payload_bytes_kept() {
        let m = only(
            r#"{"t":{"t":"1","r":1},"m":[{"c":"caf\u00e9","b":"g\/1","i":"a\"b","p":{"t":"2","r":1},"d":{ "k" : [1, 2.50, "\u00e9"] }}]}"#,
        );
        assert_eq!(m.channel.as_str(), "café");
        assert_eq!(m.subscription.as_ref().map(Channel::as_str), Some("g/1"));
        assert_eq!(m.publisher.as_deref(), Some("a\"b"));
        assert_eq!(m.payload.get(), r#"{ "k" : [1, 2.50, "\u00e9"] }"#);
    }

    #[test]
    fn not_utf8_is_malformed() {
        let body = b"{\"t\":{\"t\":\"16007212685593246\",\"r\":12},\"m\":[{\"a\":\"5\",\"f\":0,\"i\":\"Serhii\",\"p\":{\"t\":\"16007212685589186\",\"r\":12},\"k\":\"demo\",\"c\":\"nul-channel.\xff\",\"d\":\"hel\xfflo\",\"b\":\"nul-channel.*\"}]}";
        let e = decode(&Response::new(200, body.to_vec())).unwrap_err();
        assert!(matches!(e, Error::Malformed { status: 200, .. }));
        assert_eq!(e.category(), Category::MalformedResponse);
    }

    #[test]
    fn wrong_shapes_are_malformed() {
        let cases = [
            "",
            "{",
            r#"{"t":{"t":"1","r":1},"m":[{"c":"x","p":{"t":"2","r":1},"d":1}"#,
            "[]",
            "null",
            r#"{"m":[]}"#,
            r#"{"t":{"t":"abc","r":1},"m":[]}"#,
            r#"{"t":{"t":"1","r":-1},"m":[]}"#,
            r#"{"t":{"t":"1","r":99999999999},"m":[]}"#,
            r#"{"t":{"t":"1","r":1},"m":{}}"#,
            r#"{"t":{"t":"1","r":1},"m":[1]}"#,
        ];
        for body in cases {
            assert!(
                matches!(
                    decode(&Response::new(200, body)),
                    Err(Error::Malformed { status: 200, .. })
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn unreadable_envelopes_are_skipped_and_the_cursor_still_counts() {
        for bad in [
            r#"{"c":"x","d":1}"#,
            r#"{"c":"x","p":{"t":"2"}}"#,
            r#"{"p":{"t":"2"},"d":1}"#,
            r#"{"c":7,"p":{"t":"2"},"d":1}"#,
            r#"{"c":"x","p":{"t":2.5},"d":1}"#,
        ] {
            let good = r#"{"c":"y","p":{"t":"3","r":1},"d":"ok"}"#;
            let body = format!(r#"{{"t":{{"t":"9","r":1}},"m":[{bad},{good}]}}"#);
            let b = ok(&body);
            assert_eq!(b.cursor.timetoken, Timetoken(9), "{bad}");
            assert_eq!(b.messages.len(), 1, "{bad}");
            assert_eq!(b.messages[0].payload.get(), r#""ok""#);
            assert_eq!(b.skipped.len(), 1, "{bad}");
            assert!(matches!(b.skipped[0], Error::Malformed { status: 200, .. }));
        }
    }

    #[test]
    fn lenient_where_unambiguous() {
        let b = ok(r#"{"t":{"t":14818963579052943},"extra":true}"#);
        assert_eq!(b.cursor.timetoken, Timetoken(14818963579052943));
        assert_eq!(b.cursor.region, None);
        let m = only(
            r#"{"t":{"t":"1","r":1},"m":[{"c":"x","p":{"t":"2","r":"x"},"d":null,"i":5,"s":"n","u":null}]}"#,
        );
        assert_eq!(m.payload.get(), "null");
        assert_eq!((m.publisher, m.sequence, m.region), (None, None, Region(0)));
        assert!(m.user_metadata.is_none());
    }

    #[test]
    fn errors() {
        let denied = decode(&Response::new(
            403,
            r#"{"message":"Forbidden","payload":{"channels":["not-permitted-channel"]},"error":true,"service":"Access Manager","status":403}"#,
        ))
        .unwrap_err();
        assert_eq!(denied.category(), Category::AccessDenied);
        assert!(
            matches!(&denied, Error::Api { channels, .. } if channels[0].as_str() == "not-permitted-channel")
        );
        let in_200 = decode(&Response::new(
            200,
            r#"{"status":403,"error":true,"message":"Forbidden"}"#,
        ))
        .unwrap_err();
        assert!(matches!(in_200, Error::Api { status: 403, .. }));
    }
}
