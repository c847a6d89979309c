//! Engine behaviour beyond single fixtures: stopping a run, atomic commits, live progress.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use swell_engine::storage::DataDir as Dir;
use swell_engine::{DataDir, Dataflow, EngineError, FileCatalog, NodeStatus, Run, RunOptions};

fn write_sales(dir: &Path, rows: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("Sales.csv")).unwrap());
    writeln!(f, "Region,Seq,Amount,Code").unwrap();
    for i in 0..rows {
        writeln!(f, "R{},{},{},{}", i % 7, i, (i * 37) % 1000, i % 13).unwrap();
    }
}

fn options(data: &Path, objects: &Path) -> RunOptions {
    let catalog = FileCatalog { objects_dir: Some(objects.to_path_buf()), data_dir: Some(DataDir::new(data)) };
    let mut o = RunOptions::new(Arc::new(catalog));
    o.data_dir = Some(DataDir::new(data));
    o.target_partitions = Some(2);
    o
}

const SIMPLE: &str = r#"{
  "d": {"action": "sfdcDigest", "parameters": {"object": "Sales", "fields": [{"name": "Region"}, {"name": "Amount"}, {"name": "Code"}]}},
  "c": {"action": "computeExpression", "parameters": {"source": "d", "computedFields": [
      {"name": "Parsed", "type": "Numeric", "saqlExpression": "string_to_number(Region)"}]}},
  "r": {"action": "sfdcRegister", "parameters": {"alias": "Sales", "name": "Sales", "source": "d"}},
  "r2": {"action": "sfdcRegister", "parameters": {"alias": "Parsed", "name": "Parsed", "source": "c"}}
}"#;

const OK_FLOW: &str = r#"{
  "d": {"action": "sfdcDigest", "parameters": {"object": "Sales", "fields": [{"name": "Region"}, {"name": "Amount"}]}},
  "r": {"action": "sfdcRegister", "parameters": {"alias": "Sales", "name": "Sales", "source": "d"}}
}"#;

/// A run that fails after one output was written leaves every dataset as it was.
#[tokio::test]
async fn failed_run_commits_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, objects) = (tmp.path().join("data"), tmp.path().join("objects"));
    write_sales(&objects, 100);
    let first = Run::new(Dataflow::parse(OK_FLOW).unwrap()).execute(options(&data, &objects)).await.unwrap();
    assert_eq!(first.datasets[0].row_count, 100);

    let run = Run::new(Dataflow::parse(SIMPLE).unwrap());
    let err = run.execute(options(&data, &objects)).await.unwrap_err();
    assert!(matches!(err, EngineError::Node { .. }), "{err}");
    assert!(err.to_string().contains("is not a number"), "{err}");
    let table = Dir::new(&data).dataset("Sales").unwrap();
    let current = table.current().unwrap().unwrap();
    assert_eq!(current.metadata.version_id, first.datasets[0].version_id, "the previous version stays current");
    assert_eq!(table.versions().unwrap().len(), 1, "no new version is visible");
    assert!(Dir::new(&data).dataset("Parsed").unwrap().current().unwrap().is_none());
    let leftovers: Vec<_> =
        std::fs::read_dir(table.dir().join("versions")).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no staging directory is left: {leftovers:?}");
    assert!(run.progress().snapshot().iter().any(|n| n.status == NodeStatus::Failure));
}

/// Stopping a run returns within a second, marks nodes cancelled and commits nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_is_prompt_and_commits_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, objects) = (tmp.path().join("data"), tmp.path().join("objects"));
    write_sales(&objects, 1_000_000);
    // a running total is evaluated row by row: slow enough to stop midway (about a second
    // here; 400,000 rows once finished before the stop on a fast machine)
    let flow = r#"{
      "d": {"action": "sfdcDigest", "parameters": {"object": "Sales", "fields": [{"name": "Region"}, {"name": "Seq"}, {"name": "Amount"}]}},
      "cr": {"action": "computeRelative", "parameters": {"source": "d", "partitionBy": ["Region"], "orderBy": [{"name": "Seq", "direction": "asc"}],
        "computedFields": [{"name": "Running", "type": "Numeric", "saqlExpression": "coalesce(previous(Running), 0) + Amount"}]}},
      "r": {"action": "sfdcRegister", "parameters": {"alias": "Running", "name": "Running", "source": "cr"}}
    }"#;
    let run = Arc::new(Run::new(Dataflow::parse(flow).unwrap()));
    let opts = options(&data, &objects);
    let cancel = opts.cancel.clone();
    let task = {
        let run = run.clone();
        tokio::spawn(async move { run.execute(opts).await })
    };
    // wait until rows flow
    let started = Instant::now();
    while run.progress().snapshot()[0].output_rows == 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "the run never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stop = Instant::now();
    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_secs(5), task).await.expect("the run stops").unwrap();
    let took = stop.elapsed();
    assert!(matches!(result, Err(EngineError::Cancelled)), "{result:?}");
    assert!(took < Duration::from_secs(1), "stopping took {took:?}");
    assert!(Dir::new(&data).dataset("Running").unwrap().current().unwrap().is_none());
    let snapshot = run.progress().snapshot();
    assert!(snapshot.iter().all(|n| n.status == NodeStatus::Cancelled), "{snapshot:?}");
    let staging = Dir::new(&data).dataset("Running").unwrap().dir().join("versions");
    let left = std::fs::read_dir(&staging).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "nothing is left in {}", staging.display());
}

/// Progress is visible while the run executes and complete at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_live_and_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, objects) = (tmp.path().join("data"), tmp.path().join("objects"));
    write_sales(&objects, 50_000);
    let flow = r#"{
      "d": {"action": "sfdcDigest", "parameters": {"object": "Sales", "fields": [{"name": "Region"}, {"name": "Amount"}]}},
      "f": {"action": "filter", "parameters": {"source": "d", "filter": "Region:EQ:R1|R2"}},
      "r": {"action": "sfdcRegister", "parameters": {"alias": "Some", "name": "Some", "source": "f"}}
    }"#;
    let run = Arc::new(Run::new(Dataflow::parse(flow).unwrap()));
    let mut changed = run.progress().changed();
    let watcher = {
        let progress = run.progress();
        tokio::spawn(async move {
            let mut saw_running = false;
            while changed.changed().await.is_ok() {
                let s = progress.snapshot();
                saw_running |= s.iter().any(|n| n.status == NodeStatus::Running);
                if s.iter().all(|n| n.status == NodeStatus::Success) {
                    break;
                }
            }
            saw_running
        })
    };
    let outcome = run.execute(options(&data, &objects)).await.unwrap();
    assert!(tokio::time::timeout(Duration::from_secs(5), watcher).await.unwrap().unwrap(), "a node was seen running");
    let nodes = &outcome.nodes;
    assert_eq!(nodes[0].output_rows, 50_000);
    let expected = (0..50_000).filter(|i| i % 7 == 1 || i % 7 == 2).count() as u64;
    assert_eq!(nodes[1].input_rows, 50_000);
    assert_eq!(nodes[1].output_rows, expected);
    assert_eq!(nodes[2].output_rows, expected);
    assert_eq!(outcome.datasets[0].row_count, expected);
    assert!(nodes.iter().all(|n| n.start_date.is_some() && n.duration_ms.is_some()));
}

/// Static validation reports every problem without data.
#[test]
fn validate_without_data_reports_everything() {
    let text = r#"{
      "d": {"action": "sfdcDigest", "parameters": {"object": "Opportunity", "fields": [{"name": "Amount"}, {"name": "Stage"}]}},
      "c": {"action": "computeExpression", "parameters": {"source": "d", "computedFields": [
          {"name": "x", "type": "Numeric", "saqlExpression": "Amount * "},
          {"name": "y", "type": "Text", "saqlExpression": "Stag + \"!\""}]}},
      "r": {"action": "sfdcRegister", "parameters": {"alias": "X", "name": "X", "source": "cc"}}
    }"#;
    let problems = swell_engine::validate(text).unwrap_err();
    let text = problems.to_string();
    assert_eq!(problems.0.len(), 3, "{text}");
    assert!(text.contains("c.parameters.computedFields[0].saqlExpression: at position 10"), "{text}");
    assert!(
        text.contains(
            "c.parameters.computedFields[1].saqlExpression: at position 1: unknown field 'Stag' (did you mean 'Stage'?)"
        ),
        "{text}"
    );
    assert!(text.contains("r.parameters.source: unknown node 'cc' (did you mean 'c'?)"), "{text}");
    // an edgemart's fields are unknown until run time: references to them are accepted
    let edgemart = r#"{"e": {"action": "edgemart", "parameters": {"alias": "A"}},
      "c": {"action": "computeExpression", "parameters": {"source": "e", "computedFields": [{"name": "x", "type": "Numeric", "saqlExpression": "Anything + 1"}]}}}"#;
    swell_engine::validate(edgemart).unwrap();
}

/// Dataset names differing only in case are one name (two folders that would collide where
/// the file system ignores case); the very same alias twice writes two versions of one dataset.
#[test]
fn dataset_names_differing_only_in_case_are_refused() {
    let text = r#"{
      "d": {"action": "sfdcDigest", "parameters": {"object": "Opportunity", "fields": [{"name": "Amount"}]}},
      "r1": {"action": "sfdcRegister", "parameters": {"alias": "Dup", "name": "Dup", "source": "d"}},
      "r2": {"action": "sfdcRegister", "parameters": {"alias": "dup", "name": "dup", "source": "d"}},
      "r3": {"action": "sfdcRegister", "parameters": {"alias": "Dup", "name": "Again", "source": "d"}},
      "r4": {"action": "sfdcRegister", "parameters": {"alias": "Other", "name": "Other", "source": "d"}}
    }"#;
    let problems = swell_engine::validate(text).unwrap_err();
    let text = problems.to_string();
    assert_eq!(problems.0.len(), 1, "{text}");
    assert!(
        text.contains(
            "r2.parameters.alias: 'dup' differs only in case from 'Dup', which node 'r1' registers (dataset names \
             are compared regardless of case)"
        ),
        "{text}"
    );
}

/// The paired dataflow and recipe of the benchmark (bench/dataflow.json, bench/recipe.json,
/// transformations.md 3.4) give the same rows on the recipe's fields.
#[tokio::test]
async fn the_benchmark_dataflow_and_recipe_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let objects = tmp.path().join("objects");
    std::fs::create_dir_all(&objects).unwrap();
    let mut accounts = String::from("Id,Name,Industry,Region\n");
    for i in 0..40 {
        let industry = ["Government", "Retail", "Energy", ""][i % 4];
        accounts.push_str(&format!("A{i},Account {i},{industry},{}\n", ["EMEA", "AMER", "APAC"][i % 3]));
    }
    let mut opps = String::from("Id,Name,AccountId,Amount,StageName,CloseDate,Probability\n");
    for i in 0..600 {
        let stage = ["Closed Won", "Closed Lost", "Prospecting", "Negotiation"][i % 4];
        let amount = if i % 17 == 0 { String::new() } else { ((i * 7919) % 20000).to_string() };
        let account = if i % 23 == 0 { "A99".to_string() } else { format!("A{}", i % 40) };
        opps.push_str(&format!(
            "O{i:04},Opp {i},{account},{amount},{stage},2024-{:02}-{:02},{}\n",
            i % 12 + 1,
            i % 28 + 1,
            (i * 13) % 100
        ));
    }
    std::fs::write(objects.join("Account.csv"), accounts).unwrap();
    std::fs::write(objects.join("Opportunity.csv"), opps).unwrap();
    let bench = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench");
    let mut outputs = Vec::new();
    for (i, file) in ["dataflow.json", "recipe.json"].iter().enumerate() {
        let text = std::fs::read_to_string(bench.join(file)).unwrap();
        let data = tmp.path().join(format!("data{i}"));
        let mut o = options(&data, &objects);
        o.now = "2025-01-01T00:00:00Z".parse().unwrap();
        let out = Run::new(Dataflow::parse(&text).unwrap()).execute(o).await.unwrap_or_else(|e| panic!("{file}: {e}"));
        outputs.push(out.datasets[0].dir.join("part-0.parquet"));
    }
    let ctx = swell_engine::datafusion::prelude::SessionContext::new();
    let recipe = ctx.read_parquet(outputs[1].display().to_string(), Default::default()).await.unwrap();
    let names: Vec<String> = recipe.schema().fields().iter().map(|f| format!("\"{}\"", f.name())).collect();
    ctx.register_parquet("d", outputs[0].display().to_string(), Default::default()).await.unwrap();
    ctx.register_parquet("r", outputs[1].display().to_string(), Default::default()).await.unwrap();
    let cols = names.join(", ");
    let count = |sql: String| {
        let ctx = ctx.clone();
        async move {
            let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
            batches.iter().map(|b| b.num_rows()).sum::<usize>()
        }
    };
    let total = count(format!("SELECT {cols} FROM r")).await;
    assert!(total > 100, "{total} rows");
    assert_eq!(count(format!("SELECT {cols} FROM d")).await, total);
    assert_eq!(count(format!("SELECT {cols} FROM r EXCEPT ALL SELECT {cols} FROM d")).await, 0);
    assert_eq!(count(format!("SELECT {cols} FROM d EXCEPT ALL SELECT {cols} FROM r")).await, 0);
}

/// Static validation of a recipe whose loads list their fields: types are unknown until data
/// is seen, so only names are checked (an incremental append of a dataset onto itself, the
/// shape of a public recipe, SYS_Org_Limit_Monitoring).
#[test]
fn recipes_validate_without_data() {
    let recipe = r#"{"version": "67.0", "nodes": {
      "NEW": {"action": "load", "sources": [], "parameters": {"dataset": {"type": "connectedDataset", "sourceObjectName": "Snapshot__c"}, "fields": ["Id", "Value__c"]}},
      "OLD": {"action": "load", "sources": [], "parameters": {"dataset": {"type": "analyticsDataset", "name": "Limits"}, "fields": ["Value__c", "Id", "Source"]}},
      "SRC": {"action": "formula", "sources": ["NEW"], "parameters": {"expressionType": "SQL", "fields": [{"type": "TEXT", "name": "Source", "formulaExpression": "'Local'"}]}},
      "J": {"action": "join", "sources": ["SRC", "OLD"], "parameters": {"joinType": "LOOKUP", "leftKeys": ["Id", "Source"], "rightKeys": ["Id", "Source"], "rightQualifier": "OL"}},
      "F": {"action": "filter", "sources": ["J"], "parameters": {"filterExpressions": [{"type": "TEXT", "field": "OL.Id", "operator": "IS_NULL", "operands": []}]}},
      "D": {"action": "schema", "sources": ["F"], "parameters": {"slice": {"mode": "DROP", "ignoreMissingFields": true, "fields": ["OL.Id", "OL.Source", "OL.Value__c"]}}},
      "A": {"action": "appendV2", "sources": ["D", "OLD"], "parameters": {"fieldMappings": []}},
      "S": {"action": "save", "sources": ["A"], "parameters": {"dataset": {"type": "analyticsDataset", "name": "Limits", "label": "Limits"}}}
    }}"#;
    swell_engine::validate(recipe).unwrap();
    // the .wdf form that stores a recipe as its target dataflow: ["{}", "<recipe json>"]
    let wdf = serde_json::json!(["{}", recipe]).to_string();
    assert_eq!(swell_engine::validate(&wdf).unwrap().nodes.len(), 8);
    let broken = recipe.replace(r#""leftKeys": ["Id", "Source"]"#, r#""leftKeys": ["Id", "Sorce"]"#);
    let problems = swell_engine::validate(&broken).unwrap_err().to_string();
    assert!(
        problems.contains("J.parameters.leftKeys[1]: unknown field 'Sorce' (did you mean 'Source'?)"),
        "{problems}"
    );
}

/// CSV columns of codes keep their form: a leading zero or an exponent makes a column text,
/// plain numbers stay numbers.
#[tokio::test]
async fn csv_codes_stay_text() {
    use swell_engine::datafusion::arrow::datatypes::DataType;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Place.csv");
    std::fs::write(&path, "Zip,ProfileId,Ratio,Amount,Count\n02134,00e1,1e5,1.5,3\n10001,00e9,2,-0.25,-4\n").unwrap();
    let ctx = swell_engine::datafusion::prelude::SessionContext::new();
    let df = swell_engine::source::read_csv(&ctx, vec![path.display().to_string()]).await.unwrap();
    let types: Vec<(String, DataType)> =
        df.schema().fields().iter().map(|f| (f.name().clone(), f.data_type().clone())).collect();
    assert_eq!(
        types,
        [
            ("Zip".to_string(), DataType::Utf8),
            ("ProfileId".to_string(), DataType::Utf8),
            ("Ratio".to_string(), DataType::Utf8),
            ("Amount".to_string(), DataType::Float64),
            ("Count".to_string(), DataType::Int64),
        ]
    );
    let rows = df.collect().await.unwrap();
    let zip = rows[0].column(0);
    assert_eq!(swell_engine::datafusion::arrow::array::AsArray::as_string::<i32>(zip).value(0), "02134");
}

/// A definition that does not check runs nothing; each node reports its own problems only.
#[tokio::test]
async fn invalid_nodes_report_their_own_problems() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, objects) = (tmp.path().join("data"), tmp.path().join("objects"));
    write_sales(&objects, 10);
    let flow = r#"{
      "d": {"action": "sfdcDigest", "parameters": {"object": "Sales", "fields": [{"name": "Region"}, {"name": "Amount"}]}},
      "c": {"action": "computeExpression", "parameters": {"source": "d", "mergeWithSource": true,
        "computedFields": [{"name": "Double", "type": "Numeric", "saqlExpression": "Amout * 2"}]}},
      "f": {"action": "filter", "parameters": {"source": "c", "filter": "Regoin:EQ:West"}},
      "r": {"action": "sfdcRegister", "parameters": {"alias": "Checked", "name": "Checked", "source": "f"}}
    }"#;
    let run = Run::new(Dataflow::parse(flow).unwrap());
    let err = run.execute(options(&data, &objects)).await.unwrap_err();
    assert!(matches!(err, EngineError::Invalid(_)), "{err}");
    let nodes = run.progress().snapshot();
    let message = |name: &str| nodes.iter().find(|n| n.name == name).unwrap().message.clone();
    // the nodes with problems failed; the others never ran: aborted, without a message
    let status = |name: &str| nodes.iter().find(|n| n.name == name).unwrap().status;
    assert_eq!((status("c"), status("f")), (NodeStatus::Failure, NodeStatus::Failure), "{nodes:?}");
    assert_eq!((status("d"), status("r")), (NodeStatus::Cancelled, NodeStatus::Cancelled), "{nodes:?}");
    assert_eq!(message("d"), None);
    assert!(message("c").is_some_and(|m| m.starts_with("c.") && m.contains("Amout") && !m.contains("Regoin")));
    assert!(message("f").is_some_and(|m| m.starts_with("f.") && m.contains("Regoin") && !m.contains("Amout")));
    assert_eq!((message("d"), message("r")), (None, None));
    assert!(err.to_string().contains("Amout") && err.to_string().contains("Regoin"), "the error has them all");
}

/// Inputs that once crashed a fuzz target (`fuzz/regressions/<target>/`, kept by
/// `fuzz/run.sh`): each is read again and must be answered, never crash.
#[test]
fn fuzz_regressions_are_answered() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    for target in ["saql", "dataflow", "recipe", "formula"] {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else { continue };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let text = String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap()).to_string();
            let answered = swell_engine::on_deep_stack(move || match target {
                "saql" => drop(swell_engine::saql::parse(&text)),
                "formula" => drop(swell_engine::recipe::sql::parse(&text)),
                _ => drop(swell_engine::validate(&text)),
            });
            assert!(answered.is_ok(), "{target}/{}: {answered:?}", entry.path().display());
        }
    }
}

/// issue 12 (found by a hostile probe): appends of appends double the rows at each step; a
/// node that produces more rows than the limit fails the run, naming it, instead of filling the
/// disk with scratch files.
#[tokio::test]
async fn a_node_that_multiplies_rows_past_the_limit_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, objects) = (tmp.path().join("data"), tmp.path().join("objects"));
    write_sales(&objects, 10);
    let mut nodes = serde_json::Map::new();
    nodes.insert(
        "a0".into(),
        serde_json::json!({"action": "sfdcDigest", "parameters": {"object": "Sales", "fields": [{"name": "Region"}]}}),
    );
    nodes.insert(
        "b0".into(),
        serde_json::json!({"action": "filter", "parameters": {"source": "a0", "filter": "Region:N:x"}}),
    );
    for i in 1..12 {
        let (a, b) = (format!("a{}", i - 1), format!("b{}", i - 1));
        nodes.insert(format!("a{i}"), serde_json::json!({"action": "append", "parameters": {"sources": [a, b]}}));
        nodes.insert(format!("b{i}"), serde_json::json!({"action": "append", "parameters": {"sources": [b, a]}}));
    }
    nodes.insert(
        "r".into(),
        serde_json::json!({"action": "sfdcRegister", "parameters": {"alias": "Many", "name": "Many", "source": "a11"}}),
    );
    let flow = Dataflow::parse(&serde_json::Value::Object(nodes).to_string()).unwrap();
    let mut o = options(&data, &objects);
    o.max_node_rows = 5_000;
    let err = Run::new(flow).execute(o).await.unwrap_err();
    assert!(err.to_string().contains("more than 5000 rows"), "{err}");
    assert!(Dir::new(&data).dataset("Many").unwrap().current().unwrap().is_none());
}

/// issue 12 (found by a hostile probe): an error raised while rows stream was reported on the
/// node that pulled them (the register), not on the node whose operators raised it.
#[tokio::test]
async fn a_runtime_failure_is_reported_on_the_node_that_raised_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, objects) = (tmp.path().join("data"), tmp.path().join("objects"));
    write_sales(&objects, 100);
    let flow = Dataflow::parse(
        &serde_json::json!({
            "digest": {"action": "sfdcDigest", "parameters": {"object": "Sales", "fields": [{"name": "Region"}]}},
            "shout": {"action": "computeExpression", "parameters": {"source": "digest", "mergeWithSource": true,
                "computedFields": [{"name": "Loud", "type": "Text", "saqlExpression": "upper(Region)"}]}},
            "register": {"action": "sfdcRegister", "parameters": {"alias": "Loud", "name": "Loud", "source": "shout"}}
        })
        .to_string(),
    )
    .unwrap();
    let mut o = options(&data, &objects);
    o.max_node_rows = 50;
    let run = Run::new(flow);
    let progress = run.progress();
    match run.execute(o).await.unwrap_err() {
        EngineError::Node { node, message } => {
            assert_eq!(node, "digest", "{message}");
            assert!(message.contains("more than 50 rows"), "{message}");
        }
        other => panic!("{other}"),
    }
    let nodes = progress.snapshot();
    let node = |name: &str| nodes.iter().find(|n| n.name == name).unwrap();
    assert_eq!(node("digest").status, NodeStatus::Failure);
    assert!(node("digest").message.as_deref().is_some_and(|m| m.contains("more than 50 rows")), "{nodes:?}");
    assert_eq!(node("register").message, None, "{nodes:?}");
    assert_eq!(node("register").status, NodeStatus::Cancelled, "never ran: aborted, {nodes:?}");
}

/// An export writes Parquet and a CSV made from it: a multi-value field is its values joined
/// by `;` in the CSV (a list in Parquet), and the node's rows are counted once (the probe saw
/// the CSV fail on a multi-value field and the rows counted twice).
#[tokio::test]
async fn an_export_writes_multi_value_fields_and_counts_rows_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, objects) = (tmp.path().join("data"), tmp.path().join("objects"));
    std::fs::create_dir_all(&objects).unwrap();
    std::fs::write(objects.join("Account.csv"), "Id,Name\nA1,Acme\nA2,Globex\nA3,Initech\n").unwrap();
    std::fs::write(objects.join("Contact.csv"), "Id,AccountId,Email\nC1,A1,x@acme\nC2,A1,y@acme\nC3,A2,z@globex\n")
        .unwrap();
    let flow = r#"{
      "a": {"action": "sfdcDigest", "parameters": {"object": "Account", "fields": [{"name": "Id"}, {"name": "Name"}]}},
      "c": {"action": "sfdcDigest", "parameters": {"object": "Contact", "fields": [{"name": "Id"}, {"name": "AccountId"}, {"name": "Email"}]}},
      "m": {"action": "augment", "parameters": {"left": "a", "left_key": ["Id"], "right": "c", "right_key": ["AccountId"],
            "right_select": ["Email"], "relationship": "Contacts", "operation": "LookupMultiValue"}},
      "Out": {"action": "export", "parameters": {"source": "m"}}
    }"#;
    let outcome = Run::new(Dataflow::parse(flow).unwrap()).execute(options(&data, &objects)).await.unwrap();
    let node = outcome.nodes.iter().find(|n| n.name == "Out").unwrap();
    assert_eq!((node.input_rows, node.output_rows), (3, 3), "{node:?}");
    let dir = &outcome.exports[0];
    let csv = std::fs::read_to_string(dir.join("data.csv")).unwrap();
    let mut lines: Vec<&str> = csv.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        ["A1,Acme,x@acme;y@acme", "A2,Globex,z@globex", "A3,Initech,", "Id,Name,Contacts.Email"],
        "{csv}"
    );
    assert!(dir.join("data.parquet").is_file());
}

/// Runs `flow` on the objects in `dir/objects` into `dir/data` and answers `sql` over its one
/// dataset (table `t`), as pretty-printed text.
async fn run_and_query(flow: &str, dir: &Path, sql: &str) -> String {
    let out = Run::new(Dataflow::parse(flow).unwrap())
        .execute(options(&dir.join("data"), &dir.join("objects")))
        .await
        .unwrap();
    let ctx = swell_engine::datafusion::prelude::SessionContext::new();
    ctx.register_parquet("t", out.datasets[0].dir.join("part-0.parquet").display().to_string(), Default::default())
        .await
        .unwrap();
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    swell_engine::datafusion::arrow::util::pretty::pretty_format_batches(&batches).unwrap().to_string()
}

/// computeRelative's previous() and next() (swell's neighbours operator) against a plain
/// oracle: 20,000 rows in 3,000 partitions of two fields (one partition of 4,000 rows spans
/// several batches; null and empty keys are partitions too), ordered by a date descending
/// with ties broken by Id, with defaults, `current()` defaults and SAQL reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previous_and_next_rows_match_an_oracle() {
    struct Row {
        id: String,
        grp: String,
        sub: Option<i64>,
        day: u32,
        amount: Option<i64>,
    }
    let rows: Vec<Row> = (0..20_000u64)
        .map(|i| {
            let mix = i.wrapping_mul(2_654_435_761) % 1_000_003;
            Row {
                id: format!("R{i:05}"),
                grp: if i % 97 == 0 {
                    String::new()
                } else if i % 5 == 0 {
                    "BIG".into()
                } else {
                    format!("G{}", mix % 1500)
                },
                sub: (i % 11 != 0).then_some((mix % 2) as i64),
                day: (mix % 28 + 1) as u32,
                amount: (i % 13 != 0).then_some((mix % 5000) as i64),
            }
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let objects = tmp.path().join("objects");
    std::fs::create_dir_all(&objects).unwrap();
    let mut csv = String::from("Id,Grp,Sub,Day,Amount\n");
    for r in &rows {
        let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        csv.push_str(&format!("{},{},{},2024-02-{:02},{}\n", r.id, r.grp, opt(r.sub), r.day, opt(r.amount)));
    }
    std::fs::write(objects.join("Rows.csv"), csv).unwrap();
    let flow = r#"{
      "d": {"action": "sfdcDigest", "parameters": {"object": "Rows", "fields": [
          {"name": "Id"}, {"name": "Grp"}, {"name": "Sub"}, {"name": "Day"}, {"name": "Amount"}]}},
      "rel": {"action": "computeRelative", "parameters": {"source": "d", "partitionBy": ["Grp", "Sub"],
          "orderBy": [{"name": "Day", "direction": "desc"}, {"name": "Id", "direction": "asc"}],
          "computedFields": [
            {"name": "Prev", "expression": {"sourceField": "Amount", "offset": "previous()", "default": 0}},
            {"name": "NextOwn", "expression": {"sourceField": "Amount", "offset": "next()", "default": "current()"}},
            {"name": "Delta", "type": "Numeric", "saqlExpression": "Amount - previous(Amount)"},
            {"name": "NextId", "type": "Text", "saqlExpression": "next(Id)"}]}},
      "r": {"action": "sfdcRegister", "parameters": {"alias": "Rel", "name": "Rel", "source": "rel"}}
    }"#;
    let sql = r#"SELECT "Id", CAST("Prev" AS DOUBLE), CAST("NextOwn" AS DOUBLE), CAST("Delta" AS DOUBLE), "NextId"
                 FROM t ORDER BY "Id""#;
    let text = run_and_query(flow, tmp.path(), sql).await;
    let got: Vec<Vec<String>> = text
        .lines()
        .filter(|l| l.starts_with("| R"))
        .map(|l| l.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect())
        .collect();

    // the oracle: partitions by (Grp, Sub), empty and null values one partition each
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&rows[a], &rows[b]);
        (&x.grp, x.sub).cmp(&(&y.grp, y.sub)).then(y.day.cmp(&x.day)).then(x.id.cmp(&y.id))
    });
    let num = |v: Option<i64>| v.map(|v| format!("{}.0", v)).unwrap_or_default();
    let mut expected = vec![Vec::new(); rows.len()];
    for (pos, &i) in order.iter().enumerate() {
        let same = |j: usize| rows[j].grp == rows[i].grp && rows[j].sub == rows[i].sub;
        let prev = (pos > 0).then(|| order[pos - 1]).filter(|&j| same(j));
        let next = order.get(pos + 1).copied().filter(|&j| same(j));
        let r = &rows[i];
        let prev_amount = prev.map(|j| rows[j].amount);
        expected[i] = vec![
            r.id.clone(),
            prev_amount.map_or("0.0".to_string(), num),
            next.map_or(num(r.amount), |j| num(rows[j].amount)),
            num(r.amount.zip(prev_amount.flatten()).map(|(a, p)| a - p)),
            next.map(|j| rows[j].id.clone()).unwrap_or_default(),
        ];
    }
    assert_eq!(got.len(), rows.len());
    let wrong: Vec<_> = got.iter().zip(&expected).filter(|(g, e)| g != e).take(5).collect();
    assert!(wrong.is_empty(), "rows differing (got, expected): {wrong:?}");
}

/// `X_sec_epoch` is whole seconds, floored as `X_day_epoch` is days: the last millisecond of a
/// day stays in that day's last second (it was rounded into the next day), before 1970 too.
#[tokio::test]
async fn second_epochs_are_floored() {
    let tmp = tempfile::tempdir().unwrap();
    let objects = tmp.path().join("objects");
    std::fs::create_dir_all(&objects).unwrap();
    std::fs::write(
        objects.join("T.csv"),
        "Id,D\n1,2024-02-29T23:59:59.999Z\n2,1970-01-01T00:00:00.500Z\n3,1969-12-31T23:59:59.500Z\n",
    )
    .unwrap();
    let flow = r#"{
      "d": {"action": "sfdcDigest", "parameters": {"object": "T", "fields": [
          {"name": "Id"}, {"name": "D", "type": "Date", "format": "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"}]}},
      "r": {"action": "sfdcRegister", "parameters": {"alias": "T", "name": "T", "source": "d"}}
    }"#;
    let sql = r#"SELECT CAST("D_sec_epoch" AS BIGINT), CAST("D_day_epoch" AS BIGINT), "D_Day" FROM t ORDER BY "Id""#;
    let text = run_and_query(flow, tmp.path(), sql).await;
    let rows: Vec<String> = text.lines().skip(3).filter(|l| l.starts_with("| ")).map(|l| l.replace(' ', "")).collect();
    assert_eq!(rows, ["|1709251199|19782|29|", "|0|0|01|", "|-1|-1|31|"], "{text}");
}

/// A measure past 18 digits fails the run with the field's name, not Arrow's message alone.
#[tokio::test]
async fn a_measure_past_its_digits_names_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let objects = tmp.path().join("objects");
    write_sales(&objects, 10);
    let flow = r#"{
      "d": {"action": "sfdcDigest", "parameters": {"object": "Sales", "fields": [{"name": "Amount"}]}},
      "c": {"action": "computeExpression", "parameters": {"source": "d", "mergeWithSource": true, "computedFields": [
          {"name": "Huge", "type": "Numeric", "precision": 18, "scale": 2, "saqlExpression": "Amount * 1e17"}]}},
      "r": {"action": "sfdcRegister", "parameters": {"alias": "Huge", "name": "Huge", "source": "c"}}
    }"#;
    let data = tmp.path().join("data");
    let e = Run::new(Dataflow::parse(flow).unwrap()).execute(options(&data, &objects)).await.unwrap_err().to_string();
    assert!(e.contains("field 'Huge' cannot be stored as a measure of 18 digits"), "{e}");
    assert!(e.contains("too large"), "{e}");
}
