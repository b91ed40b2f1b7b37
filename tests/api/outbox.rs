//! Recovery never waits on mail: the key and its mail are written in one
//! transaction, the answer does not depend on SES, and the mailer delivers
//! the outbox afterwards: at least once, not twice, a failure retried, a mail
//! SES refuses for good dead-lettered with its reason and resent by an operator.

use account_core::app::MailerApp;
use account_core::delivery::{deliver, Delivered};
use account_core::model::outbox::MailStatus;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

/// A mailer whose SES is at `url`, over the test app's outbox.
async fn mailer_at(app: &TestApp, url: &str) -> MailerApp {
    MailerApp::from_clients(&app.app.config, ddb_client().await, ses_client(url).await)
}

/// An SES that refuses every mail for good (`MessageRejected`), on loopback.
async fn refusing_ses() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = sock.read(&mut buf).await;
                let body = r#"{"message":"Email address is not verified."}"#;
                let res = format!(
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nx-amzn-errortype: MessageRejected\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(res.as_bytes()).await;
            });
        }
    });
    url
}

/// `mailer` delivers the mail `id` now, as the stream handler would.
async fn deliver_now(mailer: &MailerApp, id: &str) -> Delivered {
    deliver(&mailer.store, &mailer.mailer, id, account_core::clock::now)
        .await
        .unwrap()
}

async fn outbox_for(app: &TestApp, email: &str) -> Vec<account_core::model::outbox::OutboxMail> {
    let email = email.to_string();
    app.mailer
        .store
        .outbox(move |m| m.to.as_str() == email)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_answer_does_not_wait_on_mail_and_the_key_and_its_mail_commit_together() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    assert_eq!(app.recover(&user).await.status, 202);
    // Written with the key, not sent yet: nothing in the SES emulator, one mail waiting.
    let waiting = outbox_for(&app, &user.email).await;
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].status, MailStatus::Pending);
    assert!(app.stored_user(&user).await.recovery.is_some());
    // Delivered once; delivering again finds nothing to do.
    let id = waiting[0].id.to_string();
    let sent = deliver_now(&app.mailer, &id).await;
    assert!(
        matches!(sent, Delivered::Sent | Delivered::Skipped),
        "{sent:?}"
    );
    let again = deliver_now(&app.mailer, &id).await;
    assert_eq!(again, Delivered::Skipped, "claimed once");
    let mails = app.mails_to(&user.email).await;
    assert_eq!(mails.len(), 1, "not twice");
    assert!(
        outbox_for(&app, &user.email).await.is_empty(),
        "a sent mail (and its link) is gone"
    );
}

#[tokio::test]
async fn a_mail_that_cannot_be_sent_yet_waits_and_goes_when_ses_is_back() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    assert_eq!(
        app.recover(&user).await.status,
        202,
        "SES down does not matter to the answer"
    );
    let id = outbox_for(&app, &user.email).await[0].id.to_string();
    let down = mailer_at(&app, "http://127.0.0.1:9").await;
    let tried = deliver_now(&down, &id).await;
    assert!(
        matches!(tried, Delivered::RetryLater { attempts: 1, .. }),
        "{tried:?}"
    );
    let waiting = &outbox_for(&app, &user.email).await[0];
    assert_eq!(
        (waiting.status.clone(), waiting.attempts),
        (MailStatus::Pending, 1)
    );
    // SES back: the same mail goes, once, and its key works.
    one_mail_whose_key_works(&app, &user, "Mailed-Late-2026").await;
}

#[tokio::test]
async fn a_mail_ses_refuses_is_dead_lettered_listed_and_resent() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    assert_eq!(app.recover(&user).await.status, 202);
    let id = outbox_for(&app, &user.email).await[0].id.to_string();
    let refusing = mailer_at(&app, &refusing_ses().await).await;
    let tried = deliver_now(&refusing, &id).await;
    assert!(
        matches!(&tried, Delivered::GaveUp(r) if r.contains("MessageRejected")),
        "{tried:?}"
    );
    let dead = &outbox_for(&app, &user.email).await[0];
    assert!(
        matches!(&dead.status, MailStatus::Failed { reason } if reason.contains("MessageRejected"))
    );
    // Given up mails are not delivered by anyone...
    assert!(app.mails_to(&user.email).await.is_empty());
    // ... an operator sees them, with the reason and never the link ...
    let outbox = [("OUTBOX_TABLE", app.app.config.tables.outbox.as_str())];
    let (ok, listed) = crate::accountctl::accountctl_with(&["mail", "failed"], None, &outbox);
    assert!(ok, "{listed}");
    let line = listed
        .lines()
        .position(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(listed.lines().nth(line).unwrap().contains(&user.email));
    assert!(
        listed
            .lines()
            .nth(line + 1)
            .unwrap()
            .contains("MessageRejected"),
        "{listed}"
    );
    assert!(
        !listed.contains("confirmation="),
        "no link in the listing: {listed}"
    );
    // ... and puts one back in line; a wrong id is said to be wrong.
    let (ok, out) =
        crate::accountctl::accountctl_with(&["mail", "resend", "--id", &id], None, &outbox);
    assert!(ok && out.contains("1 mail(s) back in line"), "{out}");
    assert!(
        out.contains(&format!(
            r#""audit":"mail_resend","tenant":"{}""#,
            app.tenant
        )),
        "the audit record names the mail's tenant: {out}"
    );
    let (ok, out) =
        crate::accountctl::accountctl_with(&["mail", "resend", "--id", &id], None, &outbox);
    assert!(!ok && out.contains("no given-up mail by that id"), "{out}");
    one_mail_whose_key_works(&app, &user, "Resent-Mail-2026").await;
}

#[tokio::test]
async fn a_given_up_reset_mail_whose_link_expired_is_not_sent_again() {
    let app = spawn_app().await;
    app.set(&[("recovery.expiry", "2s")]).await;
    let user = app.add_user(false).await;
    assert_eq!(app.recover(&user).await.status, 202);
    let id = outbox_for(&app, &user.email).await[0].id.to_string();
    let refusing = mailer_at(&app, &refusing_ses().await).await;
    deliver_now(&refusing, &id).await;
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let w = app
        .mailer
        .store
        .resend_mail(&id, account_core::clock::now())
        .await
        .unwrap();
    assert!(w.is_none(), "a dead link stays given up");
    assert!(app.mails_to(&user.email).await.is_empty());
}

/// The mailer's edge, as Lambda calls it: a stream batch in, the records to
/// hand back out (partial batch failure), after waiting its backoff.
#[tokio::test]
async fn the_stream_handler_reports_the_records_to_retry_and_backs_off() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    assert_eq!(app.recover(&user).await.status, 202);
    let mail = &outbox_for(&app, &user.email).await[0];
    let record = |seq: &str, event: &str, status: &str| {
        serde_json::json!({
            "eventName": event,
            "dynamodb": {"SequenceNumber": seq, "NewImage": {
                "pk": {"S": mail.id.to_string()}, "status": {"S": status}
            }}
        })
    };
    let batch = serde_json::json!({"Records": [
        record("1", "INSERT", "pending"),
        // The mailer's own claim: nothing to do.
        record("2", "MODIFY", "sending"),
    ]});
    let down = mailer_at(&app, "http://127.0.0.1:9").await;
    let started = std::time::Instant::now();
    let answer = account_core::streams::handle(&down, batch.clone())
        .await
        .unwrap();
    assert_eq!(
        answer,
        serde_json::json!({"batchItemFailures": [{"itemIdentifier": "1"}]})
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "waited its backoff"
    );
    // Handed back once SES is up: sent, nothing to retry, the record gone.
    let answer = account_core::streams::handle(&app.mailer, batch)
        .await
        .unwrap();
    assert_eq!(answer, serde_json::json!({"batchItemFailures": []}));
    assert!(outbox_for(&app, &user.email).await.is_empty());
    assert_eq!(mails_to(&app.http, &user.email).await.len(), 1);
}

#[tokio::test]
async fn notices_go_through_the_outbox_with_the_change_they_report() {
    let app = spawn_app().await;
    app.set(&[("lock.max_failed_attempts", "1")]).await;
    let admin = app.add_user(true).await;
    let user = app.add_user(false).await;
    app.fail_logins(&user, 1).await;
    let waiting = outbox_for(&app, &user.email).await;
    assert_eq!(waiting.len(), 1, "the lock notice, written with the lock");
    assert_eq!(waiting[0].template.as_str(), "AccountLockFailedAttempt");
    assert_eq!(app.lock_user(&admin, &user, false, "").await.status, 200);
    // Each mail is its own stream record: they arrive once each, in no promised order.
    let mut subjects: Vec<String> = app
        .mails_to(&user.email)
        .await
        .into_iter()
        .map(|m| m.subject)
        .collect();
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "Your account was locked after failed sign-ins",
            "Your account was unlocked"
        ]
    );
}

#[tokio::test]
async fn a_mail_record_never_holds_a_password_and_a_notice_never_a_key() {
    let app = spawn_app().await;
    let user = app.add_user(false).await;
    let key = app.recovery_key(&user).await;
    let new_password = "Outbox-Secret-Passw0rd";
    assert_eq!(app.set_password(&key, new_password).await.status, 200);
    let waiting = outbox_for(&app, &user.email).await;
    assert_eq!(
        waiting.len(),
        1,
        "the password-changed notice, not sent yet"
    );
    let item = app
        .raw_item(&app.app.config.tables.outbox, &waiting[0].id.to_string())
        .await
        .expect("stored");
    for v in item_strings(&item) {
        assert!(
            !v.contains(new_password),
            "the new password is in the record"
        );
        assert!(
            !v.contains(&user.password),
            "the old password is in the record"
        );
        assert!(!v.contains(&key), "the used key is in the notice");
    }
    // The reset mail itself is gone: sent, and its link with it.
    assert_eq!(waiting[0].template.as_str(), "PasswordResetSuccess");
}

/// Exactly one mail reached `user`, and its key sets `password`.
async fn one_mail_whose_key_works(app: &TestApp, user: &TestUser, password: &str) {
    let mails = app.mails_to(&user.email).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(
        app.set_password(&mails[0].key(), password).await.status,
        200
    );
}
