//! Pages over what was broken outside swell: a version's files damaged on disk (cut short,
//! overwritten), text stored through the API with control characters in it. Each page names
//! the damage; nothing unreadable is made current; no control character reaches a page.

mod common;

use axum::http::StatusCode;
use common::{FORM, Ui, csrf_of, quick_flow};

#[tokio::test]
async fn a_damaged_version_is_named_on_its_page_and_never_restored() {
    let ui = Ui::new().await;
    ui.object("Account", "Id,Name,Amount\n001A,Acme,10.5\n001B,Bolt,3\n").await;
    let flow = ui.dataflow("Accounts_Flow", quick_flow()).await;
    for _ in 0..4 {
        let job = ui.start(&flow).await;
        ui.wait_for(&job, |s| s == "Success").await;
    }
    let d = ui.store.dataset_by_name("Accounts").await.unwrap().unwrap();
    let current = d.current_version_id.clone().unwrap();
    let older: Vec<_> =
        ui.store.dataset_versions(&d.id).await.unwrap().into_iter().filter(|v| v.id != current).collect();
    assert_eq!(older.len(), 3);
    let folder = |v: &swell_store::DatasetVersionRecord| {
        ui.data.root().join("datasets").join("Accounts").join("versions").join(&v.storage_version)
    };
    let parquet_of = |v: &swell_store::DatasetVersionRecord| {
        std::fs::read_dir(folder(v))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "parquet"))
            .unwrap()
    };
    // one version's metadata overwritten; another's data file cut short; the third's data
    // pages overwritten with its footer whole (only reading the rows finds that)
    std::fs::write(folder(&older[0]).join("metadata.json"), "{\"versionId\": ").unwrap();
    let bytes = std::fs::read(parquet_of(&older[1])).unwrap();
    std::fs::write(parquet_of(&older[1]), &bytes[..bytes.len() / 2]).unwrap();
    let mut bytes = std::fs::read(parquet_of(&older[2])).unwrap();
    let footer = u32::from_le_bytes(bytes[bytes.len() - 8..bytes.len() - 4].try_into().unwrap()) as usize;
    let data_end = bytes.len() - 8 - footer;
    bytes[4..data_end].fill(0xAB);
    std::fs::write(parquet_of(&older[2]), &bytes).unwrap();

    let session = ui.sign_in_admin().await;
    let cookie = ("cookie", session.as_str());
    let (_, _, page) = ui.request("GET", &format!("/ui/data/{}", d.id), &[cookie], "").await;
    let csrf = csrf_of(&page);
    for v in &older {
        let (s, _, page) = ui.request("GET", &format!("/ui/data/{}?version={}", d.id, v.id), &[cookie], "").await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(page.contains("are damaged") && page.contains(v.id.as_str()), "{page}");
        let root = ui.data.root().display().to_string();
        assert!(!page.contains(&root), "the server's own paths are not shown: {page}");
        let body = format!("csrf={csrf}&version={}", v.id);
        let (s, _, page) = ui.request("POST", &format!("/ui/data/{}/restore", d.id), &[FORM, cookie], &body).await;
        assert_eq!(s, StatusCode::CONFLICT, "{page}");
        assert!(page.contains("are damaged"), "{page}");
        // the API says the same
        let (s, e) = ui
            .api(
                "POST",
                &format!("/services/data/v62.0/wave/datasets/{}/versions", d.id),
                Some(serde_json::json!({"sourceVersion": {"id": v.id.as_str()}})),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert!(e[0]["message"].as_str().unwrap().contains("are damaged"), "{e}");
    }
    let after = ui.store.dataset_by_name("Accounts").await.unwrap().unwrap();
    assert_eq!(after.current_version_id, Some(current), "nothing damaged was made current");
    assert_eq!(ui.store.dataset_versions(&d.id).await.unwrap().len(), 4, "no version was recorded");
    let (s, _, page) = ui.request("GET", &format!("/ui/data/{}", d.id), &[cookie], "").await;
    assert!(s == StatusCode::OK && page.contains("The first 2 rows"), "the current version reads: {page}");
}

#[tokio::test]
async fn control_characters_stored_through_the_api_never_reach_a_page() {
    let ui = Ui::new().await;
    let admin = swell_store::admin_id();
    ui.store.record_dataset_version(&admin, "Nul", "Bad\u{0}La\u{1b}[31mb\u{202E}el", "none", 0, None).await.unwrap();
    let session = ui.sign_in_admin().await;
    let (s, _, page) = ui.request("GET", "/ui/data?q=nul", &[("cookie", session.as_str())], "").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("Bad\u{FFFD}La\u{FFFD}[31mb\u{FFFD}el"), "{page}");
    assert!(!page.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')), "{page:?}");
    assert!(!page.contains('\u{202E}'), "no direction override reaches a page");
}
