//! The recipe reader and checker: recipe JSON (`{"version", "nodes", "ui"}`) through the same
//! validation as a dataflow; the input is wrapped so that most of it reaches the recipe nodes.
#![no_main]
libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = swell_engine::validate(text);
    if let Ok(nodes) = serde_json::from_str::<serde_json::Value>(text) {
        let recipe = serde_json::json!({"version": "62.0", "nodes": nodes, "ui": {}});
        let _ = swell_engine::validate(&recipe.to_string());
    }
});
