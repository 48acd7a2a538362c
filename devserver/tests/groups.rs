//! Channel groups: add, list, remove, delete, list groups.

mod common;

use common::*;
use pn_devserver::Options;
use serde_json::json;

const OK: &str =
    r#"{"status": 200, "message": "OK", "service": "channel-registry", "error": false}"#;

#[test]
fn add_list_remove_delete_and_list_groups() {
    let server = start(Options::default());
    let base = "/v1/channel-registration/sub-key/demo/channel-group";
    assert_eq!(get(&server, &format!("{base}/g1?add=b,a%20b,c")).body, OK);
    get(&server, &format!("{base}/g2?add=x"));
    let list = get(&server, &format!("{base}/g1"));
    assert_eq!(
        list.body,
        r#"{"status": 200, "payload": {"channels": ["a b", "b", "c"], "group": "g1"}, "service": "channel-registry", "error": false}"#
    );
    assert_eq!(get(&server, &format!("{base}/g1?remove=b,c")).body, OK);
    assert_eq!(
        get(&server, &format!("{base}/g1")).json()["payload"]["channels"],
        json!(["a b"])
    );
    let groups = get(&server, base).json();
    assert_eq!(
        groups["payload"],
        json!({"namespace": "", "groups": ["g1", "g2"]})
    );
    assert_eq!(get(&server, &format!("{base}/g1/remove")).body, OK);
    assert_eq!(
        get(&server, base).json()["payload"]["groups"],
        json!(["g2"])
    );
    let missing = get(&server, &format!("{base}/nope")).json();
    assert_eq!(missing["payload"]["channels"], json!([]));
}

#[test]
fn groups_are_per_subscribe_key_and_bounded() {
    let server = start(Options {
        max_channels_per_group: 2,
        ..Options::default()
    });
    get(
        &server,
        "/v1/channel-registration/sub-key/one/channel-group/g?add=a",
    );
    let other = get(
        &server,
        "/v1/channel-registration/sub-key/two/channel-group/g",
    )
    .json();
    assert_eq!(other["payload"]["channels"], json!([]));
    let full = get(
        &server,
        "/v1/channel-registration/sub-key/one/channel-group/g?add=b,c",
    );
    assert_eq!(full.status, 400);
    assert_eq!(full.json()["service"], "channel-registry");
    assert_eq!(
        get(
            &server,
            "/v1/channel-registration/sub-key/one/channel-group/g?add="
        )
        .status,
        400
    );
}
