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

pn_async_driver::scenario_tests!(
    #[tokio::test]
    Tokio
);

/// The same round trip on a multi-threaded runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_multi_thread() {
    scenarios::round_trip(&Tokio).await;
}
