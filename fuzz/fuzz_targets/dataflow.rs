//! The dataflow reader and checker: definition text is read, its graph resolved and every
//! node's schema checked (SAQL included) without data.
#![no_main]
libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = swell_engine::validate(text);
});
