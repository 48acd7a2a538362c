//! Interop with the official PubNub Python SDK: runs `tests/interop/python_sdk.py` against a
//! dev server and checks each `OK …` line. Needs `pip install pubnub`; fails (never skips)
//! without it.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use pn_devserver::{DevServer, Options};

fn python() -> &'static str {
    if Command::new("python3").arg("--version").output().is_ok() {
        "python3"
    } else {
        "python"
    }
}

#[test]
fn official_python_sdk_works_against_the_dev_server() {
    let probe = Command::new(python())
        .args(["-c", "import pubnub"])
        .output();
    match probe {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "the PubNub Python SDK is not installed: run `pip install pubnub` (CI installs it)\n{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            panic!("python3 is not available ({e}); install Python 3 and run `pip install pubnub`")
        }
    }
    let options = Options {
        hold_time: Duration::from_secs(5),
        ..Options::default()
    };
    let open = DevServer::start("127.0.0.1:0".parse().unwrap(), options.clone()).unwrap();
    let grants: HashMap<String, Vec<String>> =
        [("py-token".to_string(), vec!["py-locked".to_string()])].into();
    let guarded = DevServer::start(
        "127.0.0.1:0".parse().unwrap(),
        Options {
            grants: Some(grants),
            ..options
        },
    )
    .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/python_sdk.py");
    let started = Instant::now();
    let out = Command::new(python())
        .arg(script)
        .arg(open.host())
        .arg(guarded.host())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}\n(took {:?})", started.elapsed());
    assert!(
        out.status.success(),
        "script failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for expected in [
        "OK time ",
        "OK publish ",
        "OK connected",
        "OK subscribe hi ",
        "OK signal ping",
        "OK presence join py-visitor 2",
        "OK here_now 2 py-listener,py-visitor",
        "OK where_now py-ch",
        "OK state happy",
        "OK presence leave py-visitor 1",
        "OK channel_groups py-g2 py-group",
        "OK error 400 400",
        "OK error 403 403",
        "OK grant py-locked",
        "DONE",
    ] {
        assert!(
            stdout.lines().any(|l| l.starts_with(expected)),
            "missing {expected:?} in:\n{stdout}\n{stderr}"
        );
    }
    let faults = open.faults();
    assert!(faults.request_count(pn_devserver::Endpoint::Subscribe) >= 3);
    assert!(faults.request_count(pn_devserver::Endpoint::ChannelGroups) >= 4);
}
