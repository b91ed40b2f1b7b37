use std::collections::HashMap;

use account_core::model::templates::{MailTemplate, TemplateName};

use crate::helpers::*;

#[tokio::test]
async fn a_tenants_own_template_is_mailed_and_survives_later_settings() {
    let app = spawn_app().await;
    let custom = MailTemplate {
        subject: "{{tenant}}: reset your password".into(),
        text: "Hello {{username}}, reset here: {{link}} (valid {{expiry}})".into(),
        html: "<p>Hello {{username}}</p><p><a href=\"{{link}}\">Reset</a></p>".into(),
    };
    let templates = HashMap::from([(TemplateName::PasswordReset, custom)]);
    app.app
        .store
        .put_tenant_templates(&app.tenant, &templates, account_core::clock::now())
        .await
        .unwrap();
    // Settings written afterwards leave the templates alone.
    app.set(&[("recovery.expiry", "30m")]).await;

    let user = app.add_user_named("o'brien<x>", false).await;
    let key = app.recovery_key(&user).await;
    let mail = app.mails_to(&user.email).await.pop().unwrap();
    assert_eq!(mail.subject, format!("{}: reset your password", app.tenant));
    assert!(
        mail.text.starts_with("Hello o'brien<x>, reset here: "),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("(valid 30 minutes)"));
    assert!(
        mail.html.contains("Hello o&#39;brien&lt;x&gt;"),
        "escaped: {}",
        mail.html
    );
    assert!(mail.html.contains(&key));

    // Templates the tenant did not set stay the built-in ones.
    assert_eq!(
        app.set_password(&key, "Custom-Template-2026").await.status,
        200
    );
    assert_eq!(
        app.mails_to(&user.email).await.pop().unwrap().subject,
        "Your password was changed"
    );
}
