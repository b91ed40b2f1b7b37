//! What is written once and copied must not drift: the route table is the one
//! list of paths (the watch router in `Cargo.toml` and `template.yaml`'s events
//! must say exactly what it says; the test helper calls handlers through the
//! table itself, `http::dispatch`), and the settings table the README shows is
//! the one `model::settings` declares.

use std::collections::BTreeSet;

use account_core::http::{Function, ROUTES};

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `(path, method, function)` of every route, with and without the tenant prefix.
fn table() -> BTreeSet<(String, String, String)> {
    ROUTES
        .iter()
        .flat_map(|r| {
            let (m, f) = (r.method.to_string(), r.function.name().to_string());
            [
                (r.path.to_string(), m.clone(), f.clone()),
                (format!("/t/{{tenant}}{}", r.path), m, f),
            ]
        })
        .collect()
}

/// The watch router: a path to a function (every method), or to a function per method.
fn router() -> Vec<(String, Option<String>, String)> {
    let toml = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let section = toml
        .split("[workspace.metadata.lambda.watch.router]")
        .nth(1)
        .expect("router section");
    let mut out = Vec::new();
    for line in section
        .lines()
        .take_while(|l| !l.trim_start().starts_with('['))
    {
        let Some((k, v)) = line.split_once(" = ") else {
            continue;
        };
        let path = k.trim().trim_matches('"').to_string();
        let v = v.trim();
        if let Some(list) = v.strip_prefix('[') {
            for entry in list.trim_end_matches(']').split('}') {
                let field = |name: &str| {
                    entry
                        .split(&format!("{name} = \""))
                        .nth(1)
                        .and_then(|rest| rest.split('"').next())
                        .map(str::to_string)
                };
                if let (Some(m), Some(f)) = (field("method"), field("function")) {
                    out.push((path.clone(), Some(m), f));
                }
            }
        } else {
            out.push((path, None, v.trim_matches('"').to_string()));
        }
    }
    out
}

#[test]
fn the_watch_router_is_the_route_table() {
    let router = router();
    let routed = |path: &str, method: &str| {
        router
            .iter()
            .find(|(p, m, _)| p == path && m.as_deref() == Some(method))
            .or_else(|| router.iter().find(|(p, m, _)| p == path && m.is_none()))
            .map(|(_, _, f)| f.clone())
    };
    for (path, method, function) in table() {
        assert_eq!(routed(&path, &method), Some(function), "{method} {path}");
    }
    let paths: BTreeSet<String> = table().into_iter().map(|(p, _, _)| p).collect();
    for (path, _, _) in &router {
        assert!(
            paths.contains(path),
            "{path} is routed but not in the route table"
        );
    }
}

#[test]
fn the_template_events_are_the_route_table() {
    let yaml = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let mut found = BTreeSet::new();
    let mut methods = BTreeSet::new();
    let mut function = None;
    let mut path = None;
    for line in yaml.lines() {
        let t = line.trim();
        if let Some(uri) = t.strip_prefix("CodeUri: ./functions/") {
            function = Some(uri.trim().to_string());
        } else if let Some(p) = t.strip_prefix("Path: ") {
            path = Some(p.trim().to_string());
        } else if let (Some(m), Some(p), Some(f)) = (t.strip_prefix("Method: "), &path, &function) {
            found.insert((p.clone(), f.clone()));
            methods.insert((p.clone(), m.trim().to_string()));
            path = None;
        }
    }
    let paths: BTreeSet<(String, String)> = table().into_iter().map(|(p, _, f)| (p, f)).collect();
    assert_eq!(found, paths);
    for (path, method, _) in table() {
        assert!(
            methods.contains(&(path.clone(), method.clone())),
            "{method} {path}"
        );
    }
    for f in Function::ALL {
        assert!(
            yaml.contains(&format!("CodeUri: ./functions/{}", f.name())),
            "{} is deployed",
            f.name()
        );
    }
}

/// The optional WAF front (a REST API whose OpenAPI body routes each path to
/// a function) serves exactly the route table too.
#[test]
fn the_waf_front_routes_are_the_route_table() {
    let yaml = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let body = yaml
        .split("  WafApi:\n")
        .nth(1)
        .and_then(|b| b.split("  WafApiDeployment:").next())
        .expect("the WafApi resource");
    let mut found = BTreeSet::new();
    let (mut path, mut method) = (None::<String>, None::<String>);
    for line in body.lines() {
        let t = line.trim();
        if t.starts_with("\"/") && t.ends_with("\":") {
            path = Some(t.trim_matches(|c| c == '"' || c == ':').to_string());
        } else if matches!(t, "get:" | "post:") {
            method = Some(t.trim_end_matches(':').to_uppercase());
        } else if let Some(arn) = t.split("functions/${").nth(1) {
            let logical = arn.split("Function.Arn").next().unwrap();
            // RecoverPassword -> recover-password
            let mut name = String::new();
            for (i, c) in logical.chars().enumerate() {
                if c.is_uppercase() && i > 0 {
                    name.push('-');
                }
                name.push(c.to_ascii_lowercase());
            }
            found.insert((path.clone().unwrap(), method.clone().unwrap(), name));
        }
    }
    let expected: BTreeSet<(String, String, String)> = table().into_iter().collect();
    assert_eq!(found, expected);
}

/// The template accepts a `SettingsCacheTtl` exactly when the functions do,
/// so no deploy passes the template and then fails every cold start.
#[test]
fn the_template_settings_cache_ttl_is_what_the_functions_accept() {
    let yaml = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let pattern = yaml
        .split("  SettingsCacheTtl:\n")
        .nth(1)
        .and_then(|b| {
            b.lines()
                .find_map(|l| l.trim().strip_prefix("AllowedPattern: "))
        })
        .expect("SettingsCacheTtl's AllowedPattern")
        .trim_matches('"')
        .replace("\\\\", "\\");
    let pattern = regex::Regex::new(&pattern).unwrap();
    for v in [
        "0s", "30s", "999s", "1m", "59m", "60m", "1h", "61m", "2h", "4000s", "30",
    ] {
        let functions = account_core::config::Config::from_lookup(|k| {
            if k == "SETTINGS_CACHE_TTL" {
                Some(v.to_string())
            } else {
                crate::helpers::lookup(k)
            }
        })
        .is_ok();
        assert_eq!(pattern.is_match(v), functions, "{v}");
    }
}

/// The template's metric filters name audit actions as the functions spell them.
#[test]
fn the_template_counts_audit_actions_that_exist() {
    use account_core::model::audit::AuditAction;
    let yaml = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let named: Vec<&str> = yaml
        .split("$.fields.audit = \"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert!(!named.is_empty(), "the lock-storm filters");
    for action in named {
        assert!(
            AuditAction::ALL.iter().any(|a| a.as_str() == action),
            "{action} is no audit action"
        );
    }
}

#[test]
fn the_readme_settings_table_is_the_declared_one() {
    use account_core::model::settings::SETTINGS;
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let table = readme
        .split("| setting | default | what it does |")
        .nth(1)
        .expect("the settings table");
    let rows: Vec<(String, String, String)> = table
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let l = l.trim().trim_start_matches("| ").trim_end_matches(" |");
            let (name, rest) = l.split_once(" | ").expect("three cells");
            let (default, help) = rest.split_once(" | ").expect("three cells");
            let unquote = |s: &str| s.trim_matches('`').replace("\\|", "|");
            let default = if default == "(empty)" {
                String::new()
            } else {
                unquote(default)
            };
            (unquote(name), default, help.to_string())
        })
        .collect();
    let declared: Vec<(String, String, String)> = SETTINGS
        .iter()
        .map(|s| {
            (
                s.name.to_string(),
                s.default.to_string(),
                s.help.to_string(),
            )
        })
        .collect();
    assert_eq!(rows, declared);
}
