//! Percent-encoding: any text survives encode → decode, and the encoding keeps exactly the
//! unreserved characters (compared with a reference written in the check).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pn_fuzz_checks::check_encoding(data));
