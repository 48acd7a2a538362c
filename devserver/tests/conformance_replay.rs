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
