//! Shared helpers of the `pn` binary's tests: running it with a clean environment, a dev server
//! on 127.0.0.1, and the one-line error check.
// Each test binary uses some of the helpers.
#![allow(dead_code)]

use std::process::{Command, Output, Stdio};

use pn_devserver::{DevServer, Options};

/// The transports `pn --transport` accepts.
pub const TRANSPORTS: [&str; 3] = ["hyper", "async-std", "blocking"];

/// `pn` with a clean environment (no PN_* variables, no colour).
pub fn pn() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pn"));
    for (key, _) in std::env::vars() {
        if key.starts_with("PN_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null());
    cmd
}

/// Runs `cmd` to the end.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run pn")
}

/// The run's stdout, as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The run's stderr, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A dev server with default options on a free port of 127.0.0.1.
pub fn server() -> DevServer {
    DevServer::start("127.0.0.1:0".parse().unwrap(), Options::default()).expect("dev server")
}

/// The run's stderr, asserted to be exactly one `pn: error:` line free of panic text.
pub fn one_error_line(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "one stderr line expected: {err:?}");
    assert!(err.starts_with("pn: error: "), "{err:?}");
    for forbidden in ["panicked", "internal error", "RUST_BACKTRACE", "backtrace"] {
        assert!(!err.contains(forbidden), "{err:?}");
    }
    err
}
