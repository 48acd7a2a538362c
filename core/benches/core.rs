//! Benchmarks of the core alone (no I/O): decoding subscribe bodies of 1, 10 and 100
//! messages against a plain `serde_json` pass over the same bytes, building a publish
//! request, and a full handshake/receive cycle on virtual time. Allocation counts per
//! iteration come from divan's counting allocator (`cargo bench -p pn-core`; divide the
//! `alloc` column by the message count for allocations per decoded message).

use std::time::{Duration, Instant};

use divan::{AllocProfiler, Bencher, black_box};
use pn_core::{Config, Core, Event, Publish, Response, Subscribe, TransportAction, decode};

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

fn main() {
    divan::main();
}

/// One message envelope as the service sends it, from the conformance corpus
/// (`objectivec.jsonl`, ItShouldSubscribeToSingleChannelAndReceiveMessageWhenPublished #1);
/// `{t}` and `{s}` vary per message.
const ENVELOPE: &str = r#"{"a":"5","f":0,"i":"Serhii","s":{s},"p":{"t":"{t}","r":21},"k":"demo","c":"test-channel1","d":{"test-message":["message"],"seq":{s}},"cmt":"test-message-type"}"#;

/// A subscribe body of `n` messages on `test-channel1`.
fn body(n: usize) -> Vec<u8> {
    let base = 17_312_277_195_423_633_u64;
    let messages: Vec<String> = (0..n)
        .map(|i| {
            ENVELOPE
                .replace("{t}", &(base + i as u64).to_string())
                .replace("{s}", &i.to_string())
        })
        .collect();
    format!(
        r#"{{"t":{{"t":"{}","r":21}},"m":[{}]}}"#,
        base + n as u64,
        messages.join(",")
    )
    .into_bytes()
}

#[divan::bench(args = [1, 10, 100])]
fn decode_subscribe(bencher: Bencher, n: usize) {
    let response = Response::new(200, body(n));
    bencher
        .counter(divan::counter::ItemsCount::new(n))
        .bench(|| decode::subscribe(black_box(&response)).expect("decodes"));
}

/// The reference: one `serde_json::Value` pass over the same 100-message body.
#[divan::bench]
fn serde_json_value_100(bencher: Bencher) {
    let bytes = body(100);
    bencher
        .counter(divan::counter::ItemsCount::new(100usize))
        .bench(|| serde_json::from_slice::<serde_json::Value>(black_box(&bytes)).expect("json"));
}

fn core() -> (Core, Instant) {
    let now = Instant::now();
    let config = Config::new("demo", "bench-user").with_publish_key("demo");
    let core = Core::new(config, 7, now, Duration::from_secs(1_700_000_000)).expect("config");
    (core, now)
}

#[divan::bench]
fn build_publish_request(bencher: Bencher) {
    let (mut core, now) = core();
    bencher.bench_local(|| {
        let publish = Publish::raw("test-channel1", r#"{"seq":1,"text":"hello"}"#).unwrap();
        core.publish_request(black_box(publish), now).unwrap()
    });
}

fn sent(core: &mut Core) -> pn_core::RequestId {
    loop {
        match core.poll_transmit() {
            Some(TransportAction::Send(r)) => return r.id,
            Some(TransportAction::Cancel(_)) => {}
            None => panic!("no request"),
        }
    }
}

/// Subscribe, handshake, one receive of 10 messages, every event drained: a fresh core each
/// time, the clock advanced by hand.
#[divan::bench]
fn handshake_receive_cycle(bencher: Bencher) {
    let handshake = br#"{"t":{"t":"17312277195423600","r":21},"m":[]}"#.to_vec();
    let receive = body(10);
    bencher.bench_local(|| {
        let (mut core, mut now) = core();
        core.subscribe(Subscribe::channels(["test-channel1"]).unwrap(), now)
            .unwrap();
        let id = sent(&mut core);
        core.handle_response(id, Ok(Response::new(200, handshake.clone())), now);
        let id = sent(&mut core);
        now += Duration::from_millis(30);
        core.handle_response(id, Ok(Response::new(200, receive.clone())), now);
        let mut messages = 0;
        while let Some(event) = core.poll_event() {
            messages += usize::from(matches!(event, Event::Message(_)));
        }
        assert_eq!(messages, 10);
        core
    });
}
