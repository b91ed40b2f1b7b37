//! The operators' CLI, run as a user would, against DynamoDB Local.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::*;

/// The `accountctl` binary next to this test binary (`cargo test --workspace` builds it).
fn accountctl(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    accountctl_with(args, stdin, &[])
}

/// The same, with variables of the test's own (an outbox table) set too.
pub fn accountctl_with(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> (bool, String) {
    let exe = std::env::current_exe().expect("test binary path");
    let bin = exe
        .parent()
        .and_then(|p| p.parent())
        .expect("target dir")
        .join("accountctl");
    assert!(
        bin.exists(),
        "{} missing: build the workspace first",
        bin.display()
    );
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for k in [
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "USERS_TABLE",
        "SETTINGS_TABLE",
        "KEYS_TABLE",
        "MAIL_FROM",
    ] {
        cmd.env(k, lookup(k).expect(k));
    }
    // The in-process tests' own outbox (spawn_app's): notices land where they deliver.
    let outbox = format!(
        "{}-api-tests",
        lookup("OUTBOX_TABLE").expect("OUTBOX_TABLE")
    );
    cmd.env("OUTBOX_TABLE", outbox);
    cmd.envs(env.iter().copied());
    let mut child = cmd.spawn().expect("accountctl runs");
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn tenant_settings_are_validated_before_anything_is_stored() {
    let app = spawn_app().await;
    let t = app.tenant.as_str();
    let (ok, out) = accountctl(
        &[
            "tenant",
            "set",
            "--tenant",
            t,
            "recovery.expiry=30m",
            "lock.max_failed_attempts=3",
        ],
        None,
    );
    assert!(ok, "{out}");
    for (bad, key) in [
        ("recovery.nope=1", "recovery.nope"),
        ("recovery.expiry=soon", "recovery.expiry"),
        ("password.min_length=70", "password.min_length"),
        ("password.regex=([a-z]", "password.regex"),
        (r"password.regex=^[\S]{6,30}$", "password.regex"),
    ] {
        let extra = if key == "password.regex" && bad.contains("6,30") {
            "password.min_length=40"
        } else {
            "lock.ratio=3"
        };
        let (ok, out) = accountctl(&["tenant", "set", "--tenant", t, extra, bad], None);
        assert!(!ok, "{bad} accepted: {out}");
        assert!(out.contains(key), "{bad}: {out}");
    }
    let (ok, out) = accountctl(&["tenant", "show", "--tenant", t], None);
    assert!(ok, "{out}");
    assert!(out.contains("recovery.expiry = 30m  [tenant]"), "{out}");
    assert!(
        out.contains("lock.ratio = 2  [default]"),
        "nothing of the refused calls stored: {out}"
    );
    let (ok, _) = accountctl(&["tenant", "unset", "--tenant", t, "recovery.expiry"], None);
    assert!(ok);
    let (_, out) = accountctl(&["tenant", "show", "--tenant", t], None);
    assert!(out.contains("recovery.expiry = 15m  [default]"), "{out}");
}

#[tokio::test]
async fn users_are_added_through_the_policy_shown_without_secrets_and_unlocked() {
    let app = spawn_app().await;
    let t = app.tenant.as_str();
    let name = unique("cli-");
    let email = format!("{name}@example.test");
    let add = |pw: &str| {
        accountctl(
            &[
                "user",
                "add",
                "--tenant",
                t,
                "--username",
                &name,
                "--email",
                &email,
                "--password-stdin",
            ],
            Some(&format!("{pw}\n")),
        )
    };
    let (ok, out) = add("password1");
    assert!(!ok && out.contains("most commonly used"), "{out}");
    let (ok, out) = add("Cli-Added-Passw0rd");
    assert!(ok, "{out}");
    let (ok, out) = add("Cli-Added-Passw0rd");
    assert!(!ok && out.contains("exists"), "{out}");

    for _ in 0..5 {
        app.login(&name, "wrong").await;
    }
    let (ok, out) = accountctl(&["user", "show", "--tenant", t, "--username", &name], None);
    assert!(ok, "{out}");
    assert!(
        out.contains("account locked:  yes (MaxAttemptsExceeded)"),
        "{out}"
    );
    assert!(out.contains(&email));
    assert!(
        !out.contains("argon2") && !out.contains("Cli-Added"),
        "no secrets: {out}"
    );

    let (ok, out) = accountctl(
        &["user", "unlock", "--tenant", t, "--username", &name],
        None,
    );
    assert!(
        ok && out.contains("was locked: MaxAttemptsExceeded"),
        "{out}"
    );
    assert_eq!(app.login(&name, "Cli-Added-Passw0rd").await.status, 200);
}

#[tokio::test]
async fn mail_templates_are_set_shown_validated_and_unset() {
    let app = spawn_app().await;
    let t = app.tenant.as_str();
    let dir = std::env::temp_dir().join(unique("tpl-"));
    std::fs::create_dir_all(&dir).unwrap();
    let (text, html) = (dir.join("t.txt"), dir.join("t.html"));
    std::fs::write(&text, "Locked: {{reason}}").unwrap();
    std::fs::write(&html, "<p>Locked: {{reason}}</p>").unwrap();
    let set = |name: &str, subject: &str| {
        accountctl(
            &[
                "tenant",
                "template",
                "set",
                "--tenant",
                t,
                "--name",
                name,
                "--subject",
                subject,
                "--text-file",
                text.to_str().unwrap(),
                "--html-file",
                html.to_str().unwrap(),
            ],
            None,
        )
    };
    let (ok, out) = set("AccountLock", "Locked at {{tenant}}");
    assert!(ok, "{out}");
    let (ok, out) = accountctl(
        &[
            "tenant",
            "template",
            "show",
            "--tenant",
            t,
            "--name",
            "AccountLock",
        ],
        None,
    );
    assert!(
        ok && out.contains("[tenant]") && out.contains("subject: Locked at {{tenant}}"),
        "{out}"
    );
    let (ok, out) = set("Nope", "x");
    assert!(!ok && out.contains("unknown"), "{out}");
    let (ok, out) = set("AccountUnlock", "");
    assert!(!ok && out.contains("AccountUnlock"), "{out}");

    // The mail uses it.
    let admin = app.add_user(true).await;
    let user = app.add_user(false).await;
    assert_eq!(
        app.lock_user(&admin, &user, true, "testing").await.status,
        200
    );
    let mail = app.mails_to(&user.email).await.pop().unwrap();
    assert_eq!(
        (mail.subject.as_str(), mail.text.as_str()),
        (format!("Locked at {t}").as_str(), "Locked: testing")
    );

    let (ok, _) = accountctl(
        &[
            "tenant",
            "template",
            "unset",
            "--tenant",
            t,
            "--name",
            "AccountLock",
        ],
        None,
    );
    assert!(ok);
    let (_, out) = accountctl(
        &[
            "tenant",
            "template",
            "show",
            "--tenant",
            t,
            "--name",
            "AccountLock",
        ],
        None,
    );
    assert!(out.contains("[built-in]"), "{out}");
}

#[tokio::test]
async fn what_would_break_later_is_refused_when_written() {
    let app = spawn_app().await;
    let t = app.tenant.as_str();
    // A duration without its unit: WSO2's 1440 (minutes) would have been 24 minutes here.
    let (ok, out) = accountctl(
        &["tenant", "set", "--tenant", t, "recovery.expiry=1440"],
        None,
    );
    assert!(
        !ok && out.contains("recovery.expiry") && out.contains("no unit"),
        "{out}"
    );
    // Turning the lock reason on says what it gives away.
    let (ok, out) = accountctl(
        &[
            "tenant",
            "set",
            "--tenant",
            t,
            "lock.show_failure_reason=true",
        ],
        None,
    );
    assert!(
        ok && out.contains("warning") && out.contains("exists and is locked"),
        "{out}"
    );
    // A reCAPTCHA secret is never printed.
    let (ok, _) = accountctl(
        &[
            "tenant",
            "set",
            "--tenant",
            t,
            "recovery.captcha.secret=very-secret-value",
            "recovery.captcha.site_key=6Lc-public-site-key",
        ],
        None,
    );
    assert!(ok);
    let (_, out) = accountctl(&["tenant", "show", "--tenant", t], None);
    assert!(
        !out.contains("very-secret-value") && out.contains("6Lc-public-site-key"),
        "{out}"
    );

    // A reset template with WSO2's key placeholder would mail no link.
    let dir = std::env::temp_dir().join(unique("tpl-"));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("t.txt");
    std::fs::write(
        &text,
        "Reset: {{carbon.product-url}}?confirmation={{confirmation-code}}",
    )
    .unwrap();
    let (ok, out) = accountctl(
        &[
            "tenant",
            "template",
            "set",
            "--tenant",
            t,
            "--name",
            "PasswordReset",
            "--text-file",
            text.to_str().unwrap(),
        ],
        None,
    );
    assert!(!ok && out.contains("{{carbon.product-url}}"), "{out}");
    std::fs::write(&text, "Hi {{user-name}}, reset at:\n{{link}}\n").unwrap();
    let (ok, out) = accountctl(
        &[
            "tenant",
            "template",
            "set",
            "--tenant",
            t,
            "--name",
            "PasswordReset",
            "--text-file",
            text.to_str().unwrap(),
        ],
        None,
    );
    assert!(ok, "WSO2's name for the username is an alias: {out}");

    // Addresses SES could not send to are refused; IDN domains are stored as punycode.
    let add = |name: &str, email: &str| {
        accountctl(
            &[
                "user",
                "add",
                "--tenant",
                t,
                "--username",
                name,
                "--email",
                email,
                "--password-stdin",
            ],
            Some("Idn-Address-Passw0rd\n"),
        )
    };
    let (ok, out) = add(&unique("u-"), "jürgen@example.com");
    assert!(!ok && out.contains("ASCII"), "{out}");
    let name = unique("u-");
    let (ok, out) = add(&name, "kim@bücher.example");
    assert!(ok, "{out}");
    let (_, out) = accountctl(&["user", "show", "--tenant", t, "--username", &name], None);
    assert!(out.contains("kim@xn--bcher-kva.example"), "{out}");
}

/// The audit records accountctl printed (JSON lines on stderr).
fn audit_records(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .filter(|l| l.starts_with("{\"audit\""))
        .map(|l| serde_json::from_str(l).expect("an audit record is JSON"))
        .collect()
}

#[tokio::test]
async fn operators_lock_unlock_list_and_delete_with_mail_and_an_audit_record() {
    let app = spawn_app().await;
    app.set(&[("lock.notify", "true")]).await;
    let t = app.tenant.as_str();
    let user = app.add_user(false).await;
    let open = app.add_user(false).await;
    let name = user.username().to_string();
    let run = |args: &[&str]| accountctl(args, None);

    let (ok, out) = run(&[
        "user",
        "lock",
        "--tenant",
        t,
        "--username",
        &name,
        "--reason",
        "left the team",
    ]);
    assert!(ok && out.contains("locked"), "{out}");
    let audit = audit_records(&out);
    assert_eq!(audit.len(), 1, "{out}");
    assert_eq!(audit[0]["audit"], "admin_lock");
    assert_eq!(audit[0]["result"], "done");
    assert_eq!(audit[0]["subject"], user.user_ref.storage_key());
    assert_eq!(audit[0]["detail"], "reason: left the team");
    assert!(
        audit[0]["actor"]
            .as_str()
            .unwrap()
            .starts_with("accountctl:"),
        "{out}"
    );
    // The same lock as lock-user's: the right password no longer logs in, and the user is told.
    assert_eq!(app.login(&name, &user.password).await.status, 401);
    let mails = app.mails_to(&user.email).await;
    assert!(
        mails.iter().any(|m| m.text.contains("left the team")),
        "{mails:?}"
    );

    let (ok, out) = run(&["--json", "user", "list", "--tenant", t, "--locked"]);
    assert!(ok, "{out}");
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1, "only the locked user: {out}");
    assert_eq!(listed[0]["username"], name.as_str());
    assert_eq!(listed[0]["lockReason"], "AdminInitiated");
    assert!(!out.contains("argon2"), "no hash: {out}");
    let (ok, out) = run(&["--json", "user", "list", "--tenant", t]);
    assert!(
        ok && audit_records(&out).is_empty(),
        "a read writes no audit record: {out}"
    );
    let all: serde_json::Value = serde_json::from_str(&out).unwrap();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2, "{out}");
    assert!(all
        .iter()
        .any(|u| u["username"] == open.username() && u["locked"] == false));

    let (ok, out) = run(&["user", "unlock", "--tenant", t, "--username", &name]);
    assert!(ok && out.contains("was locked: AdminInitiated"), "{out}");
    assert_eq!(audit_records(&out)[0]["audit"], "admin_unlock");
    assert_eq!(app.login(&name, &user.password).await.status, 200);
    assert_eq!(
        app.mails_to(&user.email).await.len(),
        mails.len() + 1,
        "the unlock mail"
    );

    let (ok, out) = run(&["user", "delete", "--tenant", t, "--username", &name]);
    assert!(ok, "{out}");
    assert_eq!(audit_records(&out)[0]["audit"], "user_delete");
    let (ok, out) = run(&["user", "show", "--tenant", t, "--username", &name]);
    assert!(!ok && out.contains("no user"), "{out}");
    let (ok, out) = run(&["user", "delete", "--tenant", t, "--username", &name]);
    assert!(!ok, "{out}");
    assert_eq!(audit_records(&out)[0]["result"], "unknown_subject");
}
