//! Presence REST answers (protocol.md §1.7–1.8): here_now (single, multi and global forms),
//! where_now, get_state (single and multi) and set_state.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::body::{
    Entries, given, malformed, parse_raw, payload_names, raw_str, raw_u64, required,
    service_object, wire_object,
};
use crate::channel::Channel;
use crate::error::Error;
use crate::event::{ChannelOccupancy, HereNow, Occupant, RawJson};
use crate::request::Response;

wire_object! {
    /// The multi-channel and global here_now `payload`.
    struct HereNowPayload<'a> {
        channels: Entries<'a>,
        total_channels: &'a RawValue,
        total_occupancy: &'a RawValue,
    }
}

wire_object! {
    /// One channel of the multi-channel here_now form.
    struct PerChannel<'a> {
        occupancy: &'a RawValue,
        uuids: &'a RawValue,
    }
}

wire_object! {
    /// A here_now occupant listed with its state.
    struct WithState<'a> {
        uuid: &'a RawValue,
        state: &'a RawValue,
    }
}

wire_object! {
    /// The several-channel get_state `payload`.
    struct StatePayload<'a> {
        channels: Entries<'a>,
    }
}

/// Decodes a here_now answer; a single-channel answer is attributed to `requested[0]`.
pub(super) fn here_now(response: &Response, requested: &[Channel]) -> Result<HereNow, Error> {
    let status = response.status;
    let object = service_object(response)?;
    let Some(payload) = given(object.payload) else {
        let occupancy = required(status, given(object.occupancy), "occupancy")?;
        let channel = requested
            .first()
            .cloned()
            .unwrap_or_else(|| Channel::from_wire(""));
        let one = channel_occupancy(status, channel, Some(occupancy), object.uuids)?;
        return Ok(HereNow {
            total_channels: 1,
            total_occupancy: one.occupancy,
            channels: vec![one],
        });
    };
    let multi: HereNowPayload<'_> = parse_raw(status, payload, "here_now payload")?;
    let channels = required_entries(status, multi.channels, "payload.channels")?
        .into_iter()
        .map(|(name, raw)| {
            let entry: PerChannel<'_> = parse_raw(status, raw, "here_now channel")?;
            channel_occupancy(
                status,
                Channel::from_wire(&name),
                entry.occupancy,
                entry.uuids,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let count = |raw: Option<&RawValue>, fallback: u64| raw.and_then(raw_u64).unwrap_or(fallback);
    Ok(HereNow {
        total_channels: count(multi.total_channels, channels.len() as u64),
        total_occupancy: count(
            multi.total_occupancy,
            channels.iter().map(|c| c.occupancy).sum(),
        ),
        channels,
    })
}

/// The members of a required object member.
fn required_entries<'a>(
    status: u16,
    entries: Option<Entries<'a>>,
    what: &str,
) -> Result<Vec<(Cow<'a, str>, &'a RawValue)>, Error> {
    entries
        .map(|e| e.0)
        .ok_or_else(|| malformed(status, format!("missing {what}")))
}

/// One channel's occupancy; a missing count is the number of users listed.
fn channel_occupancy(
    status: u16,
    channel: Channel,
    occupancy: Option<&RawValue>,
    uuids: Option<&RawValue>,
) -> Result<ChannelOccupancy, Error> {
    let occupants = match given(uuids) {
        Some(raw) => occupants(status, raw)?,
        None => Vec::new(),
    };
    let occupancy = match given(occupancy) {
        Some(raw) => raw_u64(raw)
            .ok_or_else(|| malformed(status, format!("occupancy is not a count: {raw}")))?,
        None => occupants.len() as u64,
    };
    Ok(ChannelOccupancy {
        channel,
        occupancy,
        occupants,
    })
}

/// The `uuids` list: plain strings, or `{"uuid":…, "state":…}` objects when state was asked for.
fn occupants(status: u16, raw: &RawValue) -> Result<Vec<Occupant>, Error> {
    let items: Vec<&RawValue> = parse_raw(status, raw, "uuids")?;
    items
        .into_iter()
        .map(|item| {
            if let Some(uuid) = raw_str(item) {
                return Ok(Occupant {
                    uuid: uuid.into_owned(),
                    state: None,
                });
            }
            let entry: WithState<'_> = parse_raw(status, item, "uuids entry")?;
            let uuid = required(status, entry.uuid, "uuids entry uuid")?;
            let uuid = raw_str(uuid)
                .ok_or_else(|| malformed(status, format!("uuid is not a string: {uuid}")))?;
            Ok(Occupant {
                uuid: uuid.into_owned(),
                state: given(entry.state).map(RawValue::to_owned),
            })
        })
        .collect()
}

/// Decodes a where_now answer: `payload.channels`.
pub(super) fn where_now(response: &Response) -> Result<Vec<Channel>, Error> {
    let object = service_object(response)?;
    let names = payload_names(response.status, &object, "channels")?;
    Ok(names.iter().map(|n| Channel::from_wire(n)).collect())
}

/// Decodes a get_state answer: `payload` is the state of `channel` (single), or
/// `payload.channels` maps channels to states (several channels or groups). Without either
/// marker, a payload for exactly one requested channel is that channel's state.
pub(super) fn get_state(
    response: &Response,
    requested: &[Channel],
) -> Result<Vec<(Channel, RawJson)>, Error> {
    let status = response.status;
    let object = service_object(response)?;
    let payload = required(status, given(object.payload), "payload")?;
    if let Some(channel) = given(object.channel) {
        let name = raw_str(channel)
            .ok_or_else(|| malformed(status, format!("channel is not a string: {channel}")))?;
        return Ok(vec![(Channel::from_wire(&name), payload.to_owned())]);
    }
    let multi = serde_json::from_str::<StatePayload<'_>>(payload.get())
        .map_err(|e| e.to_string())
        .and_then(|m| m.channels.ok_or_else(|| "missing".to_owned()));
    match (multi, requested) {
        (Ok(channels), _) => Ok(channels
            .0
            .into_iter()
            .map(|(name, state)| (Channel::from_wire(&name), state.to_owned()))
            .collect()),
        (Err(_), [only]) => Ok(vec![(only.clone(), payload.to_owned())]),
        (Err(e), _) => Err(malformed(status, format!("payload.channels: {e}"))),
    }
}

/// Decodes a set_state answer: the `payload` the service stored.
pub(super) fn set_state(response: &Response) -> Result<RawJson, Error> {
    let object = service_object(response)?;
    Ok(required(response.status, given(object.payload), "payload")?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Category;

    fn r(body: &str) -> Response {
        Response::new(200, body)
    }

    fn ch(name: &str) -> Channel {
        Channel::from_wire(name)
    }

    fn occupants_of(c: &ChannelOccupancy) -> Vec<(&str, Option<&str>)> {
        c.occupants
            .iter()
            .map(|o| (o.uuid.as_str(), o.state.as_ref().map(|s| s.get())))
            .collect()
    }

    #[test]
    fn here_now_single_channel_forms() {
        let plain = here_now(
            &r(r#"{"status": 200, "message": "OK", "service": "Presence", "uuids": ["test-here-now-asyncio-uuid1"], "occupancy": 1}"#),
            &[ch("c1")],
        )
        .unwrap();
        assert_eq!((plain.total_channels, plain.total_occupancy), (1, 1));
        assert_eq!(plain.channels[0].channel, ch("c1"));
        assert_eq!(
            occupants_of(&plain.channels[0]),
            [("test-here-now-asyncio-uuid1", None)]
        );

        let with_state = here_now(
            &r(r#"{"message":"OK","occupancy":3,"service":"Presence","status":200,"uuids":[{"state":{"channel1-state":["channel-1-random-value"]},"uuid":"Kim"},{"uuid":"Earline"},"Glen"]}"#),
            &[ch("c1")],
        )
        .unwrap();
        assert_eq!(
            occupants_of(&with_state.channels[0]),
            [
                (
                    "Kim",
                    Some(r#"{"channel1-state":["channel-1-random-value"]}"#)
                ),
                ("Earline", None),
                ("Glen", None)
            ]
        );
        let count_only = here_now(
            &r(r#"{"message":"OK","occupancy":3,"service":"Presence","status":200}"#),
            &[],
        )
        .unwrap();
        assert_eq!(count_only.channels[0].occupancy, 3);
        assert!(count_only.channels[0].occupants.is_empty());
        assert_eq!(count_only.channels[0].channel.as_str(), "");
    }

    #[test]
    fn here_now_multi_and_global() {
        let multi = here_now(
            &r(r#"{"status":200,"message":"OK","payload":{"channels":{"ch2":{"uuids":["u1"],"occupancy":1},"ch1":{"occupancy":2}},"total_channels":2,"total_occupancy":3},"service":"Presence"}"#),
            &[ch("ch1"), ch("ch2")],
        )
        .unwrap();
        assert_eq!((multi.total_channels, multi.total_occupancy), (2, 3));
        let names: Vec<&str> = multi.channels.iter().map(|c| c.channel.as_str()).collect();
        assert_eq!(names, ["ch2", "ch1"]);
        assert_eq!(occupants_of(&multi.channels[0]), [("u1", None)]);
        assert_eq!(multi.channels[1].occupancy, 2);
        let totals_missing = here_now(
            &r(r#"{"status":200,"payload":{"channels":{"a":{"uuids":["x","y"]}}}}"#),
            &[],
        )
        .unwrap();
        assert_eq!(
            (
                totals_missing.total_channels,
                totals_missing.total_occupancy
            ),
            (1, 2)
        );
    }

    #[test]
    fn here_now_wrong_shapes() {
        for body in [
            r#"{"status":200}"#,
            r#"{"status":200,"occupancy":"three"}"#,
            r#"{"status":200,"occupancy":1,"uuids":"u"}"#,
            r#"{"status":200,"occupancy":1,"uuids":[1]}"#,
            r#"{"status":200,"occupancy":1,"uuids":[{"state":{}}]}"#,
            r#"{"status":200,"payload":{"channels":[]}}"#,
            r#"{"status":200,"payload":{"total_channels":1}}"#,
            r#"{"status":200,"payload":{"channels":{"a":5}}}"#,
            r#"[{"occupancy":1}]"#,
        ] {
            assert!(
                matches!(here_now(&r(body), &[ch("a")]), Err(Error::Malformed { .. })),
                "{body}"
            );
        }
        let denied = here_now(
            &Response::new(
                403,
                r#"{"message":"Forbidden","payload":{"channels":["a"]},"error":true,"service":"Access Manager","status":403}"#,
            ),
            &[ch("a")],
        );
        assert_eq!(denied.unwrap_err().category(), Category::AccessDenied);
    }

    #[test]
    fn where_now_channels() {
        let list = where_now(&r(r#"{"status": 200, "message": "OK", "payload": {"channels": ["test-channel3", "test-channel1"]}, "service": "Presence"}"#)).unwrap();
        assert_eq!(list, [ch("test-channel3"), ch("test-channel1")]);
        assert_eq!(
            where_now(&r(r#"{"status": 200, "payload": {"channels": []}}"#)).unwrap(),
            []
        );
        for body in [
            r#"{"status":200}"#,
            r#"{"status":200,"payload":{"channels":[1]}}"#,
            r#"{"status":200,"payload":[]}"#,
        ] {
            assert!(
                matches!(where_now(&r(body)), Err(Error::Malformed { .. })),
                "{body}"
            );
        }
    }

    #[test]
    fn get_state_single_and_multi() {
        let single = get_state(
            &r(r#"{"status": 200, "uuid": "u", "service": "Presence", "message": "OK", "payload": {"count": 5, "name": "Alex"}, "channel": "test-state-asyncio-ch"}"#),
            &[],
        )
        .unwrap();
        assert_eq!(single.len(), 1);
        assert_eq!(single[0].0, ch("test-state-asyncio-ch"));
        assert_eq!(single[0].1.get(), r#"{"count": 5, "name": "Alex"}"#);
        let multi = get_state(
            &r(r#"{"status": 200, "message": "OK", "payload": {"channels": {"ch2": {"user-state": ["v"]}, "ch1": {"a": 1}}}, "uuid": "Serhii", "service": "Presence"}"#),
            &[ch("ch1"), ch("ch2")],
        )
        .unwrap();
        let got: Vec<(&str, &str)> = multi.iter().map(|(c, s)| (c.as_str(), s.get())).collect();
        assert_eq!(
            got,
            [("ch2", r#"{"user-state": ["v"]}"#), ("ch1", r#"{"a": 1}"#)]
        );
        let unnamed = get_state(&r(r#"{"status":200,"payload":{"k":1}}"#), &[ch("only")]).unwrap();
        assert_eq!(unnamed[0].0, ch("only"));
        assert!(matches!(
            get_state(&r(r#"{"status":200,"payload":{"k":1}}"#), &[]),
            Err(Error::Malformed { .. })
        ));
        assert!(matches!(
            get_state(&r(r#"{"status":200}"#), &[]),
            Err(Error::Malformed { .. })
        ));
        assert!(matches!(
            get_state(&r(r#"{"status":200,"payload":{},"channel":3}"#), &[]),
            Err(Error::Malformed { .. })
        ));
    }

    #[test]
    fn set_state_payload() {
        let state = set_state(&r(r#"{"status": 200, "message": "OK", "payload": {"count": 5, "name": "Alex"}, "service": "Presence"}"#)).unwrap();
        assert_eq!(state.get(), r#"{"count": 5, "name": "Alex"}"#);
        assert!(matches!(
            set_state(&r(r#"{"status": 200, "payload": null}"#)),
            Err(Error::Malformed { .. })
        ));
        assert!(matches!(
            set_state(&r(
                r#"{"status": 400, "error": true, "message": "Invalid state"}"#
            )),
            Err(Error::Api { status: 400, .. })
        ));
    }
}
