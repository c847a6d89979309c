//! The recipe formula parser (the SQL dialect of Data Prep formulas).
#![no_main]
libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = swell_engine::recipe::sql::parse(text);
});
