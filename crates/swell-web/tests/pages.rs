//! The UI over HTTP, in process: sign-in, sessions and CSRF, the Monitor's filters and pages,
//! the job page, roles, the live stream and the static files. (The browser walks the same
//! pages in `browser.rs`.)

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{FORM, TOKEN, Ui, csrf_of, enc, failing_flow, quick_flow};
use http_body_util::BodyExt;
use std::time::Duration;
use swell_core::{JobType, Role};
use tower::ServiceExt;

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
