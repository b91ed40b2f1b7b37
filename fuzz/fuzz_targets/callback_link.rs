//! Callback strings, as a request sends them: whatever is accepted, the link a
//! reset mail carries parses back to the callback's own origin, with exactly
//! one `confirmation` parameter, ours, and nothing invisible in it.
#![no_main]

use account_core::model::callback::{CallbackUrl, KEY_PARAM};
use account_core::model::key::RecoveryKey;
use account_core::model::settings::TenantSettings;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    // Any clean URL, then the default tenant's own check (regex as a whole match).
    let Ok(url) = CallbackUrl::parse(raw) else {
        return;
    };
    let settings = TenantSettings::builtin();
    let allowed = settings.recovery.callback(Some(raw)).is_ok();
    if allowed {
        assert!(
            url.as_str().starts_with("https://localhost:9443/"),
            "{raw:?}"
        );
    }
    let key = RecoveryKey::generate();
    let link = url.link(&key);
    assert!(
        !link.chars().any(|c| c.is_whitespace() || c.is_control()),
        "{link:?}"
    );
    let back = url::Url::parse(&link).expect("the link parses");
    assert_eq!(
        back.origin().ascii_serialization(),
        url.origin(),
        "{raw:?} -> {link}"
    );
    assert!(back.fragment().is_none() && back.username().is_empty() && back.password().is_none());
    let keys: Vec<_> = back.query_pairs().filter(|(k, _)| k == KEY_PARAM).collect();
    assert_eq!(keys.len(), 1, "{link}");
    assert_eq!(keys[0].1, key.expose());
});
