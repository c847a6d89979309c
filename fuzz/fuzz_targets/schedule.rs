//! Schedule input (`PUT /wave/asset/{id}/schedule`): any JSON is a schedule or a list of
//! problems; a schedule's next ticks are computed without a panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|text: &str| {
    if let Ok(input) = serde_json::from_str::<serde_json::Value>(text)
        && let Ok(schedule) = swell_core::Schedule::from_input(&input)
    {
        let mut at = chrono::DateTime::<chrono::Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        for _ in 0..3 {
            match schedule.next_after(at) {
                Some(next) => at = next,
                None => break,
            }
        }
    }
});
