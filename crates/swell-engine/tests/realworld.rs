//! Real definitions (issue 13): every public dataflow and recipe in `../shared/realworld`
//! (265 files from 32 public repositories, read in place, never copied into the repository)
//! validates, or is refused only for a feature swell does not run ([`UNSUPPORTED`]).
//!
//! The files still refused for something an org accepts are listed, with why, in
//! `tests/realworld_gaps.txt`; the test fails when a file outside the list is refused (a
//! regression) and when a listed file validates (the list must shrink with the work), so the
//! list is always the truth. Counts are printed (`cargo test --test realworld -- --nocapture`).

use std::collections::{BTreeMap, BTreeSet};
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

/// The definition files of the corpus, in name order.
fn definition_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wdf" || x == "wdpr" || x == "json"))
        .collect();
    files.sort();
    files
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
    let files = definition_files(&dir);
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

/// The words of a field name: `Expected_Revenue__c` -> expected, revenue, c.
fn words(name: &str) -> Vec<String> {
    // a custom field's suffix is not a word (`c2g__PeriodNumber__c` ends in "number")
    let name = name.strip_suffix("__c").unwrap_or(name);
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        word.push(c.to_ascii_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// How the definition uses fields: as join keys, as numbers, compared with texts.
struct Uses {
    keys: BTreeSet<String>,
    numeric: BTreeSet<String>,
    text: BTreeSet<String>,
}

/// What kind of value a generated field holds.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Id,
    Date,
    Number,
    Flag,
    /// A Salesforce Time field (`StartTime`): `08:00:00.000Z`.
    Time,
    Text,
}

/// A field's kind from its declared type, its use as a join key, as a number or as a date (its
/// generated parts are read), or its name.
fn kind(field: &str, declared: Option<&str>, uses: &Uses, text: &str) -> Kind {
    let (keys, numeric) = (&uses.keys, &uses.numeric);
    let used_as_number = numeric.iter().any(|n| n == field || n.rsplit('.').next() == Some(field));
    let used_as_text = uses.text.iter().any(|n| n == field || n.rsplit('.').next() == Some(field));
    match declared.map(str::to_ascii_lowercase).as_deref() {
        Some("numeric") => return Kind::Number,
        Some("date") => return Kind::Date,
        // a number field a digest reads as text (`string_to_number` turns it back)
        Some("text") if used_as_number => return Kind::Number,
        Some("text") => return Kind::Text,
        _ => {}
    }
    let last = field.rsplit('.').next().unwrap_or(field);
    let w = words(last);
    // Salesforce's auto-numbers and codes (CaseNumber, c2g__PeriodNumber__c) are text;
    // NumberOfEmployees is a number
    let code = w.len() > 1 && w.last().is_some_and(|x| x == "number") && !used_as_number;
    // a key named after an augment's relationship (`OrderItem__c.ListPrice__c`) is the field
    let key = keys.iter().any(|k| k == field || k.rsplit('.').next() == Some(field));
    if key || w.last().is_some_and(|x| x == "id") || last.ends_with("Id") {
        return Kind::Id;
    }
    if used_as_number {
        return Kind::Number;
    }
    if code || used_as_text {
        return Kind::Text;
    }
    let parts_read =
        ["_sec_epoch", "_day_epoch", "_Year", "_Month", "_Day"].iter().any(|p| text.contains(&format!("{field}{p}")));
    if parts_read || w.iter().any(|x| x.contains("date") || x == "stamp") {
        return Kind::Date;
    }
    if w.last().is_some_and(|x| x == "time") && w.len() > 1 {
        return Kind::Time;
    }
    if w.first().is_some_and(|x| x == "is" || x == "has") {
        return Kind::Flag;
    }
    const NUMBERS: &[&str] = &[
        "amount",
        "number",
        "count",
        "price",
        "quantity",
        "qty",
        "probability",
        "revenue",
        "duration",
        "days",
        "seconds",
        "minutes",
        "hours",
        "total",
        "score",
        "percent",
        "rate",
        "cost",
        "sum",
        "avg",
    ];
    if w.iter().any(|x| NUMBERS.contains(&x.as_str())) {
        return Kind::Number;
    }
    Kind::Text
}

/// Fields the definition computes with as numbers: a quoted SAQL field (`'Amount'`) next to
/// `*`, `/` or `-`, or compared with a number (`'Age' > 30`), and the sources of recipe SUM and
/// AVG aggregations. What an org's metadata would say, read from how the definition uses it.
fn numeric_uses(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '\'' {
            i += 1;
            continue;
        }
        let Some(len) = chars[i + 1..].iter().position(|c| *c == '\'' || *c == '"') else { break };
        let end = i + 1 + len;
        if chars[end] != '\'' {
            i = end;
            continue;
        }
        let name: String = chars[i + 1..end].iter().collect();
        let before = chars[..i].iter().rev().find(|c| !c.is_whitespace());
        let after: String = chars[end + 1..].iter().filter(|c| !c.is_whitespace()).take(3).collect();
        let arithmetic = |c: Option<&char>| c.is_some_and(|c| matches!(c, '*' | '/' | '-'));
        let head: String = chars[i.saturating_sub(24)..i].iter().collect();
        let cast = head.trim_end().ends_with("string_to_number(");
        let compared = ["==", "!=", ">=", "<=", ">", "<"]
            .iter()
            .any(|op| after.strip_prefix(op).is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit() || c == '-')));
        if arithmetic(before) || arithmetic(after.chars().next().as_ref()) || compared || cast {
            out.insert(name);
        }
        i = end + 1;
    }
    // bare names too (`pse__Hierarchy_Depth__c == 0`, `value * 2`)
    let mut j = 0;
    while j < chars.len() {
        if !(chars[j].is_ascii_alphabetic() || chars[j] == '_') || (j > 0 && chars[j - 1].is_ascii_alphanumeric()) {
            j += 1;
            continue;
        }
        let end =
            (j..chars.len()).find(|&k| !(chars[k].is_ascii_alphanumeric() || chars[k] == '_')).unwrap_or(chars.len());
        let name: String = chars[j..end].iter().collect();
        let after: String = chars[end..].iter().filter(|c| !c.is_whitespace()).take(3).collect();
        let compared = ["==", "!=", ">=", "<=", ">", "<"]
            .iter()
            .any(|op| after.strip_prefix(op).is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit())));
        let arithmetic = after.starts_with(['*', '/'])
            || (after.starts_with(['+', '-']) && after[1..].starts_with(|c: char| c.is_ascii_digit()));
        if (compared || arithmetic) && !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            out.insert(name);
        }
        j = end;
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        let mut stack = vec![value];
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::Object(m) => {
                    let action = m.get("action").and_then(|a| a.as_str()).unwrap_or("");
                    if matches!(action, "SUM" | "AVG")
                        && let Some(source) = m.get("source").and_then(|s| s.as_str())
                    {
                        out.insert(source.to_string());
                    }
                    // a Numeric computed field's results are numbers
                    let numeric =
                        m.get("type").and_then(|t| t.as_str()).is_some_and(|t| t.eq_ignore_ascii_case("numeric"));
                    if numeric && let Some(expr) = m.get("saqlExpression").and_then(|e| e.as_str()) {
                        out.extend(results(expr));
                    }
                    stack.extend(m.into_values());
                }
                serde_json::Value::Array(a) => stack.extend(a),
                serde_json::Value::String(s) if s.trim_start().starts_with(['{', '[']) => {
                    if let Ok(inner) = serde_json::from_str(&s) {
                        stack.push(inner);
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// The fields (quoted or bare) a SAQL expression gives as its value: the whole expression, or what
/// follows `then` and `else` (`case when .. then 'A' + 'B' else 'C' end` gives A, B, C).
fn results(expr: &str) -> Vec<String> {
    // tokens: quoted names, words, single symbols
    let mut tokens: Vec<(bool, String)> = Vec::new();
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let end = (i + 1..chars.len()).find(|&k| chars[k] == '\'').unwrap_or(chars.len());
            tokens.push((true, chars[i + 1..end].iter().collect()));
            i = end + 1;
        } else if c.is_alphanumeric() || c == '_' {
            let end =
                (i..chars.len()).find(|&k| !(chars[k].is_alphanumeric() || chars[k] == '_')).unwrap_or(chars.len());
            let word: String = chars[i..end].iter().collect();
            const KEYWORDS: &[&str] =
                &["case", "when", "then", "else", "end", "and", "or", "not", "null", "true", "false"];
            // a bare field name is a name too (`pse__Inactive_Project_Backlog__c`)
            let name = word.starts_with(|c: char| c.is_ascii_alphabetic())
                && !KEYWORDS.contains(&word.to_ascii_lowercase().as_str())
                && chars.get(end) != Some(&'(');
            tokens.push((name, if name { word } else { word.to_ascii_lowercase() }));
            i = end;
        } else {
            tokens.push((false, c.to_string()));
            i += 1;
        }
    }
    let mut out = Vec::new();
    let starts = std::iter::once(0)
        .chain(tokens.iter().enumerate().filter(|(_, (q, t))| !q && (t == "then" || t == "else")).map(|(k, _)| k + 1));
    for start in starts {
        let mut k = start;
        while let Some((true, name)) = tokens.get(k) {
            out.push(name.clone());
            match tokens.get(k + 1) {
                Some((false, op)) if ["+", "-", "*", "/"].contains(&op.as_str()) => k += 2,
                _ => break,
            }
        }
    }
    out
}

/// Fields compared with a double-quoted text (`'Is_Daily__c' == "true"`): texts, whatever
/// their names suggest.
fn text_uses(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    // the definition's JSON escapes the quotes of the SAQL inside it (twice in the stored form)
    let text = text.replace('\\', "");
    for op in ["==", "!="] {
        for (at, _) in text.match_indices(op) {
            let after = text[at + 2..].trim_start();
            // `!= ""` asks for a value, of any type
            if !after.starts_with('"') || after.starts_with("\"\"") {
                continue;
            }
            let before = text[..at].trim_end();
            let name = if let Some(b) = before.strip_suffix('\'') {
                b.rsplit('\'').next().unwrap_or("")
            } else {
                let start = before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |p| p + 1);
                &before[start..]
            };
            if !name.is_empty() {
                out.insert(name.to_string());
            }
        }
    }
    out
}

/// A few rows for each declared field: ids from one shared pool (so that keys join).
fn value(field: &str, kind: Kind, row: usize) -> String {
    match kind {
        Kind::Id => format!("ID{row}"),
        Kind::Date => format!("2024-{:02}-{:02}", 1 + row % 12, 1 + (row * 7) % 28),
        Kind::Flag => if row.is_multiple_of(2) { "true" } else { "false" }.to_string(),
        Kind::Time => format!("{:02}:30:00.000Z", 8 + row),
        Kind::Number => format!("{}", 10 * (row + 1)),
        Kind::Text => {
            format!("{}{row}", field.chars().filter(|c| c.is_ascii_alphanumeric()).take(12).collect::<String>())
        }
    }
}

/// Fields used as join keys anywhere in the definition.
fn key_fields(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let Ok(nodes) = swell_engine::definition::parse_dataflow(text) else { return out };
    for n in nodes {
        for key in ["left_key", "right_key", "leftKeys", "rightKeys", "leftKey", "rightKey"] {
            match n.parameters.get(key) {
                Some(serde_json::Value::String(s)) => {
                    out.insert(s.clone());
                }
                Some(serde_json::Value::Array(a)) => {
                    out.extend(a.iter().filter_map(|v| v.as_str().map(str::to_string)))
                }
                _ => {}
            }
        }
    }
    out
}

/// A declared field: its name and its declared type, if any.
type Declared = (String, Option<String>);

/// The Salesforce objects a definition reads and the fields it declares for each, or `None`
/// when it also reads datasets (whose fields it does not declare).
fn declared_objects(text: &str) -> Option<BTreeMap<String, Vec<Declared>>> {
    let nodes = swell_engine::definition::parse_dataflow(text).ok()?;
    let mut out: BTreeMap<String, Vec<Declared>> = BTreeMap::new();
    for n in nodes {
        let p = &n.parameters;
        let (object, fields) = match n.action.as_str() {
            "sfdcDigest" | "digest" => {
                let fields = p.get("fields")?.as_array()?.iter().filter_map(|f| {
                    let name = f.get("name")?.as_str()?.to_string();
                    // a text default says the field is text
                    let default_text =
                        f.get("defaultValue").and_then(|d| d.as_str()).is_some_and(|d| d.parse::<f64>().is_err());
                    let ty = f
                        .get("type")
                        .and_then(|t| t.as_str())
                        .map(str::to_string)
                        .or(default_text.then(|| "Text".to_string()));
                    Some((name, ty))
                });
                let mut fields: Vec<Declared> = fields.collect();
                // fields a filter names are read from the object too
                for c in p.get("filterConditions").and_then(|c| c.as_array()).into_iter().flatten() {
                    if let Some(f) = c.get("field").and_then(|f| f.as_str())
                        && !fields.iter().any(|(n, _)| n == f)
                    {
                        fields.push((f.to_string(), None));
                    }
                }
                if let Some(soql) = p.get("complexFilterConditions").and_then(|c| c.as_str()) {
                    for w in soql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')) {
                        let upper = w.to_ascii_uppercase();
                        let keyword =
                            ["AND", "OR", "NOT", "NULL", "TRUE", "FALSE", "IN", "LIKE"].contains(&upper.as_str());
                        // a relationship path (`RecordType.DeveloperName`) is a column of
                        // that name in a copy that holds it
                        if w.starts_with(|c: char| c.is_ascii_alphabetic())
                            && !keyword
                            && upper != w
                            && !fields.iter().any(|(n, _)| n == w)
                        {
                            fields.push((w.to_string(), None));
                        }
                    }
                }
                (p.get("object")?.as_str()?.to_string(), fields)
            }
            "load" => {
                let dataset = p.get("dataset")?;
                if dataset.get("type")?.as_str()? != "connectedDataset" {
                    return None;
                }
                let fields: Vec<Declared> = p
                    .get("fields")?
                    .as_array()?
                    .iter()
                    .filter_map(|f| f.as_str().map(|s| (s.to_string(), None)))
                    .collect();
                if fields.is_empty() {
                    return None;
                }
                (dataset.get("sourceObjectName")?.as_str()?.to_string(), fields)
            }
            "edgemart" => return None,
            _ => continue,
        };
        let entry = out.entry(object).or_default();
        for f in fields {
            if !entry.iter().any(|(n, _)| *n == f.0) {
                entry.push(f);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Every definition that validates and reads only Salesforce objects whose fields it declares
/// runs on generated rows (5 per object) and succeeds. The count that runs is printed; a file
/// that ran before and fails now is a regression (the floor below moves up with the work).
#[test]
fn real_definitions_of_declared_objects_run_on_generated_rows() {
    let Some(dir) = corpus() else {
        eprintln!("skipping: ../shared/realworld is not here (set SWELL_REALWORLD_DIR)");
        return;
    };
    let files = definition_files(&dir);
    let runtime = swell_engine::runtime_builder().build().unwrap();
    let (mut ran, mut candidates) = (0, 0);
    let mut failed: Vec<(String, String)> = Vec::new();
    // SWELL_REALWORLD_ONLY=part: only the files whose name holds it, their generated rows kept
    // (the folder is printed) to look at with `swell run`
    let only = std::env::var("SWELL_REALWORLD_ONLY").ok();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        if swell_engine::validate_isolated(text.clone()).is_err() {
            continue;
        }
        let Some(objects) = declared_objects(&text) else { continue };
        candidates += 1;
        let tmp = tempfile::tempdir().unwrap();
        if only.is_some() {
            println!("{name}: generated rows in {}", tmp.path().display());
        }
        let folder = tmp.path().join("objects");
        std::fs::create_dir_all(&folder).unwrap();
        let uses = Uses { keys: key_fields(&text), numeric: numeric_uses(&text), text: text_uses(&text) };
        for (object, fields) in &objects {
            let mut csv = fields.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(",") + "\n";
            for row in 0..5 {
                let line: Vec<String> =
                    fields.iter().map(|(n, ty)| value(n, kind(n, ty.as_deref(), &uses, &text), row)).collect();
                csv.push_str(&line.join(","));
                csv.push('\n');
            }
            std::fs::write(folder.join(format!("{object}.csv")), csv).unwrap();
        }
        let flow = swell_engine::Dataflow::parse(&text).unwrap();
        let data = swell_engine::DataDir::new(tmp.path().join("data"));
        let catalog = swell_engine::FileCatalog { objects_dir: Some(folder), data_dir: Some(data.clone()) };
        let mut options = swell_engine::RunOptions::new(std::sync::Arc::new(catalog));
        options.data_dir = Some(data);
        options.target_partitions = Some(2);
        options.now = "2025-01-01T00:00:00Z".parse().unwrap();
        match runtime.block_on(swell_engine::Run::new(flow).execute(options)) {
            Ok(_) => ran += 1,
            Err(e) => failed.push((name, e.to_string().lines().take(2).collect::<Vec<_>>().join(" | "))),
        }
        if only.is_some() {
            let _ = tmp.keep();
        }
    }
    println!(
        "{candidates} definitions validate and read only declared Salesforce objects; {ran} ran on generated rows"
    );
    for (file, why) in &failed {
        println!("  did not run {file}: {}", why.chars().take(300).collect::<String>());
    }
    assert!(only.is_some() || ran >= RUN_FLOOR, "{ran} ran, fewer than the {RUN_FLOOR} that ran before");
}

/// How many definitions ran at the last count (see the closing note of issue 13).
const RUN_FLOOR: usize = 131;
