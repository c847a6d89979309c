//! The UI over HTTP, in process: sign-in, sessions and CSRF, the Monitor's filters and pages,
//! the job page, roles, the live stream and the static files. (The browser walks the same
//! pages in `browser.rs`.)

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TOKEN, Ui, enc, failing_flow, quick_flow};
use http_body_util::BodyExt;
use std::time::Duration;
use swell_core::{JobType, Role};
use tower::ServiceExt;

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    page[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn signed_out_pages_send_to_the_sign_in_form_and_every_answer_has_the_security_policy() {
    let ui = Ui::new().await;
    let (s, h, _) = ui.request("GET", "/ui/monitor?status=Failure", &[], "").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], "/ui/login?next=%2Fui%2Fmonitor%3Fstatus%3DFailure");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    let (s, h, page) = ui.request("GET", "/ui/login?next=%2Fui%2Fmonitor%3Fstatus%3DFailure", &[], "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(page.contains("value=\"/ui/monitor?status=Failure\""), "the page to go back to is kept");
    assert!(!page.contains("<script>") && !page.contains("style="), "no inline script or style");
    // `/ui` and unknown pages
    let (s, h, _) = ui.request("GET", "/ui", &[], "").await;
    assert_eq!((s, h["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, "/ui/monitor"));
    let (s, _, page) = ui.request("GET", "/ui/nothing/here", &[], "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(page.contains("There is no such page."));
}

#[tokio::test]
async fn sign_in_sets_a_strict_http_only_cookie_and_refuses_wrong_passwords_and_other_sites() {
    let ui = Ui::new().await;
    ui.user("ana@example.com", Role::Operator).await;
    // a wrong password: said so, no cookie, the username kept in the form
    let body = format!("username={}&password=nope", enc("ana@example.com"));
    let (s, h, page) = ui.request("POST", "/ui/login", &[FORM], &body).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(h.get("set-cookie").is_none());
    assert!(page.contains("Wrong username or password.") && page.contains("value=\"ana@example.com\""));
    // from another site: refused before the password is checked
    let body = format!("username={}&password={}", enc("ana@example.com"), enc(common::PASSWORD));
    let (s, _, _) = ui
        .request("POST", "/ui/login", &[FORM, ("origin", "http://evil.example"), ("host", "127.0.0.1:8080")], &body)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // the right one: a session cookie, and on to the page asked for (never another site)
    let body = format!("{body}&next={}", enc("https://evil.example/"));
    let (s, h, _) = ui.request("POST", "/ui/login", &[FORM], &body).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], "/ui/monitor");
    let cookie = h["set-cookie"].to_str().unwrap();
    for part in ["swell_session=00DSw0000000001!", "Path=/ui", "HttpOnly", "SameSite=Strict", "Max-Age=7200"] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    // a session is a token of its own: the page works with it, sign-out revokes it
    let session = cookie.split(';').next().unwrap().to_string();
    let (s, _, page) = ui.request("GET", "/ui/monitor", &[("cookie", &session)], "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("ana") && page.contains("(operator)"));
    let csrf = csrf_of(&page);
    let (s, h, _) = ui.request("POST", "/ui/logout", &[FORM, ("cookie", &session)], &format!("csrf={csrf}")).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(h["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    let (s, _, _) = ui.request("GET", "/ui/monitor", &[("cookie", &session)], "").await;
    assert_eq!(s, StatusCode::SEE_OTHER, "a revoked session signs no one in");
    // the server's token signs in as the admin, with a session of its own
    let (s, h, _) = ui.request("POST", "/ui/login", &[FORM], &format!("token={}", enc(TOKEN))).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(!h["set-cookie"].to_str().unwrap().contains(TOKEN), "the long-lived token is never the cookie");
    let (s, _, page) = ui.request("POST", "/ui/login", &[FORM], "token=00DSw0000000001!nope").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(page.contains("That token signs no one in."));
}

#[tokio::test]
async fn a_one_time_link_signs_in_once() {
    let ui = Ui::new().await;
    let link = ui.web.one_time_link(&swell_store::admin_id()).unwrap();
    let (s, h, _) = ui.request("GET", &link, &[], "").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(h["set-cookie"].to_str().unwrap().starts_with("swell_session="));
    let (s, _, page) = ui.request("GET", &link, &[], "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(page.contains("used already or has expired"));
    let (s, _, _) = ui.request("GET", "/ui/login/link/0123456789abcdef", &[], "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_monitor_filters_by_status_type_name_and_dates_and_pages_by_key() {
    let ui = Ui::new().await;
    ui.user("ana@example.com", Role::Viewer).await;
    let session = ui.sign_in("ana@example.com").await;
    let df = ui.dataflow("Pager", quick_flow()).await;
    let id = swell_core::SalesforceId::parse(&df).unwrap();
    // one queued run and 119 refused requests (030, Failure): 120 jobs
    for _ in 0..120 {
        ui.store.enqueue_job(&swell_store::admin_id(), &id, JobType::User, "Pager").await.unwrap();
    }
    let rows = |page: &str| -> Vec<String> {
        page.match_indices("<tr id=\"job-").map(|(i, _)| page[i + 12..i + 30].to_string()).collect()
    };
    let link = |page: &str, rel: &str| -> Option<String> {
        let at = page.find(&format!("rel=\"{rel}\""))?;
        let start = page[..at].rfind("href=\"")? + 6;
        Some(page[start..].split('"').next()?.replace("&amp;", "&"))
    };
    let (s, _, first) = ui.request("GET", "/ui/monitor", &[("cookie", &session)], "").await;
    assert_eq!(s, StatusCode::OK);
    let p1 = rows(&first);
    assert_eq!(p1.len(), 50);
    assert!(link(&first, "prev").is_none(), "the first page has no newer page");
    let older = link(&first, "next").expect("an older page");
    let (_, _, second) = ui.request("GET", &older, &[("cookie", &session)], "").await;
    let p2 = rows(&second);
    let (_, _, third) = ui.request("GET", &link(&second, "next").unwrap(), &[("cookie", &session)], "").await;
    let p3 = rows(&third);
    assert_eq!((p2.len(), p3.len()), (50, 20));
    assert!(link(&third, "next").is_none(), "the last page has no older page");
    let mut all: Vec<String> = p1.iter().chain(&p2).chain(&p3).cloned().collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 120, "every job once");
    // back: the page newer than the third is the second
    let (_, _, back) = ui.request("GET", &link(&third, "prev").unwrap(), &[("cookie", &session)], "").await;
    assert_eq!(rows(&back), p2);
    // filters live in the URL and are kept in the form
    let (_, _, failed) =
        ui.request("GET", "/ui/monitor?status=Failure&type=dataflow&q=pag", &[("cookie", &session)], "").await;
    assert_eq!(rows(&failed).len(), 50);
    assert!(
        failed.contains("<option value=\"Failure\" selected>")
            && failed.contains("<option value=\"dataflow\" selected>")
    );
    assert!(failed.contains("already in the queue"), "the first line of a failed job's message is shown");
    let (_, _, none) = ui.request("GET", "/ui/monitor?type=recipe", &[("cookie", &session)], "").await;
    assert!(rows(&none).is_empty() && none.contains("No jobs match."));
    let (_, _, future) = ui.request("GET", "/ui/monitor?from=2999-01-01", &[("cookie", &session)], "").await;
    assert!(rows(&future).is_empty());
    // what cannot be read is said, and left out
    let (s, _, bad) =
        ui.request("GET", "/ui/monitor?status=Bogus&from=yesterday&before=..%2F..", &[("cookie", &session)], "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(bad.contains("There is no status &#39;Bogus&#39;") || bad.contains("There is no status 'Bogus'"), "{bad}");
    assert!(bad.contains("is not a day") && bad.contains("The page link is damaged"));
    assert_eq!(rows(&bad).len(), 50);
    // a viewer sees no Stop and the runs of the day
    assert!(!first.contains(">Stop<") && !first.contains("Stop selected"));
    assert!(first.contains("Runs of dataflows and recipes in the last 24 hours: <strong>1</strong> of a budget of 60"));
}

#[tokio::test]
async fn stop_needs_the_sessions_csrf_token_and_the_operator_role() {
    let ui = Ui::new().await;
    ui.user("vic@example.com", Role::Viewer).await;
    ui.user("ops@example.com", Role::Operator).await;
    ui.object("Sales", &common::slow_rows()).await;
    let df = ui.dataflow("Stoppable", common::slow_flow()).await;
    let job = ui.start(&df).await;
    ui.wait_for(&job, |s| s == "Running").await;
    let viewer = ui.sign_in("vic@example.com").await;
    let (_, _, page) = ui.request("GET", "/ui/monitor", &[("cookie", &viewer)], "").await;
    let csrf = csrf_of(&page);
    let (s, _, refused) =
        ui.request("POST", "/ui/monitor/stop", &[FORM, ("cookie", &viewer)], &format!("csrf={csrf}&one={job}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(refused.contains("operator"), "the role needed is named: {refused}");
    let ops = ui.sign_in("ops@example.com").await;
    let (s, _, _) =
        ui.request("POST", "/ui/monitor/stop", &[FORM, ("cookie", &ops)], &format!("csrf={csrf}&one={job}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "another session's token does not do");
    let (_, _, page) = ui.request("GET", "/ui/monitor", &[("cookie", &ops)], "").await;
    let csrf = csrf_of(&page);
    let (s, _, notice) = ui
        .request(
            "POST",
            "/ui/monitor/stop",
            &[FORM, ("cookie", &ops), ("hx-request", "true")],
            &format!("csrf={csrf}&one={job}"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{notice}");
    assert!(notice.contains("Stop requested for 1 job."));
    let j = ui.wait_for(&job, |s| s == "Cancelled").await;
    assert_eq!(j["status"], "Cancelled");
    // the stop is in the audit log under the operator
    let (_, log) = ui.api("GET", "/services/data/v62.0/swell/audit?action=stop%20job", None).await;
    assert!(log.to_string().contains("ops@example.com"), "{log}");
}

#[tokio::test]
async fn stop_selected_stops_each_selected_job_and_says_which_could_not_be() {
    let ui = Ui::new().await;
    ui.object("Sales", &common::slow_rows()).await;
    let a = ui.dataflow("SlowA", common::slow_flow()).await;
    let b = ui.dataflow("SlowB", common::slow_flow()).await;
    let done = ui.dataflow("Done", quick_flow()).await;
    ui.object("Account", "Id,Name\n001A,Acme\n").await;
    let finished = ui.start(&done).await;
    ui.wait_for(&finished, |s| s == "Success").await;
    let (ja, jb) = (ui.start(&a).await, ui.start(&b).await);
    let session = ui.sign_in_admin().await;
    let (_, _, page) = ui.request("GET", "/ui/monitor", &[("cookie", &session)], "").await;
    let csrf = csrf_of(&page);
    assert_eq!(page.matches("name=\"selected\"").count(), 2, "only active jobs can be selected");
    let body = format!("csrf={csrf}&selected={ja}&selected={jb}&selected={finished}");
    let (s, _, notice) =
        ui.request("POST", "/ui/monitor/stop", &[FORM, ("cookie", &session), ("hx-request", "true")], &body).await;
    assert_eq!(s, StatusCode::OK);
    assert!(notice.contains("Stop requested for 2 jobs."), "{notice}");
    assert!(notice.contains(&format!("Not stopped: {finished}")) && notice.contains("already ended"), "{notice}");
    for j in [&ja, &jb] {
        ui.wait_for(j, |s| s == "Cancelled").await;
    }
    // without JavaScript: the form posts and the browser comes back to the Monitor
    let (s, h, _) = ui
        .request(
            "POST",
            "/ui/monitor/stop",
            &[FORM, ("cookie", &session), ("host", "x"), ("referer", "http://x/ui/monitor?status=Running")],
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h["location"], "/ui/monitor?status=Running", "back to the page with its filter");
    // the notice comes along in a one-time cookie; the page shows it and clears it
    let notice = h["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    assert!(notice.starts_with("swell_notice=Select%20the%20jobs"), "{notice}");
    let both = format!("{session}; {notice}");
    let (s, h, page) = ui.request("GET", "/ui/monitor?status=Running", &[("cookie", &both)], "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("<p class=\"notice\" role=\"status\">Select the jobs to stop first.</p>"));
    assert!(h["set-cookie"].to_str().unwrap().starts_with("swell_notice=;"), "shown once");
    // a Referer of another host, or no page of the UI: back to the Monitor
    for referer in ["http://evil.example/ui/monitor", "http://x/ui/live/monitor", "http://x/ui/../api"] {
        let (_, h, _) = ui
            .request(
                "POST",
                "/ui/monitor/stop",
                &[FORM, ("cookie", &session), ("host", "x"), ("referer", referer)],
                &format!("csrf={csrf}"),
            )
            .await;
        assert_eq!(h["location"], "/ui/monitor", "{referer}");
    }
}

#[tokio::test]
async fn a_job_page_shows_its_nodes_the_failed_node_and_its_whole_message() {
    let ui = Ui::new().await;
    ui.object("Account", "Id,Name\n001A,Acme\n").await;
    let df = ui.dataflow("Breaks", failing_flow()).await;
    let job = ui.start(&df).await;
    let j = ui.wait_for(&job, |s| s == "Failure").await;
    let session = ui.sign_in_admin().await;
    let (s, _, page) = ui.request("GET", &format!("/ui/jobs/{job}"), &[("cookie", &session)], "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("id=\"failed-node\"") && page.contains("Node Boom failed"), "{page}");
    let message = j["message"].as_str().unwrap();
    let first = message.lines().next().unwrap();
    let escaped = first
        .replace('&', "&amp;")
        .replace('\'', "&#39;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    assert!(page.contains(&escaped), "the job's message {first} in {page}");
    assert!(page.contains("Run again"), "an admin may run it again");
    // the graph, coloured by how each node ran, each node titled in full
    assert!(page.contains("<g class=\"node failure\""), "the failed node is marked in the graph");
    assert!(page.contains("<title>Boom (sfdcDigest): Failed, 0 rows out</title>"), "{page}");
    assert_eq!(page.matches("class=\"edge\"").count(), 1, "one edge: Boom to Register");
    assert!(page.contains("<h1>"), "one heading");
    assert_eq!(page.matches("<h1").count(), 1);
    // ids that are no job id, or a path
    let (s, _, page) = ui.request("GET", "/ui/jobs/..%2F..%2Fetc%2Fpasswd", &[("cookie", &session)], "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(page.contains("is not a valid id"), "{page}");
    let missing = swell_core::SalesforceId::new(swell_core::KeyPrefix::RecipeJob, 9999);
    let (s, _, _) = ui.request("GET", &format!("/ui/jobs/{missing}"), &[("cookie", &session)], "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_live_stream_sends_the_page_then_new_jobs_and_their_changes() {
    let ui = Ui::new().await;
    ui.object("Account", "Id,Name\n001A,Acme\n").await;
    let df = ui.dataflow("Live", quick_flow()).await;
    let session = ui.sign_in_admin().await;
    let req = Request::builder().uri("/ui/live/monitor").header("cookie", &session).body(Body::empty()).unwrap();
    let res = ui.service.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = res.into_body();
    let mut seen = String::new();
    let mut read_until = async |what: &str, seen: &mut String| {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !seen.contains(what) {
            let frame = tokio::time::timeout_at(deadline, body.frame()).await.expect(what).unwrap().unwrap();
            if let Ok(data) = frame.into_data() {
                seen.push_str(&String::from_utf8_lossy(&data));
            }
        }
    };
    read_until("id=\"job-rows\"", &mut seen).await;
    let job = ui.start(&df).await;
    read_until(&format!("id=\"job-{job}\""), &mut seen).await;
    assert!(seen.contains("hx-swap-oob=\"afterbegin:#job-rows\""), "a new job goes on top");
    ui.wait_for(&job, |s| s == "Success").await;
    read_until("✓</span> Success", &mut seen).await;
    // a revoked session's open page stops receiving (the stream ends at its next check)
    let token = session.trim_start_matches("swell_session=");
    ui.app.revoke_presented(token).await.unwrap();
    let ended =
        tokio::time::timeout(Duration::from_secs(5), async { while let Some(Ok(_)) = body.frame().await {} }).await;
    assert!(ended.is_ok(), "the stream of a revoked session ends");
}

#[tokio::test]
async fn the_live_stream_shows_jobs_another_server_writes_to_the_shared_store() {
    let ui = Ui::new().await;
    let df = ui.dataflow("Elsewhere", quick_flow()).await;
    let session = ui.sign_in_admin().await;
    let req = Request::builder().uri("/ui/live/monitor").header("cookie", &session).body(Body::empty()).unwrap();
    let mut body = ui.service.clone().oneshot(req).await.unwrap().into_body();
    // the page's rows first (empty), so that the job below can only come as a change
    let mut first = String::new();
    while !first.contains("job-rows") {
        let frame = body.frame().await.unwrap().unwrap();
        first.push_str(&String::from_utf8_lossy(&frame.into_data().unwrap_or_default()));
    }
    // another server: its own store on the same database, whose writes this process never hears of
    let other =
        swell_store::Store::open(&format!("sqlite://{}", ui._dir.path().join("swell.db").display())).await.unwrap();
    let id = swell_core::SalesforceId::parse(&df).unwrap();
    let job = other.enqueue_job(&swell_store::admin_id(), &id, JobType::User, "Elsewhere").await.unwrap();
    let wanted = format!("id=\"job-{}\"", job.queued().unwrap().id);
    let mut seen = String::new();
    let found = tokio::time::timeout(Duration::from_secs(5), async {
        while !seen.contains(&wanted) {
            let Some(Ok(frame)) = body.frame().await else { break };
            if let Ok(data) = frame.into_data() {
                seen.push_str(&String::from_utf8_lossy(&data));
            }
        }
    })
    .await;
    assert!(found.is_ok() && seen.contains(&wanted), "the other server's job reaches the page: {seen}");
}

impl Ui {
    async fn sign_in_admin(&self) -> String {
        let (s, h, _) = self.request("POST", "/ui/login", &[FORM], &format!("token={}", enc(TOKEN))).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        h["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string()
    }
}

#[tokio::test]
async fn static_files_are_the_vendored_ones_with_their_licence_within_the_size_budget() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
    let sums = std::fs::read_to_string(dir.join("vendor/SHA256SUMS")).unwrap();
    let mut checked = 0;
    for line in sums.lines().filter(|l| !l.trim().is_empty()) {
        let (sum, file) = line.split_once("  ").unwrap();
        let bytes = std::fs::read(dir.join("vendor").join(file)).unwrap();
        let actual: String =
            ring::digest::digest(&ring::digest::SHA256, &bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(actual, sum, "{file} differs from the vendored release");
        checked += 1;
    }
    assert_eq!(checked, 2);
    let licence = std::fs::read_to_string(dir.join("vendor/LICENSE-htmx.txt")).unwrap();
    assert!(licence.contains("Zero-Clause BSD"));
    // what a page loads: every script and the style sheet
    let size = |f: &str| std::fs::metadata(dir.join(f)).unwrap().len();
    let js = size("vendor/htmx.min.js") + size("vendor/hx-sse.min.js") + size("swell.js");
    assert!(js <= 60 * 1024, "scripts: {js} bytes");
    assert!(size("swell.css") <= 30 * 1024);
    // served with their types, cached for good (their address changes with their content)
    let ui = Ui::new().await;
    let (s, h, body) = ui.request("GET", "/ui/static/vendor/htmx.min.js", &[], "").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["content-type"], "text/javascript; charset=utf-8");
    assert!(h["cache-control"].to_str().unwrap().contains("immutable"));
    assert!(body.starts_with("var htmx="));
    let (s, _, _) = ui.request("GET", "/ui/static/vendor/SHA256SUMS", &[], "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = ui.request("GET", "/ui/static/../Cargo.toml", &[], "").await;
    assert_ne!(s, StatusCode::OK);
}

#[tokio::test]
async fn sign_in_goes_on_only_to_pages_of_the_ui_whatever_next_holds() {
    let ui = Ui::new().await;
    ui.user("ana@example.com", Role::Viewer).await;
    let login = format!("username={}&password={}", enc("ana@example.com"), enc(common::PASSWORD));
    let cases = [
        ("/ui/monitor?status=Failure", "/ui/monitor?status=Failure"),
        ("/ui/jobs/0eP\r\nSet-Cookie: x=1", "/ui/monitor"),
        ("/ui/monitor\u{0}", "/ui/monitor"),
        ("/ui/monitor\u{7f}", "/ui/monitor"),
        ("/ui/monitor é", "/ui/monitor"),
        ("/ui/../services/data", "/ui/monitor"),
        ("/ui/%2e%2E/services/data", "/ui/monitor"),
        ("/ui/live/monitor", "/ui/monitor"),
        ("/ui/static/swell.css", "/ui/monitor"),
        ("/ui/logout", "/ui/monitor"),
        ("/ui//evil.example", "/ui/monitor"),
        ("//evil.example/ui/", "/ui/monitor"),
        ("/ui/\\evil.example", "/ui/monitor"),
    ];
    for (next, to) in cases {
        let (s, h, page) = ui.request("POST", "/ui/login", &[FORM], &format!("{login}&next={}", enc(next))).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{next:?}: {page}");
        assert_eq!(h["location"], to, "{next:?}");
        let (s, _, page) = ui.request("GET", &format!("/ui/login?next={}", enc(next)), &[], "").await;
        assert_eq!(s, StatusCode::OK, "{next:?}");
        assert!(page.contains(&format!("name=\"next\" value=\"{}\"", to.replace('&', "&amp;"))), "{next:?}");
    }
}

#[tokio::test]
async fn failures_lock_out_a_name_not_everyone_at_its_address_and_say_when_to_retry() {
    let ui = Ui::new().await;
    ui.user("ana@example.com", Role::Viewer).await;
    ui.user("bob@example.com", Role::Viewer).await;
    let wrong = format!("username={}&password=wrong-password", enc("ana@example.com"));
    for _ in 0..swell_app::MAX_FAILED_LOGINS {
        let (s, _, _) = ui.request_from("10.0.0.7", "POST", "/ui/login", &[FORM], &wrong).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, h, page) = ui.request_from("10.0.0.7", "POST", "/ui/login", &[FORM], &wrong).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(h["retry-after"], "900");
    assert!(page.contains("try again in 15 minutes"), "{page}");
    // ana is locked out everywhere, even with her password
    let right = format!("username={}&password={}", enc("ana@example.com"), enc(common::PASSWORD));
    let (s, _, _) = ui.request_from("10.0.0.8", "POST", "/ui/login", &[FORM], &right).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    // bob, behind the same address (an office, a proxy), is not
    let bob = format!("username={}&password={}", enc("bob@example.com"), enc(common::PASSWORD));
    let (s, _, page) = ui.request_from("10.0.0.7", "POST", "/ui/login", &[FORM], &bob).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{page}");
    // tokens that sign no one in count against their address; past its limit, refused unchecked
    let mut refused_at = None;
    for i in 0..=swell_app::MAX_FAILED_PER_ADDRESS + 1 {
        let (s, _, _) =
            ui.request_from("10.0.0.9", "POST", "/ui/login", &[FORM], &format!("token=00DSw0000000001!guess{i}")).await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            refused_at = Some(i);
            break;
        }
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(refused_at, Some(swell_app::MAX_FAILED_PER_ADDRESS), "a token guesser is stopped");
    let (s, _, _) = ui.request_from("10.0.0.9", "POST", "/ui/login", &[FORM], &format!("token={}", enc(TOKEN))).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "even the right token, until the window passes");
}

#[tokio::test]
async fn a_session_that_a_token_opened_ends_with_that_token() {
    let ui = Ui::new().await;
    ui.user("ana@example.com", Role::Operator).await;
    let admin = swell_app::Actor::admin();
    let soon = chrono::Utc::now() + chrono::Duration::minutes(30);
    let token = ui.app.create_token(&admin, "ana@example.com", Some(soon)).await.unwrap();
    let (s, h, _) = ui.request("POST", "/ui/login", &[FORM], &format!("token={}", enc(&token.text))).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let session = h["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let (s, _, _) = ui.request("GET", "/ui/monitor", &[("cookie", &session)], "").await;
    assert_eq!(s, StatusCode::OK);
    // it expires no later than the token
    let tokens = ui.app.tokens(&admin, "ana@example.com").await.unwrap();
    let sessions: Vec<_> = tokens.iter().filter(|t| t.id != token.record.id).collect();
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].expires.unwrap() <= soon, "{:?}", sessions[0].expires);
    // revoking the token ends the session at once
    ui.app.revoke_token(&admin, &token.record.id).await.unwrap();
    let (s, h, _) = ui.request("GET", "/ui/monitor", &[("cookie", &session)], "").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(h["location"].to_str().unwrap().starts_with("/ui/login"));
}

#[tokio::test]
async fn what_cannot_be_read_gets_a_page_that_says_what_is_wrong() {
    let ui = Ui::new().await;
    let session = ui.sign_in_admin().await;
    let cookie = ("cookie", session.as_str());
    let is_page = |h: &axum::http::HeaderMap, page: &str| {
        h["content-type"].to_str().unwrap().starts_with("text/html") && page.contains("<h1>")
    };
    // a key given twice: its first value
    let (s, _, page) = ui.request("GET", "/ui/monitor?status=Failure&status=Success", &[cookie], "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("<option value=\"Failure\" selected>"), "the first value is used");
    // dates the wrong way round are named
    let (_, _, page) = ui.request("GET", "/ui/monitor?from=2026-12-02&to=2026-12-01", &[cookie], "").await;
    assert!(page.contains("is after the to date"), "{page}");
    // a form that is not a form
    let (_, _, monitor) = ui.request("GET", "/ui/monitor", &[cookie], "").await;
    let csrf = csrf_of(&monitor);
    let (s, h, page) = ui
        .request(
            "POST",
            &format!("/ui/monitor/stop?csrf={csrf}"),
            &[cookie, ("content-type", "application/json")],
            "{\"one\": \"x\"}",
        )
        .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(is_page(&h, &page) && page.contains("not &#39;application/json&#39;"), "{page}");
    let (s, _, page) = ui.request("POST", "/ui/monitor/stop", &[FORM, cookie], "one=x").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(page.contains("carries no csrf field"), "{page}");
    let (s, h, page) =
        ui.request("POST", "/ui/monitor/stop", &[FORM, cookie], &format!("csrf={csrf}&csrf=other&one=&one=x")).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "repeated fields: the first of each ({page})");
    assert!(h["set-cookie"].to_str().unwrap().contains("swell_notice="));
    // a method a page does not take, a file that is not there, a job that is not there
    let (s, h, page) = ui.request("DELETE", "/ui/monitor", &[cookie], "").await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert!(is_page(&h, &page) && page.contains("does not take that method"), "{page}");
    let (s, h, page) = ui.request("GET", "/ui/static/nothing.js", &[], "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(is_page(&h, &page) && page.contains("There is no such file."));
    let missing = swell_core::SalesforceId::parse("03CSw0000099999").unwrap();
    let (s, h, page) = ui.request("GET", &format!("/ui/live/jobs/{missing}"), &[cookie], "").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{page}");
    assert!(is_page(&h, &page));
    let (s, _, page) = ui.request("GET", "/ui/live/jobs/%0d%0a", &[cookie], "").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{page}");
    // a form past the size limit is refused before it is read
    let big = format!("{}", swell_web::MAX_FORM_BYTES + 1);
    let (s, h, page) =
        ui.request("POST", "/ui/monitor/stop", &[FORM, cookie, ("content-length", big.as_str())], "").await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(is_page(&h, &page) && page.contains("larger than 16 MB"), "{page}");
}

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

/// Follows a change's redirect as a browser does: the page it names, with the one-time
/// notice cookie the answer set.
async fn follow(ui: &Ui, session: &str, headers: &axum::http::HeaderMap) -> String {
    let to = headers["location"].to_str().unwrap();
    let notice = headers["set-cookie"].to_str().unwrap().split(';').next().unwrap();
    let (s, _, page) = ui.request("GET", to, &[("cookie", &format!("{session}; {notice}"))], "").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    page
}

/// A page's text between `start` and `end` (after the first `start`).
fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page.find(start).unwrap_or_else(|| panic!("{start} in the page")) + start.len();
    let rest = &page[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
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
    assert_eq!(api["frequency"], "hourly", "the stored schedule is unchanged");
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

/// Text as askama writes it in a page.
fn askama_escape(text: &str) -> String {
    text.replace('&', "&#38;").replace('"', "&#34;").replace('<', "&#60;").replace('>', "&#62;").replace('\'', "&#39;")
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
