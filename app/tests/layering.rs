//! Dependencies run one way: the low modules import no feature, and the organisations' and
//! conversations' stores and services do not import the Customers feature (they share the
//! write-version protocol through `versions.rs` instead; only views link to other pages'
//! addresses). A new import against the grain fails here.

use std::path::{Path, PathBuf};

const LOW_MODULES: [&str; 8] = [
    "db",
    "page.rs",
    "limits.rs",
    "text.rs",
    "error.rs",
    "versions.rs",
    "hash_list.rs",
    "retry.rs",
];

const FEATURES: [&str; 9] = [
    "customers",
    "conversations",
    "representatives",
    "orgs",
    "auth",
    "api",
    "demo",
    "erasure",
    "session",
];

fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// The `crate::<feature>` paths a file names.
fn features_named(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("a source file");
    FEATURES
        .iter()
        .filter(|feature| {
            text.contains(&format!("crate::{feature}::"))
                || text.contains(&format!("crate::{feature};"))
                || text.contains(&format!("crate::{feature}}}"))
        })
        .map(|feature| (*feature).to_owned())
        .collect()
}

#[test]
fn the_low_modules_import_no_feature() {
    for module in LOW_MODULES {
        let path = source_dir().join(module);
        let files = if path.is_dir() {
            rust_files(&path)
        } else {
            vec![path]
        };
        for file in files {
            let named = features_named(&file);
            assert!(named.is_empty(), "{} imports {named:?}", file.display());
        }
    }
}

#[test]
fn organisations_and_conversations_do_not_import_the_customers_feature() {
    for feature in ["orgs", "conversations", "auth"] {
        for file in rust_files(&source_dir().join(feature)) {
            if file.file_name().is_some_and(|name| name == "view.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("a source file");
            assert!(
                !text.contains("crate::customers::"),
                "{} imports the customers feature",
                file.display()
            );
        }
    }
}

/// A module's path from its file: `api/routes.rs` → `api::routes`, `customers/view/mod.rs` →
/// `customers::view`.
fn module_of(file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(source_dir()).expect("a file under src");
    let mut segments: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if segments
        .last()
        .is_some_and(|last| last == "mod" || last == "lib")
    {
        segments.pop();
    }
    segments
}

/// The paths a `use` tree names after `crate::` or `super::`: `a::{b, c::d}` → `a::b`, `a::c::d`.
fn paths_in_tree(text: &str) -> Vec<Vec<String>> {
    fn tree(chars: &[char], at: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let mut path = prefix.to_vec();
        loop {
            while *at < chars.len() && chars[*at].is_whitespace() {
                *at += 1;
            }
            if *at < chars.len() && chars[*at] == '{' {
                *at += 1;
                loop {
                    tree(chars, at, &path, out);
                    while *at < chars.len() && chars[*at].is_whitespace() {
                        *at += 1;
                    }
                    match chars.get(*at) {
                        Some(',') => *at += 1,
                        Some('}') => {
                            *at += 1;
                            return;
                        }
                        _ => return,
                    }
                    while *at < chars.len() && chars[*at].is_whitespace() {
                        *at += 1;
                    }
                    if chars.get(*at) == Some(&'}') {
                        *at += 1;
                        return;
                    }
                }
            }
            let start = *at;
            while *at < chars.len() && (chars[*at].is_alphanumeric() || chars[*at] == '_') {
                *at += 1;
            }
            if start == *at {
                break;
            }
            path.push(chars[start..*at].iter().collect());
            if chars.get(*at) == Some(&':') && chars.get(*at + 1) == Some(&':') {
                *at += 2;
            } else {
                break;
            }
        }
        out.push(path);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    tree(&chars, &mut 0, &[], &mut out);
    out
}

/// The modules (two levels deep: a feature and one of its modules) a file's code names.
fn modules_named(file: &Path, modules: &[Vec<String>]) -> Vec<Vec<String>> {
    // Code only: a comment may mention any module.
    let text: String = std::fs::read_to_string(file)
        .expect("a source file")
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let here = module_of(file);
    let mut named = Vec::new();
    for (marker, from_crate) in [("crate::", true), ("super::", false)] {
        let mut rest = text.as_str();
        while let Some(found) = rest.find(marker) {
            let before = rest[..found].chars().last();
            rest = &rest[found + marker.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            // `super` of `a::b` (from `a/b.rs` or `a/b/mod.rs`) is `a`.
            let mut base = here.clone();
            if !from_crate {
                base.pop();
            }
            for path in paths_in_tree(rest) {
                let mut full = if from_crate { Vec::new() } else { base.clone() };
                for segment in path {
                    if segment == "super" {
                        full.pop();
                    } else {
                        full.push(segment);
                    }
                }
                // The deepest known module the path starts with, at most two levels.
                let node = (1..=full.len().min(2))
                    .rev()
                    .map(|depth| full[..depth].to_vec())
                    .find(|prefix| modules.contains(prefix));
                if let Some(node) = node {
                    named.push(node);
                }
            }
        }
    }
    named
}

/// Dependencies run one way between modules: no two modules (a feature's module or a low
/// module) name each other, directly or through others. `session` is the composition root
/// (the application state holds each feature's state, and every server function reaches its
/// own through it), so paths through it are not counted, as none through `app.rs` would be. Views that link to another page's
/// address are no exception: they name that page's query type, not its view.
/// The modules that wire features together: what they name is not a dependency between the
/// features.
const COMPOSITION_ROOTS: [&str; 2] = ["session", "app"];

#[test]
fn no_module_depends_on_itself_through_others() {
    let files = rust_files(&source_dir());
    let node = |file: &Path| -> Vec<String> {
        let mut module = module_of(file);
        module.truncate(2);
        module
    };
    let mut modules: Vec<Vec<String>> = files.iter().map(|file| node(file)).collect();
    modules.sort();
    modules.dedup();
    let mut edges: std::collections::BTreeMap<
        Vec<String>,
        std::collections::BTreeSet<Vec<String>>,
    > = Default::default();
    for file in &files {
        let from = node(file);
        if COMPOSITION_ROOTS.contains(&from.join("::").as_str()) {
            continue;
        }
        for to in modules_named(file, &modules) {
            // A module naming its own feature's root (`super::Item` in a feature's folder) is
            // the feature's shared vocabulary, not a dependency between its modules.
            if to != from && !from.starts_with(&to) {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    // Depth-first search for a path back to where it started.
    fn cycle_from(
        start: &Vec<String>,
        at: &Vec<String>,
        edges: &std::collections::BTreeMap<Vec<String>, std::collections::BTreeSet<Vec<String>>>,
        trail: &mut Vec<Vec<String>>,
        seen: &mut std::collections::BTreeSet<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        for next in edges.get(at).into_iter().flatten() {
            if next == start {
                let mut cycle = trail.clone();
                cycle.push(next.clone());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                trail.push(next.clone());
                if let Some(cycle) = cycle_from(start, next, edges, trail, seen) {
                    return Some(cycle);
                }
                trail.pop();
            }
        }
        None
    }
    let mut cycles = Vec::new();
    for module in &modules {
        let mut trail = vec![module.clone()];
        if let Some(cycle) = cycle_from(module, module, &edges, &mut trail, &mut Default::default())
        {
            cycles.push(
                cycle
                    .iter()
                    .map(|m| m.join("::"))
                    .collect::<Vec<_>>()
                    .join(" → "),
            );
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_cycle_finder_reads_nested_use_trees() {
    assert_eq!(
        paths_in_tree("a::{b, c::{d, e}}, f;"),
        vec![
            vec!["a".to_owned(), "b".to_owned()],
            vec!["a".to_owned(), "c".to_owned(), "d".to_owned()],
            vec!["a".to_owned(), "c".to_owned(), "e".to_owned()],
        ]
    );
}
