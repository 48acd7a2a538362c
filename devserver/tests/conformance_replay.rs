//! Replays the recorded real-service traffic in `shared/conformance/*.jsonl` against the dev
//! server and checks that every answer has the recorded answer's JSON shape.
//!
//! Each cassette (one recorded session) is replayed in order against a fresh server, so the
//! state a request needs (presence from a handshake, a group's channels, a stored state) was
//! built by the earlier requests of the same session. "Same shape" means: same JSON type at
//! every position; objects have the same keys, except maps keyed by data (here-now's and
//! get-state's `payload.channels`) whose entries are compared with the recorded entries' shape,
//! user state objects, which only need to be objects, and a here-now uuid's `state`, which may
//! be absent (one recording shows state set outside its cassette); lists whose recorded elements share
//! one shape are compared element-wise against it (so an empty list on either side passes);
//! lists of mixed shapes (publish's `[1,"Sent","tt"]`) are compared position by position.
//!
//! A second test reproduces every recorded subscribe envelope of a kind the server serves
//! (messages, signals, presence join/leave/state-change; direct, via group or wildcard) by
//! making the same publish or presence change, and compares the envelope the server delivers
//! with the recorded one (same keys and types; see `envelope_optional` for the tolerated keys).
//!
//! Skipped, and why:
//! * records whose recorded status is not 2xx: they were produced by keys, grants or edited
//!   fixtures (403s, `Invalid Key`, 503 retry fixtures) that a key-agnostic server without those
//!   grants cannot reproduce; the error shapes are covered by `tests/errors.rs`;
//! * receive subscribes (`tt` other than 0): their content depends on other clients' traffic
//!   during the recording and they would long-poll; handshakes are compared;
//! * records whose body is not JSON or not UTF-8 (`response_body_base64`, `…_not_json`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use pn_devserver::{DevServer, Options};
use serde_json::Value;

mod common;

/// Where a sub-tree's keys are data rather than structure.
#[derive(Clone, Copy, PartialEq)]
enum Rule {
    /// Compare structurally.
    Exact,
    /// An object keyed by data: compare each value with the first recorded value.
    Map,
    /// User data: only the JSON type (object) must agree.
    Free,
}

/// Keys that may be present or absent at `path`: a here-now uuid object has `state` only
/// when that uuid has state, which a recording may have set outside the cassette.
fn optional_keys(endpoint: &str, path: &str) -> &'static [&'static str] {
    if endpoint == "here_now" && path.ends_with("uuids[]") {
        &["state"]
    } else {
        &[]
    }
}

/// The rule for the object at `path` of an `endpoint` answer.
fn rule(endpoint: &str, path: &str) -> Rule {
    match (endpoint, path) {
        ("here_now", "payload.channels") | ("get_state", "payload.channels") => Rule::Map,
        ("get_state", "payload.channels.*")
        | ("get_state", "payload")
        | ("set_state", "payload") => Rule::Free,
        ("here_now", p) if p.ends_with("uuids[].state") => Rule::Free,
        _ => Rule::Exact,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Whether two values have the same shape (no error) or where they differ.
fn same_shape(endpoint: &str, recorded: &Value, ours: &Value, path: &str) -> Result<(), String> {
    if kind(recorded) != kind(ours) {
        return Err(format!(
            "{path}: recorded {} but got {}",
            kind(recorded),
            kind(ours)
        ));
    }
    let child = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match (recorded, ours) {
        (Value::Object(r), Value::Object(o)) => match rule(endpoint, path) {
            Rule::Free => Ok(()),
            Rule::Map => match r.values().next() {
                None => Ok(()),
                Some(first) => o
                    .values()
                    .try_for_each(|v| same_shape(endpoint, first, v, &child("*"))),
            },
            Rule::Exact => {
                let optional = optional_keys(endpoint, path);
                let required = |m: &serde_json::Map<String, Value>| -> Vec<String> {
                    m.keys()
                        .filter(|k| !optional.contains(&k.as_str()))
                        .cloned()
                        .collect()
                };
                if required(r) != required(o) {
                    return Err(format!(
                        "{path}: recorded keys {:?} but got {:?}",
                        required(r),
                        required(o)
                    ));
                }
                r.iter()
                    .filter_map(|(k, rv)| o.get(k).map(|ov| (k, rv, ov)))
                    .try_for_each(|(k, rv, ov)| same_shape(endpoint, rv, ov, &child(k)))
            }
        },
        (Value::Array(r), Value::Array(o)) => {
            let homogeneous = r
                .windows(2)
                .all(|w| same_shape(endpoint, &w[0], &w[1], "").is_ok());
            let item = format!("{path}[]");
            if homogeneous {
                match r.first() {
                    None => Ok(()),
                    Some(first) => o
                        .iter()
                        .try_for_each(|v| same_shape(endpoint, first, v, &item)),
                }
            } else if r.len() != o.len() {
                Err(format!(
                    "{path}: recorded tuple of {} but got {}",
                    r.len(),
                    o.len()
                ))
            } else {
                r.iter()
                    .zip(o)
                    .try_for_each(|(rv, ov)| same_shape(endpoint, rv, ov, &item))
            }
        }
        _ => Ok(()),
    }
}

/// Percent-encodes bytes that may not appear raw in a request target (`{`, `}`, space, …).
fn sanitize(target: &str) -> String {
    target
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:@/?".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The recorded query: from `response_url` when present (it keeps what the recorder hid).
fn query_of(record: &Value) -> String {
    let from_url = record["response_url"]
        .as_str()
        .and_then(|u| u.split_once('?'))
        .map(|(_, q)| q.to_owned());
    from_url.unwrap_or_else(|| record["query_raw"].as_str().unwrap_or("").to_owned())
}

fn replayable(record: &Value) -> Result<(), &'static str> {
    let status = record["status"].as_u64().unwrap_or(0);
    if !(200..300).contains(&status) {
        return Err("recorded status is not 2xx");
    }
    let notes = record["notes"].as_array().cloned().unwrap_or_default();
    if notes
        .iter()
        .any(|n| n == "response_body_base64" || n == "response_body_not_json")
    {
        return Err("recorded body is not JSON text");
    }
    if serde_json::from_str::<Value>(record["response_body"].as_str().unwrap_or("")).is_err() {
        return Err("recorded body is not JSON text");
    }
    if record["endpoint"] == "subscribe" {
        let query = common::parse_pairs(&query_of(record));
        let tt = query
            .iter()
            .find(|(k, _)| k == "tt")
            .map(|(_, v)| v.as_str());
        if !matches!(tt, None | Some("0")) {
            return Err("receive subscribe depends on other clients' traffic");
        }
    }
    Ok(())
}

#[test]
fn recorded_requests_get_answers_of_the_recorded_shape() {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/conformance"
    ));
    let mut cassettes: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            files += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let record: Value = serde_json::from_str(line).unwrap();
                let key = (
                    path.display().to_string(),
                    record["cassette"].as_str().unwrap_or("").to_owned(),
                );
                cassettes.entry(key).or_default().push(record);
            }
        }
    }
    assert!(
        files >= 2,
        "expected the recorded files in {}",
        dir.display()
    );
    let mut compared: BTreeMap<String, usize> = BTreeMap::new();
    let mut skipped: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for records in cassettes.values() {
        let server = DevServer::start("127.0.0.1:0".parse().unwrap(), Options::default()).unwrap();
        for record in records {
            if let Err(why) = replayable(record) {
                *skipped.entry(why).or_default() += 1;
                continue;
            }
            let endpoint = record["endpoint"].as_str().unwrap_or("");
            let query = query_of(record);
            let path = record["path"].as_str().unwrap_or("");
            let target = sanitize(&if query.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{query}")
            });
            let method = record["method"].as_str().unwrap_or("GET");
            let body = record["request_body"].as_str();
            let reply = common::request(server.addr(), method, &target, body);
            let source = record["source"].as_str().unwrap_or("?");
            if !(200..300).contains(&reply.status) {
                failures.push(format!(
                    "{source}: status {} ({})",
                    reply.status, reply.body
                ));
                continue;
            }
            let recorded: Value =
                serde_json::from_str(record["response_body"].as_str().unwrap_or("")).unwrap();
            let ours: Value = match serde_json::from_str(&reply.body) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!(
                        "{source}: answer is not JSON ({e}): {}",
                        reply.body
                    ));
                    continue;
                }
            };
            match same_shape(endpoint, &recorded, &ours, "") {
                Ok(()) => *compared.entry(endpoint.to_owned()).or_default() += 1,
                Err(e) => failures.push(format!(
                    "{source}: {e}\n  recorded {recorded}\n  got      {ours}"
                )),
            }
        }
    }
    let total: usize = compared.values().sum();
    println!("compared {total} records by endpoint: {compared:?}");
    println!("skipped: {skipped:?}");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total >= 1000, "only {total} records compared");
    for endpoint in [
        "publish",
        "signal",
        "fire",
        "time",
        "here_now",
        "where_now",
        "get_state",
        "set_state",
        "leave",
        "heartbeat",
        "subscribe",
        "cg_add_channels",
        "cg_remove_channels",
        "cg_list_channels",
        "cg_delete_group",
        "cg_list_groups",
    ] {
        assert!(
            compared.get(endpoint).is_some_and(|n| *n > 0),
            "no {endpoint} record compared"
        );
    }
}

#[test]
fn shape_comparison_catches_differences() {
    let shape = |r: &str, o: &str| {
        same_shape(
            "here_now",
            &serde_json::from_str(r).unwrap(),
            &serde_json::from_str(o).unwrap(),
            "",
        )
    };
    assert!(shape(r#"[1,"Sent","1"]"#, r#"[1,"Sent","2"]"#).is_ok());
    assert!(shape(r#"[1,"Sent","1"]"#, r#"[1,"Sent",2]"#).is_err());
    assert!(shape(r#"{"a":1,"b":[]}"#, r#"{"a":2,"b":["x"]}"#).is_ok());
    assert!(shape(r#"{"a":1}"#, r#"{"a":1,"c":2}"#).is_err());
    assert!(shape(r#"{"uuids":["u"]}"#, r#"{"uuids":[{"uuid":"u"}]}"#).is_err());
    assert!(
        shape(
            r#"{"payload":{"channels":{"x":{"occupancy":1}}}}"#,
            r#"{"payload":{"channels":{"y":{"occupancy":3}}}}"#
        )
        .is_ok()
    );
    assert!(
        shape(
            r#"{"payload":{"channels":{"x":{"occupancy":1}}}}"#,
            r#"{"payload":{"channels":{"y":{"occ":3}}}}"#
        )
        .is_err()
    );
}

/// Keys an envelope may have or lack: `o` (replication origin), `u` on presence events (older
/// recordings lack the `pn_*` metadata), `b` when the recording has it equal to `c`, `precise_timestamp` and `data` in presence payloads
/// (newer fields, and state only when set).
fn envelope_optional(path: &str) -> &'static [&'static str] {
    match path {
        "" => &["o", "u"],
        "d" => &["precise_timestamp", "data"],
        _ => &[],
    }
}

/// Compares an envelope's shape; like `same_shape` with `envelope_optional` keys and `d`
/// compared only by type for messages (the payload is the publisher's JSON, sent verbatim).
fn same_envelope(recorded: &Value, ours: &Value, path: &str) -> Result<(), String> {
    match (recorded, ours) {
        (Value::Object(r), Value::Object(o)) => {
            let mut optional = envelope_optional(path).to_vec();
            // older recordings set `b` equal to `c` for direct subscriptions; newer omit it
            if path.is_empty() && r.get("b").is_some() && r.get("b") == r.get("c") {
                optional.push("b");
            }
            let keys = |m: &serde_json::Map<String, Value>| -> Vec<String> {
                let mut k: Vec<String> = m
                    .keys()
                    .filter(|k| !optional.contains(&k.as_str()))
                    .cloned()
                    .collect();
                k.sort();
                k
            };
            if keys(r) != keys(o) {
                return Err(format!(
                    "{path}: recorded keys {:?} but got {:?}",
                    keys(r),
                    keys(o)
                ));
            }
            for (k, rv) in r {
                let Some(ov) = o.get(k) else { continue };
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let presence = r
                    .get("c")
                    .and_then(Value::as_str)
                    .is_some_and(|c| c.ends_with("-pnpres"));
                if child == "d" && !presence || child == "u" {
                    if kind(rv) != kind(ov) {
                        return Err(format!(
                            "{child}: recorded {} but got {}",
                            kind(rv),
                            kind(ov)
                        ));
                    }
                    continue;
                }
                same_envelope(rv, ov, &child)?;
            }
            Ok(())
        }
        _ => same_shape("envelope", recorded, ours, path),
    }
}

/// Reproduces one recorded envelope on `server` and returns the server's envelope for it.
fn reproduce(server: &DevServer, envelope: &Value) -> Option<Value> {
    use common::{enc, get};
    let text = |k: &str| envelope.get(k).and_then(Value::as_str).map(str::to_owned);
    let channel = text("c")?;
    let matched = text("b").filter(|b| *b != channel);
    let presence = channel.strip_suffix("-pnpres").map(str::to_owned);
    let (subscribe_channels, group_query) = match (&matched, &presence) {
        (Some(b), _) if b.ends_with(".*") || b.ends_with(".*-pnpres") => (enc(b), String::new()),
        (Some(group), _) => {
            let member = presence.clone().unwrap_or_else(|| channel.clone());
            let base = group.strip_suffix("-pnpres").unwrap_or(group);
            get(
                server,
                &format!(
                    "/v1/channel-registration/sub-key/demo/channel-group/{}?add={}",
                    enc(base),
                    enc(&member)
                ),
            );
            (",".to_owned(), format!("&channel-group={}", enc(group)))
        }
        (None, _) => (enc(&channel), String::new()),
    };
    let handshake = |query: &str| {
        get(
            server,
            &format!("/v2/subscribe/demo/{subscribe_channels}/0?tt=0{group_query}{query}"),
        )
        .json()["t"]["t"]
            .as_str()
            .map(str::to_owned)
    };
    let tt = handshake("&uuid=conformance-watcher")?;
    match &presence {
        None => {
            let data = serde_json::to_string(envelope.get("d")?).ok()?;
            let route = if envelope.get("e") == Some(&Value::from(1)) {
                "signal"
            } else {
                "publish"
            };
            let mut query = String::new();
            if let Some(i) = text("i") {
                query.push_str(&format!("&uuid={}", enc(&i)));
            }
            if let Some(s) = envelope.get("s").and_then(Value::as_u64) {
                query.push_str(&format!("&seqn={s}"));
            }
            if let Some(u) = envelope.get("u") {
                query.push_str(&format!("&meta={}", enc(&u.to_string())));
            }
            if let Some(cmt) = text("cmt") {
                query.push_str(&format!("&custom_message_type={}", enc(&cmt)));
            }
            let reply = get(
                server,
                &format!(
                    "/{route}/demo/demo/0/{}/0/{}?{query}",
                    enc(&channel),
                    enc(&data)
                ),
            );
            if reply.status != 200 {
                return None;
            }
        }
        Some(base) => {
            let d = envelope.get("d")?;
            let uuid = enc(d.get("uuid")?.as_str()?);
            let action = d.get("action")?.as_str()?;
            let join = format!("/v2/subscribe/demo/{}/0?tt=0&uuid={uuid}", enc(base));
            match action {
                "join" => drop(get(server, &join)),
                "leave" => {
                    get(server, &join);
                    get(
                        server,
                        &format!(
                            "/v2/presence/sub-key/demo/channel/{}/leave?uuid={uuid}",
                            enc(base)
                        ),
                    );
                }
                "state-change" => {
                    get(server, &join);
                    let state = enc(&d.get("data")?.to_string());
                    get(
                        server,
                        &format!(
                            "/v2/presence/sub-key/demo/channel/{}/uuid/{uuid}/data?state={state}",
                            enc(base)
                        ),
                    );
                }
                _ => return None,
            }
        }
    }
    let body = get(
        server,
        &format!("/v2/subscribe/demo/{subscribe_channels}/0?tt={tt}{group_query}"),
    )
    .json();
    let wanted = presence
        .as_ref()
        .and(envelope.get("d").and_then(|d| d.get("action")));
    body["m"]
        .as_array()?
        .iter()
        .rev()
        .find(|m| wanted.is_none_or(|a| m["d"].get("action") == Some(a)))
        .cloned()
}

#[test]
fn recorded_envelopes_are_reproduced_with_the_same_shape() {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/conformance"
    ));
    let mut compared: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        for line in std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            let record: Value = serde_json::from_str(line).unwrap();
            if record["endpoint"] != "subscribe" || record["status"] != 200 {
                continue;
            }
            let Ok(body) =
                serde_json::from_str::<Value>(record["response_body"].as_str().unwrap_or(""))
            else {
                continue;
            };
            for envelope in body["m"].as_array().into_iter().flatten() {
                // objects (2), message actions (3) and files (4) are not served by the dev server;
                // timeouts need a wait of their own and are covered by tests/presence.rs
                let action = envelope["d"].get("action").and_then(Value::as_str);
                if envelope.get("e").is_some_and(|e| e != 1) || action == Some("timeout") {
                    continue;
                }
                let options = Options {
                    hold_time: std::time::Duration::from_millis(500),
                    ..Options::default()
                };
                let server = DevServer::start("127.0.0.1:0".parse().unwrap(), options).unwrap();
                let source = record["source"].as_str().unwrap_or("?");
                let label = match (action, envelope.get("e")) {
                    (Some(a), _) => format!("presence {a}"),
                    (None, Some(_)) => "signal".to_owned(),
                    (None, None) => "message".to_owned(),
                };
                match reproduce(&server, envelope) {
                    None => failures.push(format!("{source}: could not reproduce {envelope}")),
                    Some(ours) => match same_envelope(envelope, &ours, "") {
                        Ok(()) => *compared.entry(label).or_default() += 1,
                        Err(e) => failures.push(format!(
                            "{source}: {e}\n  recorded {envelope}\n  got      {ours}"
                        )),
                    },
                }
            }
        }
    }
    println!("envelopes compared: {compared:?}");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared.values().sum::<usize>() >= 100, "{compared:?}");
}
