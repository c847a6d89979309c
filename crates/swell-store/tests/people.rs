//! People in the store (issue 15), on SQLite and PostgreSQL: users and tokens, who made and
//! changed each record, sign-in failures and the audit log.

mod common;

use serde_json::json;
use swell_core::{AssetKind, JobType, Schedule};
use swell_store::Store;

on_both!(users, users_and_tokens);
on_both!(who, records_name_who_made_and_changed_them);
on_both!(audit, the_audit_log_keeps_events_in_order_and_filters_them);
on_both!(sign_in_failures, sign_in_failures_are_counted_by_key_within_a_window);

/// Issue 15: the administrator exists from the start and keeps the first user id; usernames
/// are unique in any case; a token signs in while it is not revoked or expired and its user
/// is active.
async fn users_and_tokens(s: Store) {
    use swell_core::Role;
    let admin = s.ensure_admin("swell admin").await.unwrap();
    assert_eq!((admin.id.clone(), admin.role), (swell_store::admin_id(), Role::Admin));
    let ana = s.create_user("ana@example.com", "Ana", Some("ana@example.com"), Role::Operator).await.unwrap();
    assert_ne!(ana.id, admin.id, "the next user id is past the administrator's");
    assert!(s.create_user("ANA@example.com", "Other", None, Role::Viewer).await.is_err());
    assert_eq!(s.find_user("Ana@Example.com").await.unwrap().unwrap().id, ana.id);
    assert_eq!(s.find_user(ana.id.fifteen()).await.unwrap().unwrap().username, "ana@example.com");
    let now = chrono::Utc::now();
    let t = s.create_token("tok_1", &ana.id, "h1", None, None, None).await.unwrap();
    let (u, found) = s.user_of_token("h1", now).await.unwrap().unwrap();
    assert_eq!((u.id, found.id), (ana.id.clone(), t.id.clone()));
    assert!(s.user_of_token("h2", now).await.unwrap().is_none());
    s.update_user(&ana.id, Some(Role::Editor), Some(false)).await.unwrap();
    assert!(s.user_of_token("h1", now).await.unwrap().is_none(), "a deactivated user's tokens stop");
    let back = s.update_user(&ana.id, None, Some(true)).await.unwrap();
    assert_eq!((back.role, back.active), (Role::Editor, true));
    s.create_token("tok_2", &ana.id, "h2", Some(now + chrono::Duration::seconds(1)), None, None).await.unwrap();
    assert!(s.user_of_token("h2", now).await.unwrap().is_some());
    assert!(s.user_of_token("h2", now + chrono::Duration::seconds(2)).await.unwrap().is_none(), "expired");
    s.touch_token("tok_1", now).await.unwrap();
    let revoked = s.revoke_token("tok_1").await.unwrap();
    assert!(revoked.revoked_date.is_some() && revoked.last_used.is_some());
    assert!(s.user_of_token("h1", now).await.unwrap().is_none(), "revoked");
    assert_eq!(s.tokens_of(&ana.id).await.unwrap().len(), 2);
    assert_eq!(s.list_users().await.unwrap().len(), 2);
    // a session a token opened ends when that token is revoked; others stay
    s.create_token("tok_3", &ana.id, "h3", None, None, None).await.unwrap();
    s.create_token("tok_4", &ana.id, "h4", Some(now + chrono::Duration::hours(2)), None, Some("tok_3")).await.unwrap();
    s.create_token("tok_5", &ana.id, "h5", Some(now + chrono::Duration::hours(2)), None, None).await.unwrap();
    assert!(s.user_of_token("h4", now).await.unwrap().is_some());
    s.revoke_token("tok_3").await.unwrap();
    assert!(s.user_of_token("h4", now).await.unwrap().is_none(), "its parent was revoked");
    assert!(s.user_of_token("h5", now).await.unwrap().is_some());
    // tokens that expired long ago go; the others stay
    assert_eq!(s.prune_expired_tokens(now + chrono::Duration::seconds(5)).await.unwrap(), 1, "tok_2");
    assert_eq!(s.tokens_of(&ana.id).await.unwrap().len(), 4);
}

async fn records_name_who_made_and_changed_them(s: Store) {
    use swell_core::{Role, Trigger};
    use swell_store::admin_id;
    let ana = s.create_user("ana@example.com", "Ana Lima", None, Role::Editor).await.unwrap();
    let admin = s.user(&admin_id()).await.unwrap();
    let d = s.create_dataflow(&ana.id, "Sales", "Sales", None, &json!({"a": 1})).await.unwrap();
    assert_eq!((&d.created_by.id, d.created_by.name.as_str()), (&ana.id, "Ana Lima"));
    assert_eq!(d.last_modified_by, d.created_by);
    let d = s.update_dataflow(&admin_id(), &d.id, None, None, Some(&json!({"a": 2})), None).await.unwrap();
    assert_eq!((&d.created_by.id, &d.last_modified_by.id), (&ana.id, &admin.id));
    assert_eq!(d.last_modified_by.name, admin.name);
    let h = s.histories(&d.id).await.unwrap();
    assert_eq!((&h[0].created_by.id, &h[1].created_by.id), (&admin.id, &ana.id), "each history entry names its saver");

    // a job is started by someone; what it writes is theirs
    let job = s.enqueue_job(&ana.id, &d.id, JobType::User, "Sales").await.unwrap().queued().unwrap();
    assert_eq!((&job.started_by.id, job.trigger), (&ana.id, Trigger::User));
    let refused = s.enqueue_job(&admin_id(), &d.id, JobType::User, "Sales").await.unwrap().refused().unwrap();
    assert_eq!(refused.started_by.id, admin.id, "a refused request names who asked");
    let claimed = s.claim_next(JobType::User, "me", 1).await.unwrap().unwrap();
    assert_eq!(claimed.id, job.id);
    let v =
        swell_store::NewVersion { name: "Out".into(), label: "Out".into(), storage_version: "v1".into(), row_count: 1 };
    s.succeed_with_versions(&job.id, "me", &[v]).await.unwrap().unwrap();
    let out = s.dataset_by_name("Out").await.unwrap().unwrap();
    assert_eq!((&out.created_by.id, &out.last_modified_by.id), (&ana.id, &ana.id));
    let versions = s.dataset_versions(&out.id).await.unwrap();
    assert_eq!(versions[0].created_by.id, ana.id);
    // a restore is the restorer's change
    let (_, v2) = s.record_dataset_version(&admin_id(), "Out", "Out", "v2", 2, None).await.unwrap();
    assert_eq!(v2.created_by.id, admin.id);
    // dataset names are unique regardless of case: a job registering `OUT` records nothing
    let clash = s.record_dataset_version(&admin_id(), "OUT", "Out", "v3", 3, None).await.unwrap_err();
    assert_eq!(
        clash.to_string(),
        "the dataset 'OUT' differs only in case from the dataset 'Out' (dataset names are compared regardless \
         of case): register it under that name or another"
    );
    assert_eq!(s.dataset_versions(&out.id).await.unwrap().len(), 2, "nothing recorded");
    let back = s.set_current_version(&ana.id, &out.id, &versions[0].id).await.unwrap();
    assert_eq!((&back.created_by.id, &back.last_modified_by.id), (&ana.id, &ana.id));

    // connections and their objects
    let c = s.create_connector(&ana.id, "DW", "DW", None, "SfdcLocal", &[]).await.unwrap();
    assert_eq!((&c.created_by.id, &c.last_modified_by.id), (&ana.id, &ana.id));
    let c = s.update_connector(&admin_id(), &c.id, Some("Warehouse"), None, None).await.unwrap();
    assert_eq!((&c.created_by.id, &c.last_modified_by.id), (&ana.id, &admin.id));
    let o = s.create_replicated(&admin_id(), &c.id, "Account", &Default::default()).await.unwrap();
    assert_eq!(o.created_by.id, admin.id);
    let patch = swell_store::ReplicatedPatch { full_refresh: Some(true), ..Default::default() };
    let o = s.update_replicated(&ana.id, &o.id, &patch).await.unwrap();
    assert_eq!((&o.created_by.id, &o.last_modified_by.id), (&admin.id, &ana.id));
    assert_eq!(s.list_connectors().await.unwrap()[0].last_modified_by.name, admin.name);

    // a recipe is its dataflow's
    let r = s.create_recipe(&ana.id, "Prep", "Prep", None, &json!({"nodes": {}})).await.unwrap();
    assert_eq!(r.dataflow.created_by.id, ana.id);

    // a schedule remembers its setter, who starts what it fires
    let daily =
        Schedule::from_input(&json!({"frequency": "daily", "time": {"hour": 2, "minute": 0, "timezone": "UTC"}}))
            .unwrap();
    let rec = s.put_schedule(&ana.id, &d.id, AssetKind::Dataflow, &daily, None).await.unwrap();
    assert_eq!(rec.last_modified_by, ana.id);
}

/// Sign-in attempts are counted in the store before they are checked, so that every server
/// sharing it sees them, and a burst at once gets no more checks than the limit.
async fn sign_in_failures_are_counted_by_key_within_a_window(s: Store) {
    let now = chrono::Utc::now();
    let window = chrono::Duration::minutes(15);
    for i in 0..3 {
        let at = now - chrono::Duration::minutes(20 - i);
        s.count_sign_in_attempt(&["user:ana", "addr:10.0.0.1"], &format!("old{i}"), at, at - window).await.unwrap();
    }
    assert_eq!(s.sign_in_failures("user:ana", now - window).await.unwrap(), 0, "older than the window");
    let seen = s.count_sign_in_attempt(&["user:ana", "addr:10.0.0.1"], "a1", now, now - window).await.unwrap();
    assert_eq!(seen, 1, "the attempt counts itself");
    s.count_sign_in_attempt(&["user:bob"], "b1", now, now - window).await.unwrap();
    // an attempt that succeeded is not a failure
    let seen = s.count_sign_in_attempt(&["user:ana", "addr:10.0.0.1"], "a2", now, now - window).await.unwrap();
    assert_eq!(seen, 2);
    s.drop_sign_in_attempt("a2").await.unwrap();
    assert_eq!(s.sign_in_failures("addr:10.0.0.1", now - window).await.unwrap(), 1);
    s.clear_sign_in_failures("user:ana").await.unwrap();
    assert_eq!(s.sign_in_failures("user:ana", now - window).await.unwrap(), 0);
    assert_eq!(s.sign_in_failures("user:bob", now - window).await.unwrap(), 1, "only that key is forgotten");

    // 40 attempts at once: each sees at least its own rank, so at most 10 see a count within 10
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                s.count_sign_in_attempt(&["user:eve"], &format!("e{i}"), now, now - window).await.unwrap()
            })
        })
        .collect();
    let mut within = 0;
    for t in tasks {
        if t.await.unwrap() <= 10 {
            within += 1;
        }
    }
    assert!(within <= 10, "{within} attempts of a burst were let through to be checked");
}

async fn the_audit_log_keeps_events_in_order_and_filters_them(s: Store) {
    use swell_store::{AuditFilter, NewAuditEvent, Outcome, admin_id};
    let admin = admin_id();
    let d = s.create_dataflow(&admin, "Sales", "Sales", None, &json!({})).await.unwrap();
    let event = |action: &'static str, outcome: Outcome| NewAuditEvent {
        user_id: Some(&admin),
        username: "admin@swell.local",
        action,
        asset_id: Some(&d.id),
        asset_name: Some("Sales"),
        outcome,
        detail: None,
    };
    let first = s.add_audit_event(&event("create dataflow", Outcome::Success)).await.unwrap();
    let second = s.add_audit_event(&event("start job", Outcome::Refused)).await.unwrap();
    let stranger = NewAuditEvent {
        user_id: None,
        username: "who@example.com",
        action: "sign in",
        asset_id: None,
        asset_name: None,
        outcome: Outcome::Failed,
        detail: Some("no such user"),
    };
    let third = s.add_audit_event(&stranger).await.unwrap();
    assert!(first < second && second < third);
    let all = s.audit_events(&AuditFilter { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![third, second, first], "newest first");
    assert_eq!((all[0].user_id.as_ref(), all[0].detail.as_deref()), (None, Some("no such user")));
    let page = s.audit_events(&AuditFilter { limit: 1, before: Some(third), ..Default::default() }).await.unwrap();
    assert_eq!(page[0].seq, second);
    let mine =
        AuditFilter { limit: 10, user_id: Some(admin.clone()), asset_id: Some(d.id.clone()), ..Default::default() };
    assert_eq!(s.audit_events(&mine).await.unwrap().len(), 2);
    let refused = AuditFilter { limit: 10, outcome: Some(Outcome::Refused), ..Default::default() };
    assert_eq!(s.audit_events(&refused).await.unwrap()[0].action, "start job");
    let by_action = AuditFilter { limit: 10, action: Some("sign in".into()), ..Default::default() };
    assert_eq!(s.audit_events(&by_action).await.unwrap()[0].seq, third);
    let later =
        AuditFilter { limit: 10, since: Some(chrono::Utc::now() + chrono::Duration::minutes(1)), ..Default::default() };
    assert!(s.audit_events(&later).await.unwrap().is_empty());
}
