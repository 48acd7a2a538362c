//! The shared scenarios (pn_async_driver::scenarios) under async-std, against the dev server.

mod common;

use pn_async_driver::scenarios;

macro_rules! scenario {
    ($($name:ident),* $(,)?) => {$(
        #[async_std::test]
        async fn $name() {
            scenarios::$name(&common::AsyncStd).await;
        }
    )*};
}

scenario!(
    round_trip,
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
