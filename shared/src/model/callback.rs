//! Callback URLs: where a reset mail's link points. A callback is parsed as an
//! absolute URL before anything else looks at it, and the link is built as a
//! URL, never by pasting strings, so a request cannot smuggle a second URL, a
//! fragment or a key of its own into a genuine reset mail.

use std::fmt;

use super::key::RecoveryKey;
use super::pattern::{Compile, Lazy};

/// Longest callback accepted, in bytes (as browsers and mail clients keep links short).
pub const MAX_BYTES: usize = 2048;

/// The query parameter that carries the key (WSO2's name).
pub const KEY_PARAM: &str = "confirmation";

/// A clean absolute URL: `https` (or `http` on a loopback host), a host, no
/// user info, no fragment, nothing invisible in it.
#[derive(Clone, PartialEq, Eq)]
pub struct CallbackUrl(url::Url);

/// Why a string is not a clean callback URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlProblem {
    TooLong,
    /// Whitespace, a control character or a bidirectional-formatting character.
    Invisible,
    NotAbsolute,
    Scheme,
    NoHost,
    UserInfo,
    Fragment,
}

impl UrlProblem {
    pub fn explain(self) -> &'static str {
        match self {
            UrlProblem::TooLong => "is longer than 2048 bytes",
            UrlProblem::Invisible => {
                "contains whitespace, a control or a bidirectional-formatting character"
            }
            UrlProblem::NotAbsolute => "is not an absolute URL",
            UrlProblem::Scheme => "must use https (http only for a loopback host)",
            UrlProblem::NoHost => "has no host",
            UrlProblem::UserInfo => "must not carry a user name or password",
            UrlProblem::Fragment => "must not have a fragment (#...)",
        }
    }
}

/// Characters that change how text displays without being seen: bidi embeddings,
/// overrides, isolates and marks, and the zero-width ones.
fn invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
            | '\u{061C}' | '\u{FEFF}')
}

fn loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

impl CallbackUrl {
    pub fn parse(raw: &str) -> Result<Self, UrlProblem> {
        if raw.len() > MAX_BYTES {
            return Err(UrlProblem::TooLong);
        }
        // The URL standard silently drops tabs and newlines and trims spaces; a
        // callback that needed that is refused instead.
        if raw.chars().any(invisible) {
            return Err(UrlProblem::Invisible);
        }
        let url = url::Url::parse(raw).map_err(|_| UrlProblem::NotAbsolute)?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(UrlProblem::Scheme);
        }
        let host = url.host().ok_or(UrlProblem::NoHost)?;
        if url.scheme() == "http" && !loopback(&host) {
            return Err(UrlProblem::Scheme);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlProblem::UserInfo);
        }
        if url.fragment().is_some() || raw.contains('#') {
            return Err(UrlProblem::Fragment);
        }
        if url.as_str().len() > MAX_BYTES {
            return Err(UrlProblem::TooLong);
        }
        Ok(Self(url))
    }

    /// The URL as it is stored and matched: the parser's normal form.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The link a reset mail carries: this URL with `confirmation=KEY` as its one
    /// `confirmation` parameter (any the callback carried is dropped).
    pub fn link(&self, key: &RecoveryKey) -> String {
        let mut url = self.0.clone();
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != KEY_PARAM)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.set_query(None);
        {
            let mut q = url.query_pairs_mut();
            q.extend_pairs(kept);
            q.append_pair(KEY_PARAM, &key.expose());
        }
        url.into()
    }

    /// The origin (`https://host:port`) a link must lead back to.
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }
}

impl fmt::Debug for CallbackUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CallbackUrl").field(&self.as_str()).finish()
    }
}

impl fmt::Display for CallbackUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `recovery.callback_regex`, compiled on first use and matched against the
/// whole URL (Java's `matches()`, as WSO2 applies it). `regex-lite`: callback
/// patterns are URL prefixes, its `\w`/`\d` are ASCII as in Java, and the SDK
/// links it anyway.
pub type CallbackRegex = Lazy<WholeMatch>;

/// A `regex-lite` pattern anchored at both ends.
pub struct WholeMatch(regex_lite::Regex);

impl Compile for WholeMatch {
    fn compile(source: &str) -> Result<Self, String> {
        // Bounded compile size: a pattern from configuration must not blow up memory.
        regex_lite::RegexBuilder::new(&format!(r"\A(?:{source})\z"))
            .size_limit(1 << 20)
            .build()
            .map(WholeMatch)
            .map_err(|e| format!("not a valid regular expression: {e}"))
    }
}

impl CallbackRegex {
    /// A pattern that no longer compiles matches nothing (fail closed; the
    /// recovery gate logs it, from [`Lazy::compiled`]).
    pub fn allows(&self, url: &CallbackUrl) -> bool {
        self.compiled().is_ok_and(|re| re.0.is_match(url.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str) -> CallbackRegex {
        CallbackRegex::new(p)
    }

    #[test]
    fn clean_urls_parse_and_keep_their_query() {
        let u = CallbackUrl::parse("https://localhost:9443/myaccount?lang=en").unwrap();
        assert_eq!(u.as_str(), "https://localhost:9443/myaccount?lang=en");
        assert_eq!(u.origin(), "https://localhost:9443");
        assert!(CallbackUrl::parse("http://127.0.0.1:9000/recovery/reset-password").is_ok());
        assert!(CallbackUrl::parse("http://localhost/x").is_ok());
        assert!(CallbackUrl::parse("http://[::1]:8080/x").is_ok());
    }

    #[test]
    fn the_poisoned_callbacks_are_refused() {
        for (raw, why) in [
            (
                "https://localhost:9443/myaccount\n\nOpen instead: https://evil.example/reset",
                UrlProblem::Invisible,
            ),
            (
                "https://localhost:9443/myaccount\thttps://evil.example/",
                UrlProblem::Invisible,
            ),
            (
                "https://localhost:9443/x https://evil.example/",
                UrlProblem::Invisible,
            ),
            (
                "https://localhost:9443/x#https://evil.example/",
                UrlProblem::Fragment,
            ),
            ("https://localhost:9443/x#", UrlProblem::Fragment),
            ("https://localhost:9443/x\u{202e}", UrlProblem::Invisible),
            ("https://localhost:9443/x\u{200b}", UrlProblem::Invisible),
            ("http://example.com/x", UrlProblem::Scheme),
            ("javascript:alert(1)", UrlProblem::Scheme),
            ("https://user:pw@localhost:9443/x", UrlProblem::UserInfo),
            ("https://user@localhost:9443/x", UrlProblem::UserInfo),
            ("/relative/path", UrlProblem::NotAbsolute),
            ("localhost:9443/x", UrlProblem::Scheme),
            ("data:text/html,hi", UrlProblem::Scheme),
        ] {
            assert_eq!(CallbackUrl::parse(raw).map(|_| ()), Err(why), "{raw:?}");
        }
        let long = format!("https://localhost:9443/{}", "a".repeat(MAX_BYTES));
        assert_eq!(
            CallbackUrl::parse(&long).map(|_| ()),
            Err(UrlProblem::TooLong)
        );
    }

    #[test]
    fn the_regex_must_match_the_whole_url() {
        let r = re("^https://localhost:9443/.*");
        let ok = CallbackUrl::parse("https://localhost:9443/myaccount").unwrap();
        assert!(r.allows(&ok));
        // A search would find the prefix; a whole match does not accept a longer host.
        let other = CallbackUrl::parse("https://localhost.evil.example/x").unwrap();
        assert!(!re("^https://localhost").allows(&other));
        assert!(
            !re("https://localhost:9443/").allows(&ok),
            "no partial match"
        );
        assert!(
            re(r"^https:\/\/localhost:9443\/.*").allows(&ok),
            "WSO2's escaped form"
        );
        assert!(!re("(").allows(&ok), "a broken pattern matches nothing");
    }

    #[test]
    fn the_link_carries_exactly_one_confirmation_the_ours() {
        let key = RecoveryKey::generate();
        let k = key.expose();
        let u = CallbackUrl::parse("https://h.example/r?confirmation=attacker-key&a=1").unwrap();
        let link = u.link(&key);
        assert_eq!(link, format!("https://h.example/r?a=1&confirmation={k}"));
        let u = CallbackUrl::parse("https://h.example/r").unwrap();
        assert_eq!(
            u.link(&key),
            format!("https://h.example/r?confirmation={k}")
        );
        let u = CallbackUrl::parse("https://h.example/r?confirmation=x&CONFIRMATION=y").unwrap();
        let back = url::Url::parse(&u.link(&key)).unwrap();
        let keys: Vec<_> = back.query_pairs().filter(|(n, _)| n == KEY_PARAM).collect();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].1, k);
    }
}
