//! `decode::subscribe` on any answer (`STATUS[ RETRY-AFTER]\n` head, then the body; see
//! `pn_fuzz_checks::response`): never panics, and every payload handed out is valid JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pn_fuzz_checks::check_subscribe(data));
