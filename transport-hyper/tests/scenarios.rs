//! The shared scenarios (pn_async_driver::scenarios) on tokio + hyper, against the dev server.

use std::time::Duration;

use pn_async_driver::scenarios::{self, Harness};
use pn_async_driver::{BoxFuture, ClientBuilder};
use pn_hyper::HyperRuntime;

struct Tokio;

impl Harness for Tokio {
    type Runtime = HyperRuntime;

    fn builder(&self) -> ClientBuilder<HyperRuntime> {
        pn_hyper::Client::builder()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

macro_rules! scenario {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            scenarios::$name(&Tokio).await;
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

/// The same round trip on a multi-threaded runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_multi_thread() {
    scenarios::round_trip(&Tokio).await;
}
