//! Every non-subscribe decoder (publish, time, here_now, where_now, get/set state, ack, channel
//! groups) on any answer: never panics, success only for 2xx, the right error otherwise.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pn_fuzz_checks::check_bodies(data));
