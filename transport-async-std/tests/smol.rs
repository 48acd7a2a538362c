//! The shared scenarios (pn_async_driver::scenarios) under smol, and with the built-in
//! executor under a bare `block_on`, against the dev server.

mod common;

use pn_async_driver::scenarios;

macro_rules! scenario {
    ($harness:ident: $($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            smol::block_on(scenarios::$name(&common::$harness));
        }
    )*};
}

scenario!(
    Smol: round_trip,
    refused_commands,
    channel_groups,
    wildcard,
    presence,
    unsubscribe_all_resets_cursor,
    reconnect_catches_up,
    fault_connection_closed,
    fault_truncated,
    fault_server_error,
    fault_rate_limited,
    fault_stalled,
    access_denied,
    shutdown,
    listeners,
);

mod builtin_executor {
    use super::*;

    scenario!(Builtin: round_trip, fault_connection_closed, shutdown);
}
