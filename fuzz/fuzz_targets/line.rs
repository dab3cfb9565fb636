//! libFuzzer harness of the `line` target: its body is `snowfunnel_fuzz::line`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| snowfunnel_fuzz::line(data));
