//! libFuzzer harness of the `gzip` target: its body is `snowfunnel_fuzz::gzip`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| snowfunnel_fuzz::gzip(data));
