//! The client bundle: each file's size raw, gzip and brotli.

use super::BenchResult;
use app::hash_list::HashList;
use std::path::{Path, PathBuf};
use std::process::Command;

pub(super) struct ClientFile {
    pub(super) name: String,
    pub(super) raw: u64,
    pub(super) gzip: Option<u64>,
    pub(super) brotli: Option<u64>,
}

pub(super) fn measure_client(site_pkg: &Path) -> BenchResult<Vec<ClientFile>> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(site_pkg) else {
        eprintln!("bench: no client bundle at {}", site_pkg.display());
        return Ok(files);
    };
    // The build keeps the previous build's files beside the current ones: measure only those
    // the hash list names, when there is one.
    let current: Vec<String> = site_pkg
        .parent()
        .and_then(|site| std::fs::read_to_string(site.join("hash.txt")).ok())
        .map(|list| {
            HashList::parse(&list)
                .hashes()
                .map(|hash| format!(".{hash}."))
                .collect()
        })
        .unwrap_or_default();
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("wasm" | "js" | "css")
            )
        })
        .filter(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            current.is_empty() || current.iter().any(|hash| name.contains(hash.as_str()))
        })
        .collect();
    paths.sort();
    for path in paths {
        files.push(ClientFile {
            name: path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
            raw: std::fs::metadata(&path)?.len(),
            gzip: compressed_size("gzip", &["-9", "-c"], &path),
            brotli: compressed_size("brotli", &["-q", "11", "-c"], &path),
        });
    }
    Ok(files)
}

pub(super) fn compressed_size(program: &str, flags: &[&str], path: &Path) -> Option<u64> {
    let output = Command::new(program).args(flags).arg(path).output().ok()?;
    output
        .status
        .success()
        .then_some(output.stdout.len() as u64)
}

// ---------------------------------------------------------------------------------------
// The report
