//! `pn replay` over the real conformance data: one valid JSON line per record, in order, with
//! the outcomes the README and protocol.md §3.4 call for, and byte-exact golden lines.

use std::collections::HashMap;
use std::io::BufReader;
use std::path::PathBuf;

use pn_core::replay::{ReplaySummary, event_json, replay, replay_line};
use serde_json::Value;

fn conformance_files() -> Vec<PathBuf> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("conformance directory beside the repository")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "expected both conformance files");
    files
}

/// Replays one file; returns the input records, the output lines and the summary.
fn replay_file(path: &PathBuf) -> (Vec<Value>, Vec<Value>, Vec<String>, ReplaySummary) {
    let text = std::fs::read_to_string(path).expect("readable file");
    let records: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("record is JSON"))
        .collect();
    let mut out = Vec::new();
    let summary = replay(BufReader::new(text.as_bytes()), &mut out).expect("in-memory replay");
    let out = String::from_utf8(out).expect("output is UTF-8");
    let lines: Vec<String> = out.lines().map(str::to_owned).collect();
    let parsed = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("invalid JSON line {l}: {e}")))
        .collect();
    (records, parsed, lines, summary)
}

/// All output lines of all files, by source.
fn all_outputs() -> HashMap<String, (Value, String)> {
    let mut by_source = HashMap::new();
    for file in conformance_files() {
        let (_, parsed, lines, _) = replay_file(&file);
        for (value, line) in parsed.into_iter().zip(lines) {
            let source = value["source"].as_str().expect("source").to_owned();
            by_source.insert(source, (value, line));
        }
    }
    by_source
}

fn find<'a>(outputs: &'a HashMap<String, (Value, String)>, suffix: &str) -> &'a Value {
    let mut hits = outputs.iter().filter(|(s, _)| s.ends_with(suffix));
    let (_, (value, _)) = hits.next().unwrap_or_else(|| panic!("no record {suffix}"));
    assert!(hits.next().is_none(), "several records end with {suffix}");
    value
}

#[test]
fn one_valid_line_per_record_in_order() {
    let mut total = 0;
    for file in conformance_files() {
        let (records, parsed, _, summary) = replay_file(&file);
        assert_eq!(parsed.len(), records.len(), "{}", file.display());
        assert_eq!(summary.records, records.len());
        assert_eq!(summary.ok + summary.errors, records.len());
        assert_eq!(summary.invalid, 0);
        for (record, out) in records.iter().zip(&parsed) {
            assert_eq!(out["source"], record["source"]);
            assert_eq!(out["endpoint"], record["endpoint"]);
            let status = record["status"].as_u64().expect("status");
            let outcome = out["outcome"].as_str().expect("outcome");
            if (200..300).contains(&status) {
                let errored_2xx =
                    out["category"] == "MalformedResponse" || out["category"] == "BadRequest";
                assert!(outcome == "ok" || errored_2xx, "{out}");
            } else {
                assert_eq!(outcome, "error", "{out}");
                assert_eq!(out["error"]["status"], status, "{out}");
                let category = match status {
                    400 => "BadRequest",
                    403 => "AccessDenied",
                    _ => "Unknown",
                };
                assert_eq!(out["category"], category, "{out}");
            }
            if outcome == "ok" {
                match record["endpoint"].as_str().expect("endpoint") {
                    "subscribe" => {
                        assert!(out["cursor"]["timetoken"].is_string(), "{out}");
                        assert!(out["events"].is_array(), "{out}");
                    }
                    "publish" | "signal" | "fire" | "time" => {
                        let tt = out["timetoken"].as_str().expect("timetoken string");
                        assert!(tt.len() == 17 && tt.bytes().all(|b| b.is_ascii_digit()));
                    }
                    _ => assert!(out.get("result").is_some(), "{out}"),
                }
            }
        }
        total += records.len();
    }
    assert!(total >= 1861, "{total} records");
}

#[test]
fn subscribe_events_carry_the_envelope() {
    for file in conformance_files() {
        let (records, parsed, _, _) = replay_file(&file);
        for (record, out) in records.iter().zip(&parsed) {
            if record["endpoint"] != "subscribe" || out["outcome"] != "ok" {
                continue;
            }
            let body: Value = serde_json::from_str(record["response_body"].as_str().unwrap())
                .expect("ok subscribe body is JSON");
            let envelopes = body["m"].as_array().expect("m");
            let events = out["events"].as_array().expect("events");
            assert_eq!(envelopes.len(), events.len());
            assert_eq!(out["cursor"]["timetoken"], body["t"]["t"]);
            assert_eq!(out["cursor"]["region"], body["t"]["r"]);
            for (env, ev) in envelopes.iter().zip(events) {
                assert_eq!(ev["payload"], env["d"], "{ev}");
                assert_eq!(ev["timetoken"], env["p"]["t"], "{ev}");
                assert_eq!(
                    ev["publisher"],
                    env.get("i").cloned().unwrap_or(Value::Null)
                );
                assert_eq!(ev.get("user_metadata"), env.get("u"));
                assert_eq!(ev.get("custom_message_type"), env.get("cmt"));
                let presence = env["c"].as_str().unwrap().ends_with("-pnpres");
                assert_eq!(ev["type"] == "presence", presence, "{ev}");
                if presence {
                    let block = ev["presence"].as_object().expect("presence block");
                    for key in [
                        "action",
                        "uuid",
                        "occupancy",
                        "timestamp",
                        "state",
                        "join",
                        "leave",
                        "timeout",
                        "here_now_refresh",
                    ] {
                        assert!(block.contains_key(key), "{key} missing in {ev}");
                    }
                    assert_eq!(block["action"], env["d"]["action"]);
                    assert_eq!(block["uuid"], env["d"]["uuid"]);
                    assert_eq!(
                        block["state"],
                        env["d"].get("data").cloned().unwrap_or(Value::Null)
                    );
                } else {
                    assert!(ev.get("presence").is_none());
                }
            }
        }
    }
}

#[test]
fn section_3_4_examples_and_errors() {
    let outputs = all_outputs();
    let handshake = find(&outputs, "asyncio/subscription/join_leave.yaml#0");
    assert_eq!(
        handshake["cursor"],
        serde_json::json!({"timetoken": "14818963579052943", "region": 12})
    );
    assert_eq!(handshake["events"], serde_json::json!([]));

    let direct = &find(&outputs, "asyncio/subscription/sub_pub_unsub.yaml#2")["events"][0];
    assert_eq!(direct["type"], "message");
    assert_eq!(direct["subscription"], Value::Null);
    assert_eq!(direct["payload"], "hey");

    let grouped = &find(
        &outputs,
        "native_threads/subscribe/subscribe_cg_publish_unsubscribe.json#3",
    )["events"][0];
    assert_eq!(grouped["channel"], "test-subscribe-unsubscribe-channel");
    assert_eq!(grouped["subscription"], "test-subscribe-unsubscribe-group");

    let joined = &find(&outputs, "asyncio/subscription/cg_join_leave.yaml#2")["events"][0];
    assert_eq!(joined["type"], "presence");
    assert_eq!(
        joined["channel"],
        "test-subscribe-asyncio-join-leave-cg-channel"
    );
    assert_eq!(
        joined["subscription"],
        "test-subscribe-asyncio-join-leave-cg-group"
    );
    assert_eq!(joined["presence"]["action"], "join");

    let before = find(&outputs, "tornado/heartbeat/timeout.yaml#7");
    let after = find(&outputs, "tornado/heartbeat/timeout.yaml#8");
    assert_eq!(after["cursor"]["timetoken"], "14720341368363471");
    assert_eq!(after["cursor"]["region"], 3);
    assert!(
        after["cursor"]["timetoken"].as_str() < before["cursor"]["timetoken"].as_str(),
        "the next timetoken goes backwards"
    );
    assert_eq!(
        before["events"], after["events"],
        "the event is delivered twice"
    );

    let garbled = find(&outputs, "WhenDataWithNulBytePublished.json#2");
    assert_eq!(garbled["outcome"], "error");
    assert_eq!(garbled["category"], "MalformedResponse");
    assert_eq!(garbled["error"]["status"], 200);

    let denied = find(
        &outputs,
        "asyncio/subscription/access_denied_unsubscribe_operation.yaml#0",
    );
    assert_eq!(denied["category"], "AccessDenied");
    assert_eq!(denied["error"]["message"], "Forbidden");

    let retried = find(
        &outputs,
        "ItShouldRetryRequestTwiceWithExponentialPolicy.json#0",
    );
    assert_eq!(
        retried["error"]["status"], 503,
        "HTTP status wins over the body's 403"
    );
    assert_eq!(retried["category"], "Unknown");

    let too_long = outputs
        .values()
        .find(|(v, _)| v["error"]["status"] == 414)
        .expect("a 414 record");
    assert_eq!(too_long.0["error"]["message"], "Request URI Too Long");
    assert_eq!(too_long.0["category"], "Unknown");
}

#[test]
fn golden_lines() {
    let outputs = all_outputs();
    let golden = include_str!("data/replay_golden.jsonl");
    let mut checked = 0;
    for expected in golden.lines().filter(|l| !l.is_empty()) {
        let value: Value = serde_json::from_str(expected).expect("golden line is JSON");
        let source = value["source"].as_str().expect("source");
        let (_, actual) = outputs
            .get(source)
            .unwrap_or_else(|| panic!("no output for {source}"));
        assert_eq!(actual, expected);
        checked += 1;
    }
    assert!(checked >= 15);
}

#[test]
fn payload_bytes_are_copied_not_reserialised() {
    let record = serde_json::json!({
        "source": "test#0",
        "endpoint": "subscribe",
        "status": 200,
        "response_body": "{\"t\":{\"t\":\"17\",\"r\":1},\"m\":[{\"c\":\"ch\",\"p\":{\"t\":\"16\",\"r\":1},\"i\":\"u\",\"d\":{ \"n\" : 1.50,\n \"s\":\"\\u00e9\" },\"u\":{\"k\":1e2}}]}",
    });
    let line = replay_line(&record.to_string());
    assert!(!line.contains('\n'), "{line}");
    assert!(
        line.contains(r#""payload":{ "n" : 1.50,  "s":"\u00e9" }"#),
        "{line}"
    );
    assert!(line.contains(r#""user_metadata":{"k":1e2}"#), "{line}");
    let decoded = pn_core::decode::subscribe(&pn_core::Response::new(
        200,
        record["response_body"].as_str().unwrap(),
    ))
    .unwrap();
    let event: Value = serde_json::from_str(&event_json(&decoded.messages[0])).unwrap();
    let from_line: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event, from_line["events"][0]);
}

#[test]
fn lines_that_are_not_records_never_stop_the_run() {
    let input: &[u8] = b"not json\n\n[1,2]\n{\"source\":\"a\",\"endpoint\":\"publish\"}\n\
{\"source\":\"b\",\"endpoint\":\"teleport\",\"status\":200,\"response_body\":\"{}\"}\n\
{\"source\":\"c\",\"endpoint\":\"subscribe\",\"status\":200,\"response_body\":\"!!\",\"notes\":[\"response_body_base64\"]}\n\
\xff\xfe\n\
{\"source\":\"d\",\"endpoint\":\"time\",\"status\":200,\"response_body\":\"[15800730201890734]\"}\n\
{\"source\":\"e\",\"endpoint\":\"time\",\"status\":200,\"response_body\":\"<html>\"}\n\
{\"source\":\"f\",\"endpoint\":\"publish\",\"status\":429,\"response_body\":\"\",\"response_headers\":{\"Retry-After\":\"3\"}}";
    let mut out = Vec::new();
    let summary = replay(input, &mut out).unwrap();
    assert_eq!(
        summary,
        ReplaySummary {
            records: 9,
            ok: 1,
            errors: 2,
            invalid: 6
        }
    );
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 9);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(
            line["outcome"],
            if i == 6 { "ok" } else { "error" },
            "{line}"
        );
    }
    assert_eq!(lines[0]["category"], "InvalidRecord");
    assert_eq!(lines[0]["source"], Value::Null);
    assert_eq!(lines[2]["source"], "a");
    assert_eq!(lines[3]["source"], "b");
    assert!(
        lines[3]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("teleport")
    );
    assert_eq!(lines[4]["category"], "InvalidRecord");
    assert_eq!(lines[6]["timetoken"], "15800730201890734");
    assert_eq!(lines[7]["category"], "MalformedResponse");
    assert_eq!(lines[8]["error"]["status"], 429);
    assert_eq!(lines[8]["category"], "Unknown");
    assert_eq!(lines[8]["error"]["message"], "HTTP 429 with an empty body");
}
