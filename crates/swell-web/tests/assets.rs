//! The pages of assets over HTTP, in process: Dataflows & Recipes (list, schedule dialog,
//! definition editor and history), Connections (add, edit, objects, sync) and Data
//! (datasets, rows, versions, restore). (The browser walks the same pages in `browser.rs`.)

mod common;

use axum::http::StatusCode;
use common::{FORM, Ui, askama_escape, between, csrf_of, enc, follow, quick_flow};
use swell_core::Role;

#[tokio::test]
async fn dataflows_and_recipes_list_with_last_run_schedule_in_words_next_run_and_run_now() {
    let ui = Ui::new().await;
    ui.user("vic@example.com", Role::Viewer).await;
    ui.object("Account", "Id,Name\n001A,Acme\n").await;
    let flow = ui.dataflow("Accounts_Flow", quick_flow()).await;
    let recipe = serde_json::json!({
        "version": "62.0",
        "nodes": {
            "LOAD": {"action": "load", "sources": [], "parameters": {"dataset": {"type": "connectedDataset", "connectionName": "SFDC_LOCAL", "sourceObjectName": "Account"}, "fields": ["Id", "Name"]}},
            "SAVE": {"action": "save", "sources": ["LOAD"], "parameters": {"dataset": {"type": "analyticsDataset", "name": "Prepped", "label": "Prepped"}, "fields": []}}
        },
        "ui": {"nodes": {}, "connectors": []},
        "runMode": "full"
    });
    let (s, r) = ui
        .api(
            "POST",
            "/services/data/v62.0/wave/recipes",
            Some(serde_json::json!({"name": "Prep", "label": "Prep <accounts>", "format": "R3", "recipeDefinition": recipe})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (recipe_id, target) =
        (r["id"].as_str().unwrap().to_string(), r["targetDataflowId"].as_str().unwrap().to_string());
    let schedule = serde_json::json!({"frequency": "weekly", "daysOfWeek": ["monday", "friday"],
        "time": {"hour": 6, "minute": 30, "timeZone": "America/New_York"}});
    let (s, put) =
        ui.api("PUT", &format!("/services/data/v62.0/wave/asset/{recipe_id}/schedule"), Some(schedule)).await;
    assert_eq!(s, StatusCode::OK, "{put}");
    let next = chrono::DateTime::parse_from_rfc3339(put["nextScheduledDate"].as_str().unwrap()).unwrap();
    let job = ui.start(&flow).await;
    ui.wait_for(&job, |s| s == "Success").await;

    let viewer = ui.sign_in("vic@example.com").await;
    let (s, _, page) = ui.request("GET", "/ui/dataflows", &[("cookie", &viewer)], "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page.matches("<h1>").count(), 1);
    assert!(page.contains("aria-current=\"page\">Dataflows &amp; Recipes"), "its section is marked");
    let flow_row = page.split(&format!("id=\"asset-{flow}\"")).nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(flow_row.contains(&format!("/ui/jobs/{job}")) && flow_row.contains("✓</span> Success"), "{flow_row}");
    assert!(flow_row.contains("Not scheduled"), "{flow_row}");
    let recipe_row = page.split(&format!("id=\"asset-{target}\"")).nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(recipe_row.contains("Prep &#60;accounts&#62;") && recipe_row.contains("Recipe"), "{recipe_row}");
    assert!(recipe_row.contains("Weekly on Monday and Friday at 06:30 (America/New_York)"), "{recipe_row}");
    assert!(recipe_row.contains("Never run"), "{recipe_row}");
    // the next run is the API's, to the second
    let shown = next.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert!(recipe_row.contains(&format!("datetime=\"{shown}\"")), "{shown} in {recipe_row}");
    assert!(!page.contains("Run now"), "a viewer may not run");
    let csrf = csrf_of(&page);
    let (s, _, refused) = ui
        .request("POST", &format!("/ui/dataflows/{target}/run"), &[FORM, ("cookie", &viewer)], &format!("csrf={csrf}"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(refused.contains("operator"), "{refused}");
    // search by any words of name or label
    let (_, _, found) = ui.request("GET", "/ui/dataflows?q=ACCOUNTS+prep", &[("cookie", &viewer)], "").await;
    assert!(found.contains(&format!("asset-{target}")) && !found.contains(&format!("asset-{flow}")));
    let (_, _, none) = ui.request("GET", "/ui/dataflows?q=nothing", &[("cookie", &viewer)], "").await;
    assert!(none.contains("No dataflow or recipe matches."));

    // Run now: with htmx a notice that links the job; without, on to the job's page
    let admin = ui.sign_in_admin().await;
    let (_, _, page) = ui.request("GET", "/ui/dataflows", &[("cookie", &admin)], "").await;
    let csrf = csrf_of(&page);
    let (s, _, notice) = ui
        .request(
            "POST",
            &format!("/ui/dataflows/{target}/run"),
            &[FORM, ("cookie", &admin), ("hx-request", "true")],
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{notice}");
    assert!(notice.contains("Prep &lt;accounts&gt; is queued") && notice.contains("/ui/jobs/0eP"), "{notice}");
    let run = notice.split("/ui/jobs/").nth(1).unwrap()[..18].to_string();
    ui.wait_for(&run, |s| s == "Success").await;
    let (s, h, _) = ui
        .request("POST", &format!("/ui/dataflows/{flow}/run"), &[FORM, ("cookie", &admin)], &format!("csrf={csrf}"))
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(h["location"].to_str().unwrap().starts_with("/ui/jobs/03C"), "{h:?}");
    let (s, _, page) = ui.request("GET", "/ui/dataflows/0Fb000000000000AAA/run", &[("cookie", &admin)], "").await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED, "{page}");
    let (s, _, page) = ui
        .request(
            "POST",
            &format!("/ui/dataflows/{}/run", swell_core::SalesforceId::parse("02KSw0000099999").unwrap()),
            &[FORM, ("cookie", &admin)],
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{page}");
}

#[tokio::test]
async fn a_dataflows_page_saves_its_schedule_as_the_api_would_and_names_each_problem() {
    let ui = Ui::new().await;
    let flow = ui.dataflow("Scheduled", quick_flow()).await;
    let session = ui.sign_in_admin().await;
    let cookie = ("cookie", session.as_str());
    let (s, _, page) = ui.request("GET", &format!("/ui/dataflows/{flow}"), &[cookie], "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(between(&page, "id=\"schedule-words\">", "</p>").contains("Not scheduled"));
    let csrf = csrf_of(&page);
    // hourly on weekdays until 18:00: saved, said in words, the next run the API's
    let body = format!(
        "csrf={csrf}&frequency=hourly&hour=6&minute=15&timeZone=Europe%2FParis&hourlyInterval=2&lastHour=18\
         &daysOfWeek=monday&daysOfWeek=tuesday&daysOfWeek=wednesday&daysOfWeek=thursday&daysOfWeek=friday\
         &daysOfMonth=3&weekInMonth=first&dayInWeek=monday&triggerRule="
    );
    let (s, h, _) = ui.request("POST", &format!("/ui/dataflows/{flow}/schedule"), &[FORM, cookie], &body).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h["location"].to_str().unwrap(), format!("/ui/dataflows/{flow}"));
    let notice = h["set-cookie"].to_str().unwrap().to_string();
    assert!(notice.contains("Schedule%20saved%3A%20Every%202%20hours"), "{notice}");
    let (_, api) = ui.api("GET", &format!("/services/data/v62.0/wave/asset/{flow}/schedule"), None).await;
    assert_eq!(api["frequency"], "hourly");
    assert_eq!(api["daysOfWeek"], serde_json::json!(["monday", "tuesday", "wednesday", "thursday", "friday"]));
    assert_eq!((api["hourlyInterval"].as_i64(), api["lastHour"].as_i64()), (Some(2), Some(18)));
    let next = chrono::DateTime::parse_from_rfc3339(api["nextScheduledDate"].as_str().unwrap()).unwrap();
    let (_, _, page) = ui.request("GET", &format!("/ui/dataflows/{flow}"), &[cookie], "").await;
    let words = between(&page, "id=\"schedule-words\">", "</p>");
    assert!(words.contains("Every 2 hours from 06:15 until 18:00, Monday to Friday (Europe/Paris)"), "{words}");
    let iso = next.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert!(words.contains(&format!("datetime=\"{iso}\"")), "{iso} in {words}");
    assert!(page.contains("<option value=\"hourly\" selected>"), "the dialog shows the schedule");
    // the dialog has no notification setting: a save keeps the one set through the API; a
    // key sent twice keeps its first value
    let mut with_level = api.clone();
    with_level["notificationLevel"] = serde_json::json!("warnings");
    let (s, _) = ui.api("PUT", &format!("/services/data/v62.0/wave/asset/{flow}/schedule"), Some(with_level)).await;
    assert_eq!(s, StatusCode::OK);
    let body =
        format!("csrf={csrf}&frequency=daily&frequency=none&hour=5&hour=9&minute=0&timeZone=UTC&timeZone=Asia%2FTokyo");
    let (s, _, _) = ui.request("POST", &format!("/ui/dataflows/{flow}/schedule"), &[FORM, cookie], &body).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, api) = ui.api("GET", &format!("/services/data/v62.0/wave/asset/{flow}/schedule"), None).await;
    assert_eq!(api["frequency"], "daily", "{api}");
    assert_eq!(
        (api["time"]["hour"].as_i64(), api["time"]["timeZone"]["zoneId"].as_str()),
        (Some(5), Some("UTC")),
        "{api}"
    );
    assert_eq!(api["notificationLevel"], "warnings", "{api}");
    // a form without its frequency (lost, or empty) never unschedules: it is refused
    for body in [format!("csrf={csrf}&hour=7&minute=0"), format!("csrf={csrf}&frequency=+&hour=7")] {
        let (s, _, page) = ui.request("POST", &format!("/ui/dataflows/{flow}/schedule"), &[FORM, cookie], &body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {page}");
        assert!(between(&page, "id=\"schedule-problems\"", "</div>").contains("frequency: is required"), "{page}");
    }
    let (_, api) = ui.api("GET", &format!("/services/data/v62.0/wave/asset/{flow}/schedule"), None).await;
    assert_eq!(api["frequency"], "daily", "{api}");
    // mistakes: each named by its field, the form as sent kept, nothing saved
    let body = format!("csrf={csrf}&frequency=weekly&hour=7&minute=75&timeZone=Mars%2FOlympus");
    let (s, _, page) = ui.request("POST", &format!("/ui/dataflows/{flow}/schedule"), &[FORM, cookie], &body).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let problems = between(&page, "id=\"schedule-problems\"", "</div>");
    for field in ["time.minute", "time.timeZone", "daysOfWeek"] {
        assert!(problems.contains(field), "{field} in {problems}");
    }
    assert!(page.contains("<details class=\"dialog\" open>") && page.contains("<option value=\"weekly\" selected>"));
    assert!(page.contains("value=\"Mars/Olympus\""), "what was typed is kept");
    let (_, api) = ui.api("GET", &format!("/services/data/v62.0/wave/asset/{flow}/schedule"), None).await;
    assert_eq!(api["frequency"], "daily", "the stored schedule is unchanged");
    // an event rule the use case refuses (it names no dataflow or recipe that exists)
    let missing = swell_core::SalesforceId::parse("02KSw0000099999").unwrap();
    let body =
        format!("csrf={csrf}&frequency=eventdriven&triggerRule=%24ALL_SALESFORCE_OBJECTS+AND+dataflow%3A{missing}");
    let (s, _, page) = ui.request("POST", &format!("/ui/dataflows/{flow}/schedule"), &[FORM, cookie], &body).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{page}");
    assert!(between(&page, "id=\"schedule-problems\"", "</div>").contains(&missing.to_string()));
    // unscheduled
    let (s, h, _) = ui
        .request(
            "POST",
            &format!("/ui/dataflows/{flow}/schedule"),
            &[FORM, cookie],
            &format!("csrf={csrf}&frequency=none"),
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(h["set-cookie"].to_str().unwrap().contains("Not%20scheduled%20any%20more"));
    let (_, api) = ui.api("GET", &format!("/services/data/v62.0/wave/asset/{flow}/schedule"), None).await;
    assert_eq!(api["frequency"], "none", "{api}");
}

#[tokio::test]
async fn a_connections_schedule_is_time_based_saved_as_the_api_would_and_only_by_who_may() {
    let ui = Ui::new().await;
    ui.user("vic@example.com", Role::Viewer).await;
    let admin_id = swell_store::admin_id();
    let c = ui.store.create_connector(&admin_id, "Sched_Conn", "Nightly files", None, "AmazonS3", &[]).await.unwrap();
    let at = format!("/ui/connections/{}", c.id);
    let api_schedule = format!("/services/data/v62.0/wave/asset/{}/schedule", c.id);

    // a viewer reads the schedule and has no dialog; a post is refused before it is read
    let vic = ui.sign_in("vic@example.com").await;
    let (s, _, page) = ui.request("GET", &at, &[("cookie", &vic)], "").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(between(&page, "id=\"schedule-words\">", "</dd>").contains("Not scheduled"), "{page}");
    assert!(!page.contains("schedule-form"), "no dialog for a viewer");
    let body = format!("csrf={}&frequency=weekly&minute=99", csrf_of(&page));
    let (s, _, _) = ui.request("POST", &format!("{at}/schedule"), &[FORM, ("cookie", &vic)], &body).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // the role before the asset: whether an id exists is not told to who may not schedule
    let unknown = "/ui/connections/0ItSw0000099999/schedule";
    let (s, _, _) = ui.request("POST", unknown, &[FORM, ("cookie", &vic)], &body).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) =
        ui.request("POST", "/ui/dataflows/02KSw0000099999/schedule", &[FORM, ("cookie", &vic)], &body).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // the admin's dialog offers every time-based frequency, not event-driven
    let admin = ui.sign_in_admin().await;
    let cookie = ("cookie", admin.as_str());
    let (_, _, page) = ui.request("GET", &at, &[cookie], "").await;
    assert!(page.contains("action=\"/ui/connections/") && page.contains("<option value=\"monthlyrelative\""));
    assert!(!page.contains("value=\"eventdriven\"") && !page.contains("triggerRule"), "time-based only");
    let csrf = csrf_of(&page);
    let body = format!(
        "csrf={csrf}&frequency=weekly&hour=2&minute=30&timeZone=America%2FNew_York&daysOfWeek=sunday&hourlyInterval=1"
    );
    let (s, h, _) = ui.request("POST", &format!("{at}/schedule"), &[FORM, cookie], &body).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h["location"].to_str().unwrap(), at);
    let page = follow(&ui, &admin, &h).await;
    assert!(page.contains("Schedule saved: "), "the notice: {page}");
    let (_, api) = ui.api("GET", &api_schedule, None).await;
    assert_eq!((api["frequency"].as_str(), api["daysOfWeek"].clone()), (Some("weekly"), serde_json::json!(["sunday"])));
    let next = chrono::DateTime::parse_from_rfc3339(api["nextScheduledDate"].as_str().unwrap()).unwrap();
    let iso = next.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let words = between(&page, "id=\"schedule-words\">", "</dd>");
    assert!(words.contains("America/New_York") && words.contains(&format!("datetime=\"{iso}\"")), "{iso}: {words}");
    assert!(page.contains("<option value=\"weekly\" selected>"), "the dialog shows the schedule");
    let (_, _, list) = ui.request("GET", "/ui/connections", &[cookie], "").await;
    assert!(list.contains(&format!("datetime=\"{iso}\"")), "the list shows the same next sync");

    // an event-driven schedule sent anyway, and a bad minute: named, kept, nothing saved
    let body = format!("csrf={csrf}&frequency=eventdriven&triggerRule=%24ALL_SALESFORCE_OBJECTS");
    let (s, _, page) = ui.request("POST", &format!("{at}/schedule"), &[FORM, cookie], &body).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{page}");
    assert!(between(&page, "id=\"schedule-problems\"", "</div>").contains("cannot be event-driven"), "{page}");
    let body = format!("csrf={csrf}&frequency=daily&hour=3&minute=75&timeZone=UTC");
    let (s, _, page) = ui.request("POST", &format!("{at}/schedule"), &[FORM, cookie], &body).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(between(&page, "id=\"schedule-problems\"", "</div>").contains("time.minute"), "{page}");
    assert!(page.contains("<details class=\"dialog\" open>") && page.contains("<option value=\"daily\" selected>"));
    let (_, api) = ui.api("GET", &api_schedule, None).await;
    assert_eq!(api["frequency"], "weekly", "the stored schedule is unchanged");

    // unscheduled
    let (s, h, _) =
        ui.request("POST", &format!("{at}/schedule"), &[FORM, cookie], &format!("csrf={csrf}&frequency=none")).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(follow(&ui, &admin, &h).await.contains("Not scheduled any more."));
    let (_, api) = ui.api("GET", &api_schedule, None).await;
    assert_eq!(api["frequency"], "none", "{api}");
}

#[tokio::test]
async fn a_dataflows_definition_validates_formats_saves_reverts_and_downloads() {
    let ui = Ui::new().await;
    ui.user("vic@example.com", Role::Viewer).await;
    let flow = ui.dataflow("Edited", quick_flow()).await;
    let session = ui.sign_in_admin().await;
    let cookie = ("cookie", session.as_str());
    let path = format!("/ui/dataflows/{flow}/definition");
    let (_, _, page) = ui.request("GET", &format!("/ui/dataflows/{flow}"), &[cookie], "").await;
    let csrf = csrf_of(&page);
    assert!(page.contains("id=\"asset-graph\"") && page.contains("<title>Extract (sfdcDigest)"), "the graph");
    // a broken definition: every problem named by node and path, the text kept as typed
    let mut broken = quick_flow();
    broken["Register"]["parameters"]["source"] = serde_json::json!("Nowhere");
    let text = serde_json::to_string(&broken).unwrap();
    let (s, _, page) =
        ui.request("POST", &path, &[FORM, cookie], &format!("csrf={csrf}&do=validate&definition={}", enc(&text))).await;
    assert_eq!(s, StatusCode::OK, "Validate did what was asked");
    let problems = between(&page, "id=\"definition-problems\"", "</div>");
    assert!(problems.contains("Register") && problems.contains("Nowhere"), "{problems}");
    assert!(page.contains(&askama_escape(&text)), "the text as sent");
    // not JSON: where
    let (s, _, page) = ui
        .request("POST", &path, &[FORM, cookie], &format!("csrf={csrf}&do=save&definition={}", enc("{\n  \"a\": ,")))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a Save refused");
    assert!(between(&page, "id=\"definition-problems\"", "</div>").contains("line 2, column"), "{page}");
    // Format: indented, not saved
    let compact = serde_json::to_string(&quick_flow()).unwrap();
    let (s, _, page) = ui
        .request("POST", &path, &[FORM, cookie], &format!("csrf={csrf}&do=format&definition={}", enc(&compact)))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Formatted; not saved yet.") && page.contains("{\n  &#34;Extract&#34;: {\n"), "{page}");
    let (_, _, page) = ui
        .request("POST", &path, &[FORM, cookie], &format!("csrf={csrf}&do=validate&definition={}", enc(&compact)))
        .await;
    assert!(page.contains("No problems found; not saved yet."));
    // Save: refused while broken (nothing stored), then a new history entry
    let (s, _, _) =
        ui.request("POST", &path, &[FORM, cookie], &format!("csrf={csrf}&do=save&definition={}", enc(&text))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let mut changed = quick_flow();
    changed["Register"]["parameters"]["name"] = serde_json::json!("Accounts renamed");
    let body = format!(
        "csrf={csrf}&do=save&historyLabel=Renamed&definition={}",
        enc(&serde_json::to_string(&changed).unwrap())
    );
    let (s, h, _) = ui.request("POST", &path, &[FORM, cookie], &body).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(h["set-cookie"].to_str().unwrap().contains("Saved%20as%20a%20new%20version"));
    let (_, api) = ui.api("GET", &format!("/services/data/v62.0/wave/dataflows/{flow}"), None).await;
    assert_eq!(api["definition"]["Register"]["parameters"]["name"], "Accounts renamed");
    let (_, histories) = ui.api("GET", &format!("/services/data/v62.0/wave/dataflows/{flow}/histories"), None).await;
    let entries = histories["histories"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["label"], "Renamed");
    let first = entries[1]["id"].as_str().unwrap().to_string();
    // Download: the current one and an older one, as files
    let (s, h, file) = ui.request("GET", &format!("/ui/dataflows/{flow}/definition.json"), &[cookie], "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-disposition"], "attachment; filename=\"Edited.json\"");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&file).unwrap(), changed);
    let (_, h, file) =
        ui.request("GET", &format!("/ui/dataflows/{flow}/definition.json?history={first}"), &[cookie], "").await;
    assert_eq!(h["content-disposition"].to_str().unwrap(), format!("attachment; filename=\"Edited-{first}.json\""));
    assert_eq!(serde_json::from_str::<serde_json::Value>(&file).unwrap(), quick_flow());
    // Revert to the first: current again, as a new entry
    let (s, _, _) = ui
        .request(
            "POST",
            &format!("/ui/dataflows/{flow}/revert"),
            &[FORM, cookie],
            &format!("csrf={csrf}&history={first}"),
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, api) = ui.api("GET", &format!("/services/data/v62.0/wave/dataflows/{flow}"), None).await;
    assert_eq!(api["definition"], quick_flow());
    let (_, _, page) = ui.request("GET", &format!("/ui/dataflows/{flow}"), &[cookie], "").await;
    assert_eq!(page.matches("<tr id=\"history-").count(), 3);
    // a viewer reads, downloads and validates, but may not save or revert
    let viewer = ui.sign_in("vic@example.com").await;
    let (_, _, page) = ui.request("GET", &format!("/ui/dataflows/{flow}"), &[("cookie", &viewer)], "").await;
    assert!(page.contains("readonly>") && !page.contains("value=\"save\"") && !page.contains("Revert to this"));
    assert!(!page.contains("Change the schedule") && !page.contains("Run now"));
    let vcsrf = csrf_of(&page);
    let (s, _, page) = ui
        .request(
            "POST",
            &path,
            &[FORM, ("cookie", &viewer)],
            &format!("csrf={vcsrf}&do=save&definition={}", enc(&compact)),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{page}");
    let (s, _, page) = ui
        .request(
            "POST",
            &format!("/ui/dataflows/{flow}/schedule"),
            &[FORM, ("cookie", &viewer)],
            &format!("csrf={vcsrf}&frequency=daily&hour=1&minute=0&timeZone=UTC"),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{page}");
    // pages that are not there
    let (s, _, _) = ui.request("GET", "/ui/dataflows/nonsense", &[cookie], "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = ui
        .request("GET", &format!("/ui/dataflows/{flow}/definition.json?history=0RmSw0000000009"), &[cookie], "")
        .await;
    assert!(s == StatusCode::NOT_FOUND || s == StatusCode::BAD_REQUEST, "{s}");
}

#[tokio::test]
async fn data_lists_datasets_by_name_and_a_datasets_page_shows_fields_rows_versions_and_restores() {
    let ui = Ui::new().await;
    ui.user("vic@example.com", Role::Viewer).await;
    ui.user("eddie@example.com", Role::Editor).await;
    ui.object("Account", "Id,Name,Amount\n001A,<b>Acme</b>,10.5\n001B,,3\n").await;
    let flow = ui.dataflow("Accounts_Flow", quick_flow()).await;
    let first = ui.start(&flow).await;
    ui.wait_for(&first, |s| s == "Success").await;
    ui.object("Account", "Id,Name,Amount\n001A,Acme,10.5\n001B,Bolt,3\n001C,Cog,1\n").await;
    let second = ui.start(&flow).await;
    ui.wait_for(&second, |s| s == "Success").await;
    // enough datasets (without files) for a second page
    let admin_id = swell_store::admin_id();
    for i in 0..55 {
        ui.store
            .record_dataset_version(&admin_id, &format!("Z{i:02}"), &format!("Zeta {i:02}"), "none", i, None)
            .await
            .unwrap();
    }

    let viewer = ui.sign_in("vic@example.com").await;
    let (s, _, page) = ui.request("GET", "/ui/data", &[("cookie", &viewer)], "").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(page.matches("<h1>").count(), 1);
    assert!(page.contains("aria-current=\"page\">Data"), "its section is marked");
    let (_, ds) = ui.api("GET", "/services/data/v62.0/wave/datasets/Accounts", None).await;
    let dataset = ds["id"].as_str().unwrap().to_string();
    let current = ds["currentVersionId"].as_str().unwrap().to_string();
    let row = between(&page, &format!("id=\"dataset-{dataset}\""), "</tr>");
    assert!(row.contains(">3<") && row.contains(&current) && row.contains(&format!("/ui/jobs/{second}")), "{row}");
    assert_eq!(page.matches("<tr id=\"dataset-").count(), 50, "50 a page");
    assert!(page.contains("href=\"/ui/data?page=2\" rel=\"next\""), "{page}");
    let (_, _, two) = ui.request("GET", "/ui/data?page=2", &[("cookie", &viewer)], "").await;
    assert_eq!(two.matches("<tr id=\"dataset-").count(), 6);
    assert!(two.contains("rel=\"prev\"") && !two.contains("rel=\"next\""));
    let (_, _, found) = ui.request("GET", "/ui/data?q=acc", &[("cookie", &viewer)], "").await;
    assert_eq!(found.matches("<tr id=\"dataset-").count(), 1, "{found}");
    let (_, _, none) = ui.request("GET", "/ui/data?q=%25", &[("cookie", &viewer)], "").await;
    assert!(none.contains("No dataset matches."), "% is a plain character");
    let (s, _, bad) = ui.request("GET", "/ui/data?page=-1", &[("cookie", &viewer)], "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(bad.contains("&#39;-1&#39; is not a page number"), "{bad}");

    // a dataset's page: fields with kinds, the current rows, both versions
    let (s, _, page) = ui.request("GET", &format!("/ui/data/{dataset}"), &[("cookie", &viewer)], "").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(page.matches("<h1>").count(), 1);
    let fields = between(&page, "id=\"fields\"", "</section>");
    assert!(fields.contains("<td>Id</td><td>Text</td>") && fields.contains("<td>Name</td><td>Text</td>"), "{fields}");
    let rows = between(&page, "id=\"rows\"", "</section>");
    assert!(rows.contains("The first 3 rows") && rows.contains("<td>Cog</td>"), "{rows}");
    let versions = between(&page, "id=\"versions\"", "</section>");
    assert_eq!(versions.matches("<tr id=\"version-").count(), 2, "{versions}");
    assert!(!versions.contains("Restore"), "a viewer may not restore");
    let older = ui.api("GET", &format!("/services/data/v62.0/wave/datasets/{dataset}/versions"), None).await.1;
    let older = older["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .find(|v| *v != current)
        .expect("the first version");
    // the first version's rows, escaped, with its null
    let (_, _, page) =
        ui.request("GET", &format!("/ui/data/{dataset}?version={older}"), &[("cookie", &viewer)], "").await;
    let rows = between(&page, "id=\"rows\"", "</section>");
    assert!(rows.contains("The first 2 rows") && rows.contains("&#60;b&#62;Acme&#60;/b&#62;"), "{rows}");
    assert!(rows.contains("<span class=\"sub\">null</span>") || rows.contains("<td></td>"), "{rows}");
    let (s, _, missing) =
        ui.request("GET", &format!("/ui/data/{dataset}?version=0FcSw0000099999"), &[("cookie", &viewer)], "").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{missing}");
    let (s, _, missing) = ui.request("GET", "/ui/data/Nothing_Here", &[("cookie", &viewer)], "").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{missing}");
    // a dataset without files says so rather than failing the page
    let (s, _, empty) = ui.request("GET", "/ui/data/Z00", &[("cookie", &viewer)], "").await;
    assert_eq!(s, StatusCode::OK, "{empty}");

    // restore: refused to a viewer, done for an editor, and the API agrees
    let csrf = csrf_of(&ui.request("GET", "/ui/data", &[("cookie", &viewer)], "").await.2);
    let (s, _, refused) = ui
        .request(
            "POST",
            &format!("/ui/data/{dataset}/restore"),
            &[FORM, ("cookie", &viewer)],
            &format!("csrf={csrf}&version={older}"),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{refused}");
    let editor = ui.sign_in("eddie@example.com").await;
    let (_, _, page) = ui.request("GET", &format!("/ui/data/{dataset}"), &[("cookie", &editor)], "").await;
    assert!(between(&page, "id=\"versions\"", "</section>").contains("Restore"));
    let csrf = csrf_of(&page);
    let (s, h, _) = ui
        .request(
            "POST",
            &format!("/ui/data/{dataset}/restore"),
            &[FORM, ("cookie", &editor)],
            &format!("csrf={csrf}&version={older}"),
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h["location"].to_str().unwrap(), format!("/ui/data/{dataset}"));
    let (_, ds) = ui.api("GET", &format!("/services/data/v62.0/wave/datasets/{dataset}"), None).await;
    let restored = ds["currentVersionId"].as_str().unwrap().to_string();
    assert!(restored != current && restored != older, "a new version");
    let page = follow(&ui, &editor, &h).await;
    assert!(page.contains(&format!("Restored: version {restored} is current")), "the notice");
    let rows = between(&page, "id=\"rows\"", "</section>");
    assert!(rows.contains("The first 2 rows"), "the restored rows are the first version's: {rows}");
    let (s, _, bad) = ui
        .request(
            "POST",
            &format!("/ui/data/{dataset}/restore"),
            &[FORM, ("cookie", &editor)],
            &format!("csrf={csrf}&version=nonsense"),
        )
        .await;
    assert!(s.is_client_error(), "{s} {bad}");
    // a version whose files were deleted by hand: its page and Restore say so, never a 500
    let d = ui.store.dataset_by_name("Accounts").await.unwrap().unwrap();
    let gone = ui.store.dataset_versions(&d.id).await.unwrap().into_iter().find(|v| v.id.as_str() == current).unwrap();
    std::fs::remove_dir_all(
        ui.data.root().join("datasets").join("Accounts").join("versions").join(&gone.storage_version),
    )
    .unwrap();
    let (s, _, page) =
        ui.request("GET", &format!("/ui/data/{dataset}?version={current}"), &[("cookie", &editor)], "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("are missing from the data dir"), "{page}");
    let (s, _, page) = ui
        .request(
            "POST",
            &format!("/ui/data/{dataset}/restore"),
            &[FORM, ("cookie", &editor)],
            &format!("csrf={csrf}&version={current}"),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("are missing from the data dir"), "{page}");
    // a version whose folder is kept but whose data files were deleted: the same, never an
    // empty version (every committed version has a data file, even with no rows)
    let kept = ui.store.dataset_versions(&d.id).await.unwrap().into_iter().find(|v| v.id.as_str() == older).unwrap();
    let folder = ui.data.root().join("datasets").join("Accounts").join("versions").join(&kept.storage_version);
    for f in std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().path()) {
        if f.extension().is_some_and(|x| x == "parquet") {
            std::fs::remove_file(f).unwrap();
        }
    }
    let (s, _, page) =
        ui.request("GET", &format!("/ui/data/{dataset}?version={older}"), &[("cookie", &editor)], "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("are missing from the data dir") && page.contains("holds no data files"), "{page}");
    let (s, _, page) = ui
        .request(
            "POST",
            &format!("/ui/data/{dataset}/restore"),
            &[FORM, ("cookie", &editor)],
            &format!("csrf={csrf}&version={older}"),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{page}");
}

#[tokio::test]
async fn connections_are_added_edited_with_secrets_kept_synced_and_say_when_nothing_changed() {
    let ui = Ui::new().await;
    ui.user("vic@example.com", Role::Viewer).await;
    let folder = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
    std::fs::write(
        folder.path().join("Account.csv"),
        "Id,Name,LastModifiedDate\n001A,<i>Acme</i>,2024-01-01T00:00:00.000Z\n001B,Globex,2024-01-02T00:00:00.000Z\n",
    )
    .unwrap();
    let admin = ui.sign_in_admin().await;

    // add: first the type, then its own fields (secrets as password fields)
    let (s, _, page) = ui.request("GET", "/ui/connections/new", &[("cookie", &admin)], "").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("value=\"SfdcLocal\"") && page.contains("value=\"AmazonS3\""), "{page}");
    let (s, _, page) = ui.request("GET", "/ui/connections/new?type=sfdclocal", &[("cookie", &admin)], "").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("type=\"password\" name=\"p.accessToken\""), "{page}");
    assert!(page.contains("name=\"p.FolderPath\""), "{page}");
    let (s, _, bad) = ui.request("GET", "/ui/connections/new?type=Nope", &[("cookie", &admin)], "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
    let csrf = csrf_of(&page);
    let form = |name: &str| {
        format!(
            "csrf={csrf}&type=SfdcLocal&name={}&label=Org+files&description=&p.FolderPath={}&p.accessToken=s3cret-token&p.apiVersion=",
            enc(name),
            enc(&folder.path().display().to_string())
        )
    };
    let (s, _, refused) =
        ui.request("POST", "/ui/connections", &[FORM, ("cookie", &admin)], &form("not a name!")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused.contains("name: "), "the problem is named: {refused}");
    assert!(!refused.contains("s3cret-token"), "a typed secret is not written back");
    assert!(refused.contains("type them again"), "{refused}");
    let (s, h, _) = ui.request("POST", "/ui/connections", &[FORM, ("cookie", &admin)], &form("Org_Files")).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let at = h["location"].to_str().unwrap().to_string();
    let id = at.rsplit('/').next().unwrap().to_string();
    assert!(id.starts_with("0It"), "{at}");

    // its page: properties with the secret masked, never shown
    let page = follow(&ui, &admin, &h).await;
    assert!(page.contains("Connection Org files added."), "the notice");
    assert!(page.contains("******") && !page.contains("s3cret"), "{page}");
    assert_eq!(page.matches("<h1>").count(), 1);

    // edit: the mask kept keeps the secret; the label changes
    let (s, _, page) = ui.request("GET", &format!("{at}/edit"), &[("cookie", &admin)], "").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("name=\"p.accessToken\" value=\"******\""), "{page}");
    assert!(!page.contains("s3cret"));
    let body = format!(
        "csrf={csrf}&type=SfdcLocal&label=Org+files+2&description=Local+copy&p.FolderPath={}&p.accessToken=******&p.apiVersion=",
        enc(&folder.path().display().to_string())
    );
    let (s, _, _) = ui.request("POST", &at, &[FORM, ("cookie", &admin)], &body).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let c = ui.app.connection(&id).await.unwrap();
    assert_eq!(c.label, "Org files 2");
    let token = c.properties.iter().find(|(n, _)| n == "accessToken").map(|(_, v)| v.clone()).unwrap();
    assert!(!token.is_empty() && token != "******" && token != "s3cret-token", "kept, sealed: {token}");
    let bad = body.replace(&enc(&folder.path().display().to_string()), "%2Fno%2Fsuch%2Ffolder");
    let (s, _, page) = ui.request("POST", &at, &[FORM, ("cookie", &admin)], &bad).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("Not saved") && page.contains("name=\"p.accessToken\" value=\"******\""), "{page}");

    // an object, listed; a viewer sees no actions
    let (s, o) = ui
        .api(
            "POST",
            "/services/data/v62.0/wave/replicatedDatasets",
            Some(serde_json::json!({"connectorId": id, "sourceObjectName": "Account"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    let object = o["id"].as_str().unwrap().to_string();
    let viewer = ui.sign_in("vic@example.com").await;
    let (_, _, list) = ui.request("GET", "/ui/connections", &[("cookie", &viewer)], "").await;
    assert!(list.contains("aria-current=\"page\">Connections"));
    let row = between(&list, &format!("id=\"connection-{id}\""), "</tr>");
    assert!(row.contains("Org files 2") && row.contains("Salesforce (local org) (SfdcLocal)"), "{row}");
    assert!(row.contains(">1<") && row.contains("Never synced") && row.contains("Not scheduled"), "{row}");
    assert!(!list.contains("Run now") && !list.contains("Add a connection"), "a viewer may not");
    let (_, _, page) = ui.request("GET", &at, &[("cookie", &viewer)], "").await;
    let objects = between(&page, "id=\"objects\"", "</section>");
    assert!(objects.contains("Never synced") && !objects.contains("<select"), "{objects}");
    let (s, _, _) = ui
        .request(
            "POST",
            &format!("{at}/objects/{object}/mode"),
            &[FORM, ("cookie", &viewer)],
            &format!("csrf={}&mode=Full", csrf_of(&page)),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // a mode that is not one is refused on the page, naming why
    let (s, _, page) = ui
        .request(
            "POST",
            &format!("{at}/objects/{object}/mode"),
            &[FORM, ("cookie", &admin)],
            &format!("csrf={csrf}&mode=Sometimes"),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("connectionMode: &#39;Sometimes&#39; is not one of"), "{page}");
    assert!(page.contains("id=\"objects\""), "on the connection's page");
    let (s, e) = ui
        .api(
            "PATCH",
            &format!("/services/data/v62.0/wave/replicatedDatasets/{object}"),
            Some(serde_json::json!({"advancedProperties": [{"name": "primaryKey", "value": "Id"},
                {"name": "watermarkField", "value": "LastModifiedDate"}]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (s, _, _) = ui
        .request(
            "POST",
            &format!("{at}/objects/{object}/mode"),
            &[FORM, ("cookie", &admin)],
            &format!("csrf={csrf}&mode=incremental"),
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, o) = ui.api("GET", &format!("/services/data/v62.0/wave/replicatedDatasets/{object}"), None).await;
    assert_eq!(o["connectionMode"], "incremental");

    // Run now twice: the second finds nothing new and says so
    let run = || async {
        let (s, h, body) =
            ui.request("POST", &format!("{at}/run"), &[FORM, ("cookie", &admin)], &format!("csrf={csrf}")).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
        let job = h["location"].to_str().unwrap().rsplit('/').next().unwrap().to_string();
        ui.wait_for(&job, |s| s == "Success").await;
        job
    };
    let first = run().await;
    let (_, _, page) = ui.request("GET", &at, &[("cookie", &admin)], "").await;
    let objects = between(&page, "id=\"objects\"", "</section>");
    assert!(objects.contains("✓</span> Success") && objects.contains(">2<"), "{objects}");
    let second = run().await;
    let (_, _, page) = ui.request("GET", &at, &[("cookie", &admin)], "").await;
    let objects = between(&page, "id=\"objects\"", "</section>");
    assert!(objects.contains("No changes"), "{objects}");
    assert!(between(&page, "<dt>Last sync</dt>", "</dd>").contains(&format!("/ui/jobs/{second}")));
    assert!(between(&page, "<dt>Last sync</dt>", "</dd>").contains("No changes"));
    let (_, _, list) = ui.request("GET", "/ui/connections", &[("cookie", &admin)], "").await;
    assert!(between(&list, &format!("id=\"connection-{id}\""), "</tr>").contains("No changes"));
    let (_, _, job) = ui.request("GET", &format!("/ui/jobs/{second}"), &[("cookie", &admin)], "").await;
    assert!(job.contains(&format!("href=\"/ui/connections/{id}\" id=\"asset\"")), "the job links its connection");
    assert!(job.contains("No changes"), "{job}");
    let (_, _, job) = ui.request("GET", &format!("/ui/jobs/{first}"), &[("cookie", &admin)], "").await;
    assert!(!job.contains("No changes"), "the first sync read everything");

    // the object's fields and first rows, escaped
    let (s, _, page) = ui.request("GET", &format!("{at}/objects/{object}"), &[("cookie", &viewer)], "").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(between(&page, "id=\"fields\"", "</section>").contains("<td>LastModifiedDate</td>"), "{page}");
    let rows = between(&page, "id=\"rows\"", "</section>");
    assert!(rows.contains("&#60;i&#62;Acme&#60;/i&#62;") && rows.contains("Globex"), "{rows}");
    let (s, _, _) = ui.request("GET", &format!("{at}/objects/0ItSw0000099999"), &[("cookie", &viewer)], "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Full sync: the object's next sync reads everything; not "No changes"
    let (s, h, _) = ui
        .request("POST", &format!("{at}/objects/{object}/full"), &[FORM, ("cookie", &admin)], &format!("csrf={csrf}"))
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let full = h["location"].to_str().unwrap().rsplit('/').next().unwrap().to_string();
    ui.wait_for(&full, |s| s == "Success").await;
    let (_, _, page) = ui.request("GET", &at, &[("cookie", &admin)], "").await;
    let objects = between(&page, "id=\"objects\"", "</section>");
    assert!(objects.contains("✓</span> Success") && !objects.contains("No changes"), "{objects}");
    // an object whose stored files were deleted by hand says so, and Full sync writes it anew
    let versions =
        ui.data.root().join("connections").join("Org_Files").join("objects").join("Account").join("versions");
    std::fs::remove_dir_all(&versions).unwrap();
    let (s, _, page) = ui.request("GET", &format!("{at}/objects/{object}"), &[("cookie", &admin)], "").await;
    assert!(s == StatusCode::OK && page.contains("missing from the data dir"), "{s} {page}");
    let (s, h, _) = ui
        .request("POST", &format!("{at}/objects/{object}/full"), &[FORM, ("cookie", &admin)], &format!("csrf={csrf}"))
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let rewritten = h["location"].to_str().unwrap().rsplit('/').next().unwrap().to_string();
    ui.wait_for(&rewritten, |s| s == "Success").await;
    let (_, _, page) = ui.request("GET", &format!("{at}/objects/{object}"), &[("cookie", &admin)], "").await;
    assert!(between(&page, "id=\"rows\"", "</section>").contains("Globex"), "{page}");
    // a viewer's change is refused for the role before the form is read
    let (s, _, _) = ui
        .request(
            "POST",
            &format!("{at}/objects/{object}/mode"),
            &[FORM, ("cookie", &viewer)],
            &format!(
                "csrf={}&mode=Bogus",
                csrf_of(&ui.request("GET", "/ui/connections", &[("cookie", &viewer)], "").await.2)
            ),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // a form without the description keeps it
    let (s, _, _) =
        ui.request("POST", &at, &[FORM, ("cookie", &admin)], &format!("csrf={csrf}&label=Org+files+2")).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(ui.app.connection(&id).await.unwrap().description.as_deref(), Some("Local copy"));
    // Run again of a sync syncs the connection again
    let (s, h, _) = ui
        .request("POST", &format!("/ui/jobs/{full}/again"), &[FORM, ("cookie", &admin)], &format!("csrf={csrf}"))
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let again = h["location"].to_str().unwrap().rsplit('/').next().unwrap().to_string();
    let j = ui.wait_for(&again, |s| s == "Success").await;
    assert_eq!(j["jobType"], "datasync", "{j}");
}
