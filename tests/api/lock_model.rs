//! The lock model is what runs: after each transition through the real
//! endpoints, the stored state is exactly what `model::lock` returns for the
//! state before it. And a burst gets no more checked chances than the same
//! tries one after another.

use std::sync::Arc;
use std::time::Duration;

use account_core::model::lock::{LockSettings, LockState, Persist};
use account_core::model::time::UnixTime;

use crate::helpers::*;

async fn lock_settings(app: &TestApp) -> LockSettings {
    let (settings, _) = app
        .app
        .store
        .load(&app.tenant, &[], &app.app.config.defaults)
        .await
        .unwrap();
    settings.lock
}

async fn lock_of(app: &TestApp, user: &TestUser) -> LockState {
    app.stored_user(user).await.lock
}

fn applied(before: &LockState, persist: Persist) -> LockState {
    match persist {
        Persist::Write(s) => s,
        Persist::Nothing | Persist::Confirm => before.clone(),
    }
}

#[tokio::test]
async fn the_stored_state_after_each_transition_is_the_models() {
    let app = spawn_app().await;
    app.set(&[("lock.max_failed_attempts", "2"), ("lock.duration", "10m")])
        .await;
    let cfg = lock_settings(&app).await;
    let admin = app.add_user(true).await;
    let user = app.add_user(false).await;

    // A wrong password on an open account: counted.
    let s0 = lock_of(&app, &user).await;
    app.login(user.username(), "wrong").await;
    let s1 = lock_of(&app, &user).await;
    assert_eq!(s1, applied(&s0, s0.login(&cfg, false, UnixTime(0)).persist));
    assert_eq!((s1.failed_attempts, s1.version), (1, s0.version + 1));

    // A right password: the count cleared.
    app.login(user.username(), &user.password).await;
    let s2 = lock_of(&app, &user).await;
    assert_eq!(s2, applied(&s1, s1.login(&cfg, true, UnixTime(0)).persist));
    assert_eq!(s2.failed_attempts, 0);

    // Two wrong ones: the second locks, at the time it records.
    app.fail_logins(&user, 1).await;
    let s3 = lock_of(&app, &user).await;
    app.fail_logins(&user, 1).await;
    let s4 = lock_of(&app, &user).await;
    let at = s4.failed_lock.as_ref().expect("locked").at;
    assert_eq!(s4, applied(&s3, s3.login(&cfg, false, at).persist));

    // Tries on the locked account change nothing.
    app.login(user.username(), &user.password).await;
    app.login(user.username(), "wrong").await;
    assert_eq!(lock_of(&app, &user).await, s4);

    // An admin lock on top, then an admin unlock.
    app.lock_user(&admin, &user, true, "audit").await;
    let s5 = lock_of(&app, &user).await;
    let at = s5.admin_lock.as_ref().expect("admin-locked").at;
    assert_eq!(s5, applied(&s4, s4.admin_lock("audit", at).persist));
    app.lock_user(&admin, &user, false, "").await;
    let s6 = lock_of(&app, &user).await;
    assert_eq!(s6, applied(&s5, s5.admin_unlock(at).persist));
    assert_eq!(s6.active(account_core::clock::now()), None);

    // A failure, then a password set through recovery.
    app.fail_logins(&user, 1).await;
    let s7 = lock_of(&app, &user).await;
    let key = app.recovery_key(&user).await;
    assert_eq!(
        app.set_password(&key, "Model-Reset-Passw0rd").await.status,
        200
    );
    let s8 = lock_of(&app, &user).await;
    assert_eq!(s8, applied(&s7, s7.password_reset()));
    assert_eq!((s8.failed_attempts, s8.version), (0, s7.version + 1));
}

/// Seven wrong passwords released together, the right one a moment later
/// (it still reads the account before any of them has written): the wrong
/// ones reach the store first, lock the account, and the right one is refused.
async fn one_burst(app: &Arc<TestApp>) -> (TestUser, Vec<u16>, TestResponse) {
    let user = app.add_user(false).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let mut wrong = tokio::task::JoinSet::new();
    for i in 0..7 {
        let (app, name, barrier) = (app.clone(), user.username().to_string(), barrier.clone());
        wrong.spawn(async move {
            barrier.wait().await;
            app.login(&name, &format!("wrong-{i}")).await.status
        });
    }
    let right = {
        let (app, user, barrier) = (app.clone(), user.clone(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            tokio::time::sleep(Duration::from_millis(40)).await;
            app.login(user.username(), &user.password).await
        })
    };
    let statuses = wrong.join_all().await;
    (user, statuses, right.await.unwrap())
}

/// Bursts released together, as an attacker sends them. The right password
/// reads the account before any wrong one has written, so it can only get in
/// by landing first (a lawful order); the code before this lock model let it in
/// every time. A rare lawful win is allowed, a habit is not; the deterministic
/// test below pins the mechanism.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn a_burst_cannot_outrun_the_lock() {
    let app = Arc::new(spawn_app().await);
    app.set(&[("lock.max_failed_attempts", "1")]).await;
    let mut right_got_in = 0;
    for round in 0..6 {
        let (user, statuses, right) = one_burst(&app).await;
        assert!(
            statuses.iter().all(|s| *s == 401),
            "round {round}: {statuses:?}"
        );
        match right.status {
            200 => right_got_in += 1,
            _ => {
                right.assert_error(401, "17002");
            }
        }
        let stored = app.stored_user(&user).await;
        assert_eq!(stored.lock.lock_count, 1, "round {round}: locked once");
        assert!(stored.lock.failed_lock.is_some());
        assert_eq!(app.mails_to(&user.email).await.len(), 1, "one lock notice");
    }
    println!("the right password got in {right_got_in} of 6 bursts");
    assert!(
        right_got_in <= 1,
        "the right password got in {right_got_in} of 6 bursts"
    );
}

/// The deterministic form of the burst: a right password decided on a state
/// read before a lock landed is refused, because its confirmation is a write
/// conditioned on that state.
#[tokio::test]
async fn a_right_password_decided_on_a_stale_read_is_refused_after_the_lock() {
    use account_core::lockout::login::{check_password, LoginError};
    use account_core::model::domain::Password;
    use account_core::model::lock::LoginRefusal;
    let app = spawn_app().await;
    app.set(&[("lock.max_failed_attempts", "1")]).await;
    let user = app.add_user(false).await;
    let stale = app.stored_user(&user).await;
    app.fail_logins(&user, 1).await; // another request locks the account
    let (settings, _) = app
        .app
        .store
        .load(&app.tenant, &[], &app.app.config.defaults)
        .await
        .unwrap();
    let right = Password::new(user.password.clone()).unwrap();
    let res = check_password(
        &app.app.store,
        &app.app.mail,
        &settings,
        Some(stale.clone()),
        right.clone(),
        account_core::clock::now(),
    )
    .await;
    assert!(
        matches!(
            res,
            Err(LoginError::Refused(LoginRefusal::InvalidCredentials))
        ),
        "{res:?}"
    );

    // A reset that lands after the read: the old password is wrong now.
    let other = app.add_user(false).await;
    let stale = app.stored_user(&other).await;
    let key = app.recovery_key(&other).await;
    assert_eq!(
        app.set_password(&key, "After-The-Read-2026").await.status,
        200
    );
    let old = Password::new(other.password.clone()).unwrap();
    let res = check_password(
        &app.app.store,
        &app.app.mail,
        &settings,
        Some(stale),
        old,
        account_core::clock::now(),
    )
    .await;
    assert!(matches!(res, Err(LoginError::Refused(_))), "{res:?}");
}

/// An admin lock decided on a read taken before a recovery started does not
/// leave that recovery's key working: the write is conditioned on the key read.
#[tokio::test]
async fn an_admin_lock_on_a_stale_read_still_ends_the_recovery() {
    use account_core::store::Saved;
    let app = spawn_app().await;
    let admin = app.add_user(true).await;
    let user = app.add_user(false).await;
    let stale = app.stored_user(&user).await;
    let key = app.recovery_key(&user).await; // lands after the read
    let d = stale.lock.admin_lock("race", account_core::clock::now());
    let saved = app
        .app
        .store
        .save_admin_lock(&stale, &d.persist, true, None)
        .await
        .unwrap();
    let Saved::Conflict(Some(now)) = saved else {
        panic!("the stale write must not land: {saved:?}")
    };
    assert!(
        now.recovery.is_some(),
        "decided again on the user with the key"
    );
    // Through the endpoint, the key is revoked.
    assert_eq!(app.lock_user(&admin, &user, true, "race").await.status, 200);
    app.set_password(&key, "Locked-Out-Passw0rd")
        .await
        .assert_error(400, "18001");
}
