//! libFuzzer harness of the `contexts` target: its body is `snowfunnel_fuzz::contexts`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| snowfunnel_fuzz::contexts(data));
