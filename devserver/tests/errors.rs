//! Error answers: 400, 403 (access control, signature), 404, 413, 414.

mod common;

use std::collections::HashMap;

use base64::Engine;
use common::*;
use hmac::{Hmac, Mac};
use pn_devserver::Options;
use serde_json::json;
use sha2::Sha256;

fn with_grants(grants: &[(&str, &[&str])]) -> Options {
    let grants: HashMap<String, Vec<String>> = grants
        .iter()
        .map(|(token, names)| {
            (
                token.to_string(),
                names.iter().map(|n| n.to_string()).collect(),
            )
        })
        .collect();
    Options {
        grants: Some(grants),
        ..Options::default()
    }
}

#[test]
fn access_control_denies_ungranted_channels_with_the_service_body() {
    let server = start(with_grants(&[("tok", &["open", "team.*"])]));
    let denied = get(&server, "/publish/demo/demo/0/secret/0/1?auth=tok");
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.body,
        r#"{"message":"Forbidden","payload":{"channels":["secret"]},"error":true,"service":"Access Manager","status":403}"#
    );
    assert_eq!(
        get(&server, "/publish/demo/demo/0/open/0/1?auth=tok").status,
        200
    );
    assert_eq!(
        get(&server, "/publish/demo/demo/0/team.red/0/1?auth=tok").status,
        200
    );
    assert_eq!(
        get(&server, "/publish/demo/demo/0/open/0/1").status,
        403,
        "no auth, no access"
    );
    let sub = get(
        &server,
        "/v2/subscribe/demo/open,open-pnpres,closed/0?tt=0&auth=tok&channel-group=cg",
    );
    assert_eq!(sub.status, 403);
    assert_eq!(
        sub.json()["payload"],
        json!({"channels": ["closed"], "channel-groups": ["cg"]})
    );
    let here = get(&server, "/v2/presence/sub-key/demo/channel/closed?auth=tok");
    assert_eq!(here.status, 403);
    assert_eq!(get(&server, "/time/0").status, 200);
}

fn sign(secret: &str, method: &str, pub_key: &str, path: &str, query: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{method}\n{pub_key}\n{path}\n{query}\n{body}").as_bytes());
    format!(
        "v2.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

#[test]
fn signatures_are_verified_when_a_secret_key_is_set() {
    let server = start(Options {
        secret_key: Some("sec".into()),
        publish_key: Some("pub".into()),
        ..Options::default()
    });
    let path = "/v2/presence/sub-key/demo/channel/c%20d/heartbeat";
    // canonical query: sorted, space as %20, `~` and `*` encoded
    let canonical = "heartbeat=60&timestamp=1700000000&uuid=a%20b%7E%2A";
    let signature = sign("sec", "GET", "pub", path, canonical, "");
    let sent = format!("{path}?uuid=a+b~*&timestamp=1700000000&heartbeat=60&signature={signature}");
    let ok = get(&server, &sent);
    assert_eq!(ok.status, 200, "{}", ok.body);
    let bad = get(
        &server,
        &format!("{path}?uuid=a+b~*&timestamp=1700000000&heartbeat=61&signature={signature}"),
    );
    assert_eq!(bad.status, 403);
    assert_eq!(
        bad.body,
        r#"{"message":"Invalid Signature","error":true,"service":"Access Manager","status":403}"#
    );
    assert_eq!(
        get(&server, &format!("{path}?uuid=x")).status,
        403,
        "missing signature"
    );
    let post_path = "/publish/pub/demo/0/ch/0";
    let post_sig = sign("sec", "POST", "pub", post_path, "uuid=p", "\"hi\"");
    let post = request(
        server.addr(),
        "POST",
        &format!("{post_path}?uuid=p&signature={post_sig}"),
        Some("\"hi\""),
    );
    assert_eq!(post.status, 200, "{}", post.body);
    assert_eq!(get(&server, "/time/0").status, 200, "time is never signed");
}

#[test]
fn unknown_paths_are_404_and_long_urls_414_and_big_bodies_413() {
    let server = start(Options {
        max_url_length: 1000,
        max_body_size: 100,
        ..Options::default()
    });
    let missing = get(&server, "/v3/history/sub-key/demo/channel/c");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["status"], 404);
    let long = get(
        &server,
        &format!("/publish/demo/demo/0/c/0/%22{}%22", "x".repeat(1000)),
    );
    assert_eq!(long.status, 414);
    assert_eq!(
        long.body,
        r#"{"status":414,"service":"Balancer","error":true,"message":"Request URI Too Long"}"#
    );
    let big = request(
        server.addr(),
        "POST",
        "/publish/demo/demo/0/c/0",
        Some(&format!("\"{}\"", "x".repeat(200))),
    );
    assert_eq!(big.status, 413);
}

#[test]
fn malformed_arguments_are_400_never_a_crash() {
    let server = start(Options::default());
    for target in [
        "/publish/demo/demo/0/%FF/0/1",
        "/v2/subscribe/demo/ch/0?tt=0&state=%7B",
        "/v2/subscribe/demo/ch/0?tt=0&heartbeat=abc",
        "/v2/presence/sub-key/demo/channel/c/heartbeat?heartbeat=-1&uuid=u",
        "/v2/presence/sub-key/demo/channel/c/uuid/u/data",
        "/v1/channel-registration/sub-key/demo/channel-group/g?add=a&remove=b",
        "/publish/demo/demo/0/ch/0/1?meta=%7Bx",
    ] {
        let reply = get(&server, target);
        assert_eq!(reply.status, 400, "{target}: {}", reply.body);
    }
    assert_eq!(get(&server, "/time/0").status, 200, "still serving");
}
