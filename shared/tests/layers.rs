//! The core crate's floors, checked from its own source: every module imports
//! only modules on lower floors (or its own floor), no two modules import each
//! other in a loop, and the model floor uses no SDK, runtime, clock or I/O.
//! Test modules (`#[cfg(test)]` to the end of a file) are left out: they may
//! reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module's floor. A module may import its own floor and below.
const FLOORS: &[(&str, u8)] = &[
    ("env", 0),
    ("error", 0),
    ("model", 1),
    ("clock", 2),
    ("hashing", 2),
    ("mail", 2),
    ("outbound", 2),
    ("store", 2),
    ("telemetry", 2),
    ("tokens", 2),
    ("accounts", 3),
    ("lockout", 3),
    ("races", 3),
    ("recovery", 3),
    ("sessions", 3),
    ("delivery", 3),
    ("app", 4),
    ("config", 4),
    ("http", 5),
    ("streams", 5),
];

/// What the pure floor must never name.
const IMPURE: &[&str] = &[
    "aws_sdk",
    "tracing",
    "aws_smithy",
    "tokio",
    "lambda_http",
    "hyper",
    "SystemTime",
    "std::fs",
    "std::env",
    "std::net::TcpStream",
    "reqwest",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// `model/lock.rs` -> `model::lock`; `store/mod.rs` -> `store`; `lib.rs` -> ``.
fn module_of(rel: &Path) -> String {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts.join("::")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments, string and char literals, and without
/// its test module.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let mut hashes = 0;
                let mut j = i + 1;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    out.push('r');
                    i += 1;
                    continue;
                }
                j += 1;
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                while j < b.len() && !b[j..].starts_with(&close) {
                    j += 1;
                }
                i = j + close.len();
                out.push_str("\"\"");
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                out.push_str("\"\"");
            }
            b'\'' if b.get(i + 2) == Some(&b'\'') || (b.get(i + 1) == Some(&b'\\')) => {
                // A char literal ('x', '\n', '\u{..}'); lifetimes ('a) have no closing quote.
                let mut j = i + 1;
                while j < b.len() && b[j] != b'\'' {
                    if b[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                i = j + 1;
                out.push_str("' '");
            }
            c => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    out
}

/// Every `crate::a::b`, `super::a` or `self`-relative child path in `code`, as
/// the module it names (the longest known module prefix).
fn references(
    module: &str,
    is_dir_module: bool,
    code: &str,
    known: &BTreeSet<String>,
) -> BTreeSet<String> {
    let parent = |m: &str| {
        m.rsplit_once("::")
            .map_or(String::new(), |(p, _)| p.to_string())
    };
    // `super` of a file module is its parent; of `x/mod.rs` (module `x`) too.
    let sup = parent(module);
    let own = if is_dir_module {
        module.to_string()
    } else {
        sup.clone()
    };
    let mut found = BTreeSet::new();
    let bytes = code.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < bytes.len() {
        if !ident(bytes[i]) || (i > 0 && (ident(bytes[i - 1]) || bytes[i - 1] == b':')) {
            i += 1;
            continue;
        }
        // A path starting here: segments joined by `::`, braces expanded one level.
        let start = i;
        while i < bytes.len() && (ident(bytes[i]) || bytes[i] == b':') {
            i += 1;
        }
        let path = &code[start..i];
        let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        if segs.len() < 2 && !(segs.len() == 1 && code[i..].starts_with("::{")) {
            continue;
        }
        let (base, rest): (String, Vec<&str>) = match segs[0] {
            "crate" => (String::new(), segs.split_off(1)),
            "super" => {
                let mut b = sup.clone();
                let mut rest = segs.split_off(1);
                while rest.first() == Some(&"super") {
                    b = parent(&b);
                    rest.remove(0);
                }
                (b, rest)
            }
            "self" => (module.to_string(), segs.split_off(1)),
            first if is_dir_module || module.is_empty() => {
                let child = if module.is_empty() {
                    first.to_string()
                } else {
                    format!("{module}::{first}")
                };
                if !known.contains(&child) {
                    continue;
                }
                (module.to_string(), segs)
            }
            first => {
                // A sibling named as `name::` after `use super::name` is caught by that line.
                let _ = (first, &own);
                continue;
            }
        };
        // `use super::{a, b::c}`: each braced name is a path too.
        let mut paths = vec![rest.clone()];
        if code[i..].starts_with("{") || code[i..].starts_with("::{") {
            let open = i + code[i..].find('{').unwrap_or(0);
            let mut depth = 0;
            let mut end = open;
            for (k, c) in code[open..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = open + k;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            for item in code[open + 1..end].split(',') {
                let item = item.trim().split("::{").next().unwrap_or("");
                let mut p = rest.clone();
                p.extend(
                    item.split("::")
                        .map(str::trim)
                        .filter(|s| !s.is_empty() && *s != "self"),
                );
                paths.push(p);
            }
        }
        for p in paths {
            let mut best = None;
            for n in 1..=p.len() {
                let candidate = if base.is_empty() {
                    p[..n].join("::")
                } else {
                    format!("{base}::{}", p[..n].join("::"))
                };
                if known.contains(&candidate) {
                    best = Some(candidate);
                }
            }
            let target = best.unwrap_or_else(|| base.clone());
            if !target.is_empty() && target != module {
                found.insert(target);
            }
        }
    }
    found
}

fn floor(module: &str) -> u8 {
    let top = module.split("::").next().unwrap_or("");
    FLOORS
        .iter()
        .find(|(m, _)| *m == top)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("module `{top}` has no floor in FLOORS: give it one"))
}

struct Graph {
    edges: BTreeMap<String, BTreeSet<String>>,
}

fn graph() -> Graph {
    let root = src();
    let mut paths = Vec::new();
    files(&root, &mut paths);
    let modules: Vec<(String, bool, String)> = paths
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(&root).expect("under src");
            let dir_module = matches!(
                rel.file_name().and_then(|n| n.to_str()),
                Some("mod.rs" | "lib.rs")
            );
            (
                module_of(rel),
                dir_module,
                code(&std::fs::read_to_string(p).expect("read")),
            )
        })
        .collect();
    let known: BTreeSet<String> = modules
        .iter()
        .map(|(m, _, _)| m.clone())
        .filter(|m| !m.is_empty())
        .collect();
    let mut edges = BTreeMap::new();
    for (m, dir, code) in &modules {
        if m.is_empty() {
            continue; // lib.rs only declares and re-exports.
        }
        edges.insert(m.clone(), references(m, *dir, code, &known));
    }
    Graph { edges }
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(g: &Graph) -> Vec<Vec<String>> {
    struct S<'a> {
        g: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut S<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on.insert(v);
        for w in s.g.edges.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.g.edges.contains_key(w) {
                continue;
            }
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = S {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

/// The longest chain of imports (the graph is acyclic when this runs).
fn longest_chain(g: &Graph) -> Vec<String> {
    fn from(g: &Graph, v: &str, memo: &mut BTreeMap<String, Vec<String>>) -> Vec<String> {
        if let Some(c) = memo.get(v) {
            return c.clone();
        }
        let mut best = Vec::new();
        for w in g.edges.get(v).into_iter().flatten() {
            if g.edges.contains_key(w) {
                let c = from(g, w, memo);
                if c.len() > best.len() {
                    best = c;
                }
            }
        }
        let mut chain = vec![v.to_string()];
        chain.extend(best);
        memo.insert(v.to_string(), chain.clone());
        chain
    }
    let mut memo = BTreeMap::new();
    g.edges
        .keys()
        .map(|v| from(g, v, &mut memo))
        .max_by_key(Vec::len)
        .unwrap_or_default()
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let g = graph();
    let found = cycles(&g);
    assert!(found.is_empty(), "import cycles: {found:#?}");
    let edges: usize = g.edges.values().map(BTreeSet::len).sum();
    let chain = longest_chain(&g);
    println!(
        "{} modules, {edges} imports, longest chain {}: {}",
        g.edges.len(),
        chain.len(),
        chain.join(" -> ")
    );
}

#[test]
fn every_import_goes_down_or_sideways_never_up() {
    let g = graph();
    let mut up = Vec::new();
    for (from, tos) in &g.edges {
        for to in tos {
            if floor(to) > floor(from) {
                up.push(format!(
                    "{from} (floor {}) -> {to} (floor {})",
                    floor(from),
                    floor(to)
                ));
            }
        }
    }
    assert!(up.is_empty(), "imports from a lower floor up: {up:#?}");
}

#[test]
fn the_model_floor_is_pure() {
    let root = src().join("model");
    let mut paths = Vec::new();
    files(&root, &mut paths);
    for p in paths {
        let c = code(&std::fs::read_to_string(&p).expect("read"));
        for word in IMPURE {
            assert!(!c.contains(word), "{} names {word}", p.display());
        }
    }
}

#[test]
fn the_checker_sees_imports_and_cycles() {
    let known: BTreeSet<String> = ["a", "a::b", "a::c", "d"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let refs = references(
        "a::b",
        false,
        "use super::{c, b}; use crate::d::X; fn f() { crate::a::c::g(); let s = \"crate::x\"; }",
        &known,
    );
    assert_eq!(refs, ["a::c", "d"].iter().map(|s| s.to_string()).collect());
    let refs = references("a", true, "pub use b::Y; mod c;", &known);
    assert_eq!(refs, ["a::b"].iter().map(|s| s.to_string()).collect());
    let g = Graph {
        edges: [("x", vec!["y"]), ("y", vec!["x"]), ("z", vec!["x"])]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.into_iter().map(str::to_string).collect()))
            .collect(),
    };
    assert_eq!(cycles(&g), vec![vec!["x".to_string(), "y".to_string()]]);
}
