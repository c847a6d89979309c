//! The SAQL expression parser: any text parses or is refused with a position, never a panic
//! or a stack overflow.
#![no_main]
libfuzzer_sys::fuzz_target!(|text: &str| {
    if let Err(e) = swell_engine::saql::parse(text) {
        let _ = e.render(text);
    }
});
