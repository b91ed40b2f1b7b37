//! The tenant's password policy, the one place every new password passes through.
//!
//! WSO2 writes its rules as Java regular expressions (`PasswordJavaRegEx`, the
//! identity-management pattern), look-ahead included, and Java's `matches()`
//! requires the whole password to match. The `regex` crate has no look-around,
//! so these run on `fancy-regex`: it hands every part without look-around or
//! back-references to `regex` (linear time) and backtracks only where Java
//! syntax needs it, under a backtrack limit. A pattern that hits the limit on a
//! probe is refused when the setting is written; one that hits it on a real
//! password gets a clear 20035, never a hung function.

use std::collections::HashSet;
use std::sync::OnceLock;

use fancy_regex::{AstNode, Expr};

use super::domain::{Password, Username};
use super::pattern::{Compile, Lazy};

/// The tenant's `password.*` settings.
#[derive(Debug, Clone)]
pub struct PasswordSettings {
    pub min_length: usize,
    pub max_length: usize,
    pub regex: Option<PasswordPattern>,
    pub regex_error: Option<String>,
    pub pattern: Option<PasswordPattern>,
    pub pattern_error: Option<String>,
    pub name_policy: NamePolicy,
    pub history: u32,
    pub guidelines: Vec<String>,
}

impl PasswordSettings {
    /// The patterns that do not compile, with why: stored settings that no
    /// longer pass the write-time check (each refuses every password).
    pub fn broken_patterns(&self) -> Vec<(&'static str, &str, String)> {
        [
            ("password.regex", &self.regex),
            ("password.pattern", &self.pattern),
        ]
        .into_iter()
        .filter_map(|(name, p)| {
            let p = p.as_ref()?;
            p.compiled()
                .err()
                .map(|e| (name, p.as_str(), e.to_string()))
        })
        .collect()
    }
}

/// A rule a password breaks. The edge turns these into the sentences a user reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    Common,
    EqualsUsername,
    ContainsUsername,
    /// `password.regex` did not match; the tenant's message, if it set one.
    Regex {
        message: Option<String>,
    },
    /// `password.pattern` did not match; the tenant's message, if it set one.
    Pattern {
        message: Option<String>,
    },
    /// A pattern needed more backtracking than allowed on this password.
    TooComplex,
    /// One of the last `n` passwords (checked only when every other rule passed).
    Reused {
        n: u32,
    },
}

/// Backtracking steps one check may take: the worst pattern found takes ~7 ms
/// (release) to hit it on a 65-character password; 10x more would take ~70 ms.
pub const BACKTRACK_LIMIT: usize = 100_000;

/// A WSO2/Java password regex, matched against the whole password.
#[derive(Debug, Clone)]
pub struct JavaRegex {
    source: String,
    re: fancy_regex::Regex,
}

/// The regex needed more backtracking than [`BACKTRACK_LIMIT`] allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooComplex;

/// Characters a regex can match: `(min, max)`, `max = None` for unbounded.
pub type CharBounds = (u64, Option<u64>);

impl JavaRegex {
    pub fn parse(source: &str) -> Result<Self, String> {
        let tree =
            Expr::parse_tree(source).map_err(|e| format!("not a valid regular expression: {e}"))?;
        java_only(&tree.expr)?;
        let re = fancy_regex::RegexBuilder::new(&format!(r"\A(?:{source})\z"))
            .backtrack_limit(BACKTRACK_LIMIT)
            .delegate_size_limit(1 << 20)
            .build()
            .map_err(|e| format!("not a valid regular expression: {e}"))?;
        Ok(Self {
            source: source.to_string(),
            re,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn matches(&self, s: &str) -> Result<bool, TooComplex> {
        self.re.is_match(s).map_err(|_| TooComplex)
    }

    /// How many characters a match can have, where that can be decided from the
    /// pattern (look-arounds are zero-width); `None` where it cannot.
    pub fn char_bounds(&self) -> Option<CharBounds> {
        let tree = Expr::parse_tree(&self.source).ok()?;
        let (lo, hi) = bounds(&tree.expr)?;
        Some((lo, (hi != INF).then_some(hi)))
    }
}

/// A tenant's password pattern as a setting (compiled on first use).
pub type PasswordPattern = Lazy<JavaRegex>;

impl Compile for JavaRegex {
    fn compile(source: &str) -> Result<Self, String> {
        JavaRegex::parse(source)
    }
}

/// Every check a pattern setting gets when written: it compiles, it agrees with
/// the length rules, and it cannot be made to backtrack past the limit.
pub fn check_pattern(
    name: &str,
    pattern: &PasswordPattern,
    min: usize,
    max: usize,
) -> Result<(), String> {
    let re = pattern.compiled().map_err(str::to_string)?;
    check_length_agreement(name, re, min, max)?;
    check_cost(re, max)
}

const INF: u64 = u64::MAX;

/// Refuses what fancy-regex accepts and Java does not: subroutine calls and
/// recursion (`\g<0>` makes the pattern call itself, and one such pattern took
/// 2 GB to match five characters), conditionals, `\K`, backtracking verbs and
/// the absence operator. A WSO2 pattern never has them; a pattern that has them
/// would behave differently here than in WSO2, or not finish.
fn java_only(e: &Expr) -> Result<(), String> {
    let refused = match e {
        Expr::SubroutineCall(_)
        | Expr::BackrefWithRelativeRecursionLevel { .. }
        | Expr::AstNode(AstNode::SubroutineCall(_), _) => {
            Some("subroutine calls and recursion (\\g)")
        }
        // A group the parser left unresolved: its inside is not among the children.
        Expr::AstNode(AstNode::AstGroup { inner, .. }, _) => return java_only(inner),
        Expr::Conditional { .. } | Expr::BackrefExistsCondition { .. } => {
            Some("conditionals ((?(1)...))")
        }
        Expr::KeepOut => Some("\\K"),
        Expr::BacktrackingControlVerb(_) => Some("backtracking verbs ((*FAIL) ...)"),
        Expr::Absent(_) => Some("the absence operator ((?~...))"),
        _ => None,
    };
    if let Some(what) = refused {
        return Err(format!(
            "not a Java regular expression: {what} is not supported"
        ));
    }
    e.children_iter().try_for_each(java_only)
}

fn bounds(e: &Expr) -> Option<(u64, u64)> {
    Some(match e {
        Expr::Empty
        | Expr::Assertion(_)
        | Expr::LookAround(..)
        | Expr::KeepOut
        | Expr::ContinueFromPreviousMatchEnd => (0, 0),
        Expr::Any { .. } => (1, 1),
        Expr::Literal { val, .. } => {
            let n = val.chars().count() as u64;
            (n, n)
        }
        // A delegate from the parse tree is one class or escape: one character.
        Expr::Delegate { inner, .. }
            if inner.starts_with('[') || inner.starts_with('\\') || inner == "." =>
        {
            (1, 1)
        }
        Expr::GeneralNewline { .. } => (1, 2),
        Expr::Group(inner) => bounds(inner)?,
        Expr::AtomicGroup(inner) => bounds(inner)?,
        Expr::Concat(parts) => parts.iter().try_fold((0u64, 0u64), |(lo, hi), p| {
            let (a, b) = bounds(p)?;
            Some((
                lo.saturating_add(a),
                if hi == INF || b == INF {
                    INF
                } else {
                    hi.saturating_add(b)
                },
            ))
        })?,
        Expr::Alt(alts) => {
            let all = alts.iter().map(bounds).collect::<Option<Vec<_>>>()?;
            (
                all.iter().map(|b| b.0).min()?,
                all.iter().map(|b| b.1).max()?,
            )
        }
        Expr::Repeat { child, lo, hi, .. } => {
            let (a, b) = bounds(child)?;
            let lo = a.saturating_mul(*lo as u64);
            let hi = if *hi == usize::MAX || b == INF {
                if b == 0 {
                    0
                } else {
                    INF
                }
            } else {
                b.saturating_mul(*hi as u64)
            };
            (lo, hi)
        }
        _ => return None,
    })
}

/// Whether the patterns can ever accept a password the length rules allow;
/// `Err` names the contradiction.
fn check_length_agreement(
    name: &str,
    re: &JavaRegex,
    min: usize,
    max: usize,
) -> Result<(), String> {
    let Some((lo, hi)) = re.char_bounds() else {
        return Ok(());
    };
    if let Some(hi) = hi {
        if hi < min as u64 {
            return Err(format!(
                "{name} accepts at most {hi} characters, fewer than password.min_length ({min})"
            ));
        }
    }
    if lo > max as u64 {
        return Err(format!(
            "{name} needs at least {lo} characters, more than password.max_length ({max})"
        ));
    }
    Ok(())
}

/// Refuses a pattern that needs too much backtracking on passwords of the allowed length.
fn check_cost(re: &JavaRegex, max: usize) -> Result<(), String> {
    let n = max.min(256);
    let probes = [
        format!("{}!", "a".repeat(n.saturating_sub(1))),
        "a".repeat(n),
        "aA1!".repeat(n / 4 + 1).chars().take(n).collect(),
        format!("{} !", "word ".repeat(n / 5)),
    ];
    for p in probes {
        if re.matches(&p) == Err(TooComplex) {
            return Err(format!(
                "needs more than {BACKTRACK_LIMIT} backtracking steps on a {}-character password; simplify it",
                p.chars().count()
            ));
        }
    }
    Ok(())
}

/// Whether a username may appear in a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamePolicy {
    Off,
    Equal,
    Contain,
}

impl NamePolicy {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "off" => Some(Self::Off),
            "equal" => Some(Self::Equal),
            "contain" => Some(Self::Contain),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Equal => "equal",
            Self::Contain => "contain",
        }
    }
}

static COMMON_LIST: &str = include_str!("common-passwords.txt");

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON_LIST.lines().filter(|l| !l.is_empty()).collect())
}

/// Whether `password` is on the shipped list of the most common passwords (case-insensitively).
pub fn is_common(password: &str) -> bool {
    common().contains(password.to_lowercase().as_str())
}

/// How many common passwords the list holds.
pub fn common_count() -> usize {
    common().len()
}

fn pattern_verdict(
    pattern: &PasswordPattern,
    password: &str,
    broken: impl FnOnce() -> Violation,
) -> Option<Violation> {
    // Stored settings passed the compile check when written; fail closed if one
    // no longer does (set-password logs it, from `broken_patterns`).
    let verdict = pattern.compiled().map(|re| re.matches(password));
    match verdict {
        Ok(Ok(true)) => None,
        Ok(Ok(false)) => Some(broken()),
        Ok(Err(TooComplex)) | Err(_) => Some(Violation::TooComplex),
    }
}

/// Every rule the password breaks but the history; empty when it passes. These
/// are the cheap rules: the history's argon2 comparisons run only once they pass.
pub fn violations(
    rules: &PasswordSettings,
    password: &Password,
    username: &Username,
) -> Vec<Violation> {
    let mut broken = Vec::new();
    let pw = password.expose();
    let len = pw.chars().count();
    if len < rules.min_length {
        broken.push(Violation::TooShort {
            min: rules.min_length,
        });
    }
    if len > rules.max_length {
        broken.push(Violation::TooLong {
            max: rules.max_length,
        });
    }
    if is_common(pw) {
        broken.push(Violation::Common);
    }
    let (lower_pw, lower_name) = (pw.to_lowercase(), username.canonical());
    match rules.name_policy {
        NamePolicy::Equal if lower_pw == lower_name => broken.push(Violation::EqualsUsername),
        NamePolicy::Contain if lower_pw.contains(&lower_name) => {
            broken.push(Violation::ContainsUsername)
        }
        _ => {}
    }
    if let Some(re) = &rules.regex {
        broken.extend(pattern_verdict(re, pw, || Violation::Regex {
            message: rules.regex_error.clone(),
        }));
    }
    if let Some(re) = &rules.pattern {
        broken.extend(pattern_verdict(re, pw, || Violation::Pattern {
            message: rules.pattern_error.clone(),
        }));
    }
    broken
}

/// The guidelines a change-password page shows: the tenant's own list, or
/// sentences made from its rules.
pub fn guidelines(rules: &PasswordSettings) -> Vec<String> {
    if !rules.guidelines.is_empty() {
        return rules.guidelines.clone();
    }
    let mut g = vec![format!(
        "Between {} and {} characters.",
        rules.min_length, rules.max_length
    )];
    g.push("Not one of the most commonly used passwords.".into());
    match rules.name_policy {
        NamePolicy::Contain => g.push("Must not contain your username.".into()),
        NamePolicy::Equal => g.push("Must not be your username.".into()),
        NamePolicy::Off => {}
    }
    if let Some(e) = rules.regex_error.as_ref().filter(|_| rules.regex.is_some()) {
        g.push(e.clone());
    }
    if let Some(e) = rules
        .pattern_error
        .as_ref()
        .filter(|_| rules.pattern.is_some())
    {
        g.push(e.clone());
    }
    if rules.history > 0 {
        g.push(format!(
            "Must not be one of your last {} passwords.",
            rules.history
        ));
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::settings::TenantSettings;
    use std::collections::BTreeMap;

    const SEED_PATTERN: &str = r"^((?=.*\d)(?=.*[a-z])(?=.*[A-Z])(?=.*[!@#$%&*])).{0,100}$";

    fn rules(pairs: &[(&str, &str)]) -> PasswordSettings {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        TenantSettings::builtin()
            .with_overrides(&map)
            .expect("valid")
            .password
    }

    fn verdict(r: &PasswordSettings, pw: &str, user: &str) -> Vec<Violation> {
        violations(
            r,
            &Password::new(pw.into()).unwrap(),
            &Username::parse(user).unwrap(),
        )
    }

    #[test]
    fn constructs_java_does_not_have_are_refused() {
        // Found by the fuzzer: `\g0` calls the whole pattern again; matching
        // "k\u{e}.\0\0" took over 2 GB.
        let fuzzed = "\0+\u{e}\0\u{e}.\0\0*+\u{e}.\0\0\0\u{1c}\\g0\u{1}|\0@.a.\0.\0\\g0\u{1}|\0@.a.\0.\0\0k\u{1c}\0";
        for p in [
            fuzzed,
            r"a\g<0>?",
            r"(a)\g1",
            r"(?<n>a)\g<n>",
            r"(a)?(?(1)b|c)",
            r"ab\Kc",
            r"(?~ab)",
        ] {
            let e = JavaRegex::parse(p).expect_err(p);
            assert!(e.contains("not a Java regular expression"), "{p}: {e}");
        }
        for p in [
            r"^[\S]{6,30}$",
            r"(?=.*\d)(?=.*[a-z]).{8,}",
            r"(a)\1",
            r"(?<n>a)\k<n>",
            r"(?i)abc",
        ] {
            JavaRegex::parse(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        }
    }

    #[test]
    fn the_table_of_passwords_and_policies() {
        let defaults = rules(&[]);
        let seed = rules(&[("password.pattern", SEED_PATTERN)]);
        let wso2_store = rules(&[("password.regex", r"^[\S]{6,30}$")]);
        let equal = rules(&[("password.name_policy", "equal")]);
        let off = rules(&[("password.name_policy", "off")]);
        let short = rules(&[("password.min_length", "4"), ("password.max_length", "10")]);
        // (policy, password, username, rules broken)
        let table: &[(&PasswordSettings, &str, &str, usize)] = &[
            (&defaults, "Password1!", "kim", 1), // the seed's example is a common password
            (&defaults, "Tr0ub4dor&3x", "kim", 0),
            (&defaults, "correct horse battery staple", "kim", 0),
            (&defaults, "short1!", "kim", 1),
            (&defaults, &"x".repeat(65), "kim", 1),
            (&defaults, "password", "kim", 1),   // common
            (&defaults, "PassWord", "kim", 1),   // common, any case
            (&defaults, "qwertyuiop", "kim", 1), // common
            (&defaults, "quixotic-rocks-2024", "quixotic", 1), // contains the username
            (&defaults, "QUIXOTIC", "quixotic", 1), // equal counts as contain
            (&defaults, "日本語のパスワード", "kim", 0), // any Unicode, 9 characters
            (&defaults, "ｐａｓｓｗｏｒｄ", "kim", 1), // full-width NFKC-normalises to a common one
            (&defaults, "pass", "kim", 2),       // short and common
            (&seed, "Tr0ub4dor&3x", "kim", 0),
            (&seed, "tr0ub4dor&3x", "kim", 1), // no upper case
            (&seed, "TR0UB4DOR&3X", "kim", 1), // no lower case
            (&seed, "Troubador&xx", "kim", 1), // no digit
            (&seed, "Tr0ub4dor33x", "kim", 1), // none of !@#$%&*
            (&seed, "Pa1!", "kim", 1),         // too short for the length rule
            (&wso2_store, "no-spaces-here", "kim", 0),
            (&wso2_store, "has a space in it", "kim", 1),
            (&wso2_store, &"y".repeat(31), "kim", 1),
            (&equal, "quixotic-rocks-2024", "quixotic", 0),
            (&equal, "QUIXOTIC", "quixotic", 1),
            (&off, "Quixotic", "quixotic", 0),
            (&short, "Zq9x", "kim", 0),
            (&short, "Zq9xZq9xZq9", "kim", 1),
        ];
        for (policy, pw, user, n) in table {
            let got = verdict(policy, pw, user);
            assert_eq!(got.len(), *n, "{pw:?} as {user}: {got:?}");
        }
    }

    #[test]
    fn every_broken_rule_is_listed_with_the_tenants_own_messages() {
        let own = "Use a digit, a lower- and an upper-case letter and one of !@#$%&*.";
        let r = rules(&[
            ("password.pattern", SEED_PATTERN),
            ("password.pattern_error", own),
            ("password.regex", r"^[\S]{6,30}$"),
            ("password.regex_error", "No spaces, 6 to 30 characters."),
        ]);
        assert_eq!(
            verdict(&r, "kim kim", "kim"),
            vec![
                Violation::TooShort { min: 8 },
                Violation::ContainsUsername,
                Violation::Regex {
                    message: Some("No spaces, 6 to 30 characters.".into())
                },
                Violation::Pattern {
                    message: Some(own.into())
                },
            ]
        );
    }

    #[test]
    fn the_common_list_ships_at_least_ten_thousand_passwords() {
        assert!(common_count() >= 10_000, "{}", common_count());
        assert!(is_common("123456") && is_common("Password") && is_common("iloveyou"));
        assert!(!is_common("correct horse battery staple"));
    }

    #[test]
    fn the_seed_pattern_works_as_wso2_writes_it() {
        let re = JavaRegex::parse(SEED_PATTERN).unwrap();
        assert_eq!(re.matches("Password1!"), Ok(true));
        assert_eq!(re.matches("password1!"), Ok(false));
    }

    #[test]
    fn java_matches_means_the_whole_password() {
        let re = JavaRegex::parse("[a-z]+").unwrap();
        assert_eq!(re.matches("abc"), Ok(true));
        assert_eq!(
            re.matches("abc1"),
            Ok(false),
            "a partial match is not a match"
        );
        let re = JavaRegex::parse(r"^[\S]{6,30}$").unwrap();
        assert_eq!(re.matches("abcdef\n"), Ok(false));
    }

    #[test]
    fn length_bounds_are_read_from_the_pattern() {
        let b = |p: &str| JavaRegex::parse(p).unwrap().char_bounds();
        assert_eq!(b(SEED_PATTERN), Some((0, Some(100))));
        assert_eq!(b(r"^[\S]{6,30}$"), Some((6, Some(30))));
        assert_eq!(b(r"(ab|c)+x?"), Some((1, None)));
        assert_eq!(b(r"^(?=.*\d).{8,}$"), Some((8, None)));
        assert_eq!(b(r"(a)\1"), None, "a back-reference is not decided");
    }

    #[test]
    fn pathological_patterns_are_bounded_and_refused_at_configuration() {
        let evil = JavaRegex::parse(r"^(\w+\s?)*\1$").unwrap();
        let input = format!("{}!", "a".repeat(64));
        let t = std::time::Instant::now();
        assert_eq!(evil.matches(&input), Err(TooComplex));
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
        assert!(check_cost(&evil, 64).is_err());
        assert!(check_cost(&JavaRegex::parse(SEED_PATTERN).unwrap(), 64).is_ok());
    }

    #[test]
    fn a_too_complex_check_is_a_clear_violation() {
        let mut r = rules(&[]);
        r.regex = Some(PasswordPattern::new(r"^(\w+\s?)*\1$"));
        let got = verdict(&r, &format!("{}!", "q".repeat(60)), "kim");
        assert_eq!(got, vec![Violation::TooComplex]);
    }

    #[test]
    fn guidelines_come_from_the_tenant_or_from_the_rules() {
        let g = guidelines(&rules(&[]));
        assert_eq!(g[0], "Between 8 and 64 characters.");
        assert!(g.iter().any(|s| s.contains("username")));
        let g = guidelines(&rules(&[("password.guidelines", r#"["One", "Two"]"#)]));
        assert_eq!(g, vec!["One", "Two"]);
    }
}
