use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn one_source_ip_gets_the_same_answer_but_no_mail_past_its_hourly_limit() {
    let app = spawn_app().await;
    app.set(&[("recovery.max_requests_per_ip_per_hour", "3")])
        .await;
    let ip = format!("198.51.100.{}", rand_octet());
    let mut users = Vec::new();
    for _ in 0..5 {
        users.push(app.add_user(false).await);
    }
    for u in &users {
        let body = json!({"user": u.json()}).to_string();
        let res = app.call_with("POST", RECOVER, body, &[], Some(&ip)).await;
        assert_eq!((res.status, res.body.as_str()), (202, ""));
    }
    let mut sent = 0;
    for u in &users {
        sent += app.mails_to(&u.email).await.len();
    }
    assert_eq!(sent, 3, "three mails, then nothing from this address");

    // Unknown users count too, so the limit says nothing about who exists.
    let ghost =
        json!({"user": {"username": "ghost", "tenant-domain": app.tenant.as_str()}}).to_string();
    assert_eq!(
        app.call_with("POST", RECOVER, ghost, &[], Some(&ip))
            .await
            .status,
        202
    );
    let hour = account_core::clock::now().0 / 3600;
    let item = app
        .raw_item(
            &app.app.config.tables.rate_limits,
            &format!("ip#{}#{ip}#{hour}", app.tenant),
        )
        .await
        .expect("counter stored");
    // Counted up to the first request over the limit (the fourth); after that
    // this instance knows the address is over and writes nothing more.
    assert_eq!(item["n"].as_n().unwrap(), "4");
    let ttl: i64 = item["ttl"].as_n().unwrap().parse().unwrap();
    assert_eq!(ttl, (hour + 2) * 3600, "removed by TTL after the window");

    // Another address is not affected; resend-code shares the budget.
    let other = format!("198.51.100.{}", rand_octet());
    let body = json!({"user": users[4].json()}).to_string();
    assert_eq!(
        app.call_with("POST", RECOVER, body, &[], Some(&other))
            .await
            .status,
        202
    );
    assert_eq!(app.mails_to(&users[4].email).await.len(), 1);
    let resend = json!({"user": users[0].json(), "properties": [{"key": "RecoveryScenario", "value": "NOTIFICATION_BASED_PW_RECOVERY"}]}).to_string();
    assert_eq!(
        app.call_with("POST", RESEND, resend, &[], Some(&ip))
            .await
            .status,
        201
    );
    assert_eq!(
        app.mails_to(&users[0].email).await.len(),
        1,
        "over the limit: not resent"
    );
}

fn rand_octet() -> u8 {
    uuid::Uuid::new_v4().as_bytes()[0]
}
