//! libFuzzer harness of the `funnel_toml` target: its body is `snowfunnel_fuzz::funnel_toml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| snowfunnel_fuzz::funnel_toml(data));
