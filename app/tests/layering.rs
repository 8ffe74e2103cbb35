//! Dependencies run one way: the low modules import no feature, and the organisations' and
//! conversations' stores and services do not import the Customers feature (they share the
//! write-version protocol through `versions.rs` instead; only views link to other pages'
//! addresses). A new import against the grain fails here.

use std::path::{Path, PathBuf};

const LOW_MODULES: [&str; 7] = [
    "db.rs",
    "page.rs",
    "limits.rs",
    "text.rs",
    "error.rs",
    "versions.rs",
    "hash_list.rs",
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
        let named = features_named(&source_dir().join(module));
        assert!(named.is_empty(), "{module} imports {named:?}");
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
