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

/// `(path, function)` of every route, with and without the tenant prefix.
fn table() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .flat_map(|r| {
            let f = r.function.name().to_string();
            [
                (r.path.to_string(), f.clone()),
                (format!("/t/{{tenant}}{}", r.path), f),
            ]
        })
        .collect()
}

#[test]
fn the_watch_router_is_the_route_table() {
    let toml = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let section = toml
        .split("[workspace.metadata.lambda.watch.router]")
        .nth(1)
        .expect("router section");
    let router: BTreeSet<(String, String)> = section
        .lines()
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let unquote = |s: &str| s.trim().trim_matches('"').to_string();
            (unquote(k), unquote(v))
        })
        .collect();
    assert_eq!(router, table());
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
    assert_eq!(found, table());
    for r in ROUTES {
        assert!(
            methods.contains(&(r.path.to_string(), r.method.to_string())),
            "{} {}",
            r.method,
            r.path
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
