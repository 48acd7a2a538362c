//! `pn bench` against an in-process dev server: exit 0 and the documented last line.
//! (No timing is asserted: only the shape of the report.)

use std::process::Command;

use pn_devserver::{DevServer, Options};

fn bench(origin: &str, transport: &str, workload: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_pn"))
        .args(["bench", workload, "--count", "20", "--transport", transport])
        .args(["--origin", origin])
        .env("NO_COLOR", "1")
        .output()
        .expect("run pn");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "pn bench {workload} --transport {transport}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `{workload}: 20 in S s = R/s`, S and R numbers.
fn assert_last_line(stdout: &str, workload: &str) {
    let last = stdout.lines().last().unwrap_or_default();
    let rest = last
        .strip_prefix(&format!("{workload}: 20 in "))
        .unwrap_or_else(|| panic!("last line {last:?}"));
    let (secs, rate) = rest.split_once(" s = ").expect("` s = `");
    assert!(secs.parse::<f64>().is_ok(), "{last:?}");
    let rate = rate.strip_suffix("/s").expect("`/s`");
    assert!(rate.parse::<f64>().is_ok(), "{last:?}");
    assert!(stdout.starts_with("cpu: "), "{stdout}");
}

#[test]
fn publish_and_subscribe_report_their_rate_on_every_transport() {
    let server = DevServer::start("127.0.0.1:0".parse().unwrap(), Options::default()).unwrap();
    for transport in ["hyper", "async-std", "blocking"] {
        for workload in ["publish", "subscribe"] {
            let stdout = bench(&server.origin(), transport, workload);
            assert_last_line(&stdout, workload);
        }
    }
    server.shutdown();
}

#[test]
fn embedded_origin_starts_its_own_server() {
    assert_last_line(&bench("embedded", "hyper", "subscribe"), "subscribe");
}

#[test]
fn drain_counts_a_firehose_on_every_transport() {
    let server = DevServer::start(
        "127.0.0.1:0".parse().unwrap(),
        Options {
            firehose: Some("firehose".into()),
            queue_cap: 7,
            ..Options::default()
        },
    )
    .unwrap();
    for transport in ["hyper", "async-std", "blocking"] {
        // 20 messages in pages of 7: counting checks every sequence number in order.
        assert_last_line(&bench(&server.origin(), transport, "drain"), "drain");
    }
    assert_last_line(&bench("embedded", "blocking", "drain"), "drain");
    server.shutdown();
}
