//! libFuzzer harness of the `state_file` target: its body is `snowfunnel_fuzz::state_file`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| snowfunnel_fuzz::state_file(data));
