//! Start, shutdown, drop and embedding with `serve`.

mod common;

use std::time::{Duration, Instant};

use common::*;
use pn_devserver::{Options, serve};

#[test]
fn shutdown_answers_parked_long_polls_and_returns_promptly() {
    let server = start(Options::default());
    let tt = handshake(&server, "ch", "");
    let waiting = receive_async(&server, "ch", format!("tt={tt}"));
    assert!(server.wait_for_subscribers("ch", 1, WAIT));
    let started = Instant::now();
    server.shutdown();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let body = waiting.join().unwrap();
    assert_eq!(body["m"], serde_json::json!([]));
}

#[test]
fn drop_does_not_hang_on_stalled_requests_and_frees_the_port() {
    let server = start(Options::default());
    let addr = server.addr();
    server.faults().inject(pn_devserver::FaultRule::new(
        pn_devserver::Fault::Stall,
        pn_devserver::Target::Next(1),
    ));
    let stalled = std::thread::spawn(move || raw(addr, "/time/0"));
    assert!(
        server
            .faults()
            .wait_for_requests(pn_devserver::Endpoint::Time, 1, WAIT)
    );
    let started = Instant::now();
    drop(server);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(stalled.join().unwrap().unwrap_or_default().is_empty());
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "listener closed"
    );
}

#[test]
fn origin_and_port_zero() {
    let a = start(Options::default());
    let b = start(Options::default());
    assert_ne!(a.addr().port(), 0);
    assert_ne!(a.addr(), b.addr());
    assert_eq!(a.origin(), format!("http://127.0.0.1:{}", a.addr().port()));
    assert_eq!(a.host(), format!("127.0.0.1:{}", a.addr().port()));
}

#[test]
fn serve_embeds_in_a_tokio_app_with_graceful_shutdown() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = runtime.spawn(serve(listener, Options::default(), async {
        let _ = stopped.await;
    }));
    let reply = request(addr, "GET", "/time/0", None);
    assert_eq!(reply.status, 200);
    stop.send(()).unwrap();
    let result =
        runtime.block_on(async { tokio::time::timeout(Duration::from_secs(3), task).await });
    assert!(matches!(result, Ok(Ok(Ok(())))), "{result:?}");
}
