//! Real definitions (issue 13): every public dataflow and recipe in `../shared/realworld`
//! (265 files from 32 public repositories, read in place, never copied into the repository)
//! validates, or is refused only for a feature swell does not run ([`UNSUPPORTED`]).
//!
//! The files still refused for something an org accepts are listed, with why, in
//! `tests/realworld_gaps.txt`; the test fails when a file outside the list is refused (a
//! regression) and when a listed file validates (the list must shrink with the work), so the
//! list is always the truth. Counts are printed (`cargo test --test realworld -- --nocapture`).

use std::collections::BTreeMap;
use std::path::PathBuf;

/// What swell does not run, as the refusals word it: a file refused only for these is fine.
const UNSUPPORTED: &[&str] = &[
    "Einstein Discovery",
    "Einstein sentiment",
    "Einstein clustering",
    "Einstein predictions",
    "Einstein time-series",
    "Einstein recommendations",
    "Data Cloud",
    "output connections",
    "Data Prep Classic (R2) recipe",
];

/// The corpus: `SWELL_REALWORLD_DIR`, or `shared/realworld` beside an ancestor of this crate
/// (the project's layout, `main/` next to `shared/`).
fn corpus() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("SWELL_REALWORLD_DIR") {
        return Some(PathBuf::from(dir));
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors().map(|a| a.join("shared/realworld")).find(|p| p.is_dir())
}

fn gaps() -> BTreeMap<String, String> {
    let text = include_str!("realworld_gaps.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((file, why)) => (file.to_string(), why.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

#[test]
fn every_real_definition_validates_or_names_what_swell_does_not_run() {
    let Some(dir) = corpus() else {
        assert!(std::env::var("CI").is_err(), "CI must have ../shared/realworld (or SWELL_REALWORLD_DIR)");
        eprintln!("skipping: ../shared/realworld is not here (set SWELL_REALWORLD_DIR)");
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wdf" || x == "wdpr" || x == "json"))
        .collect();
    files.sort();
    let gaps = gaps();
    let (mut valid, mut unsupported) = (0, 0);
    let mut refused: BTreeMap<String, String> = BTreeMap::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        match swell_engine::validate_isolated(text) {
            Ok(()) => valid += 1,
            Err(problems) => {
                let messages: Vec<String> = problems.0.iter().map(|p| p.to_string()).collect();
                if messages.iter().all(|m| UNSUPPORTED.iter().any(|u| m.contains(u))) {
                    unsupported += 1;
                } else {
                    let first = messages.iter().find(|m| !UNSUPPORTED.iter().any(|u| m.contains(u))).unwrap();
                    refused.insert(name, format!("{} problem(s); first: {first}", messages.len()));
                }
            }
        }
    }
    println!(
        "{} files: {valid} validate, {unsupported} refused only for what swell does not run, {} refused",
        files.len(),
        refused.len()
    );
    for (file, why) in &refused {
        println!("  refused {file}: {why}");
    }
    let regressions: Vec<_> = refused.iter().filter(|(f, _)| !gaps.contains_key(*f)).collect();
    let fixed: Vec<_> = gaps.keys().filter(|f| !refused.contains_key(*f)).collect();
    assert!(regressions.is_empty(), "refused, and not listed in realworld_gaps.txt: {regressions:#?}");
    assert!(fixed.is_empty(), "listed in realworld_gaps.txt but not refused any more (remove them): {fixed:#?}");
    assert!(files.len() >= 250, "the corpus shrank: {} files in {}", files.len(), dir.display());
}
