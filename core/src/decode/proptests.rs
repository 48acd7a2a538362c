//! No decoder panics, whatever the bytes or JSON values.

use proptest::prelude::*;
use serde_json::Value;

use crate::channel::Channel;
use crate::request::Response;

/// Runs every decoder on `response`, ignoring results.
fn decode_all(response: &Response) {
    let requested = [Channel::from_wire("a"), Channel::from_wire("b")];
    let _ = super::subscribe(response);
    let _ = super::publish(response);
    let _ = super::time(response);
    let _ = super::here_now(response, &requested);
    let _ = super::here_now(response, &requested[..1]);
    let _ = super::here_now(response, &[]);
    let _ = super::where_now(response);
    let _ = super::get_state(response, &requested);
    let _ = super::get_state(response, &requested[..1]);
    let _ = super::set_state(response);
    let _ = super::ack(response);
    let _ = super::group_channels(response);
    let _ = super::group_names(response);
}

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("t".to_owned()),
        Just("r".to_owned()),
        Just("m".to_owned()),
        Just("c".to_owned()),
        Just("b".to_owned()),
        Just("d".to_owned()),
        Just("e".to_owned()),
        Just("p".to_owned()),
        Just("payload".to_owned()),
        Just("channels".to_owned()),
        Just("uuids".to_owned()),
        Just("occupancy".to_owned()),
        Just("status".to_owned()),
        Just("error".to_owned()),
        Just("message".to_owned()),
        Just("action".to_owned()),
        "[a-z-]{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[0-9]{0,20}".prop_map(Value::String),
        ".{0,12}".prop_map(Value::String),
        Just(Value::String("x-pnpres".into())),
    ];
    leaf.prop_recursive(6, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        Just(200u16),
        Just(204),
        Just(400),
        Just(403),
        Just(503),
        0u16..1000
    ]
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(status in status(), body in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_all(&Response::new(status, body));
    }

    #[test]
    fn arbitrary_json_never_panics(status in status(), value in json_value()) {
        decode_all(&Response::new(status, value.to_string()));
    }

    #[test]
    fn envelope_like_json_never_panics(
        status in status(),
        t in json_value(),
        m in prop::collection::vec(json_value(), 0..4),
        d in json_value(),
        c in prop_oneof![Just(Value::from("ch")), Just(Value::from("ch-pnpres")), json_value()],
    ) {
        let mut envelopes: Vec<Value> = m;
        envelopes.push(serde_json::json!({"c": c, "p": {"t": "1", "r": 1}, "d": d}));
        let body = serde_json::json!({"t": t, "m": envelopes});
        decode_all(&Response::new(status, body.to_string()));
        let good = serde_json::json!({"t": {"t": "1", "r": 2}, "m": envelopes});
        decode_all(&Response::new(status, good.to_string()));
    }
}

#[test]
fn deep_nesting_never_crashes() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    decode_all(&Response::new(200, deep.clone()));
    // A deep payload is valid JSON: kept raw (serde_json skips it without recursing), while a
    // presence payload that deep is parsed only up to the recursion limit.
    for (channel, presence) in [("a", false), ("a-pnpres", true)] {
        let envelope = format!(
            r#"{{"t":{{"t":"1","r":1}},"m":[{{"c":"{channel}","p":{{"t":"1"}},"d":{deep}}}]}}"#
        );
        let decoded = super::subscribe(&Response::new(200, envelope)).unwrap();
        assert_eq!(decoded.messages[0].payload.get(), deep);
        assert_eq!(decoded.messages[0].presence().is_some(), presence);
    }
}
