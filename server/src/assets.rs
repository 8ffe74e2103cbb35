//! The client's files (wasm, its JavaScript glue, the stylesheet, the icon): what the build
//! named them, how they are served, and how long browsers may keep them.
//!
//! `scripts/build.sh` names the client files by content hash and lists the hashes in
//! `<site root>/hash.txt`. A hashed file never changes under its name, so browsers may keep it
//! a year without asking again; anything else (the icon, or a build without hashes such as
//! `cargo leptos watch`) is revalidated by its Last-Modified date.

use app::hash_list::{is_content_hash, HashList};
use axum::http::{header, HeaderValue, Response};
use leptos::prelude::LeptosOptions;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_http::services::ServeDir;

/// `Cache-Control` of a file whose name carries its content hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of any other public file: keep it, but ask (cheaply: 304) before each use.
pub const REVALIDATE: &str = "public, no-cache";

/// What the client build produced, as the page needs to name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientFiles {
    /// The stylesheet's address, for the document's `<link rel="stylesheet">`.
    pub stylesheet: Arc<str>,
    /// Whether the build named its files by content hash.
    pub hashed: bool,
}

impl ClientFiles {
    /// Reads the build's hash list, when there is one, and points Leptos's hydration script at
    /// the hashed names (Leptos reads the list itself, from an absolute path here so that the
    /// site directory, not the binary's, holds it).
    pub fn configure(options: &mut LeptosOptions) -> ClientFiles {
        let list_path = Path::new(&*options.site_root).join("hash.txt");
        let unhashed = ClientFiles {
            stylesheet: format!("/{}/{}.css", options.site_pkg_dir, options.output_name).into(),
            hashed: false,
        };
        let text = match std::fs::read_to_string(&list_path) {
            Ok(text) => text,
            Err(error) => {
                if error.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(path = %list_path.display(), %error, "could not read the client's hash list: serving unhashed names");
                }
                return unhashed;
            }
        };
        let Some(css) = HashList::parse(&text).css else {
            tracing::warn!(path = %list_path.display(), "the client's hash list names no stylesheet: serving unhashed names");
            return unhashed;
        };
        let absolute =
            std::path::absolute(&list_path).unwrap_or_else(|_| PathBuf::from(&list_path));
        options.hash_file = absolute.to_string_lossy().into_owned().into();
        options.hash_files = true;
        ClientFiles {
            stylesheet: format!(
                "/{}/{}.{css}.css",
                options.site_pkg_dir, options.output_name
            )
            .into(),
            hashed: true,
        }
    }
}

/// Whether a file name reads `<name>.<hash>.<extension>`, as the build names client files.
pub fn is_hashed_name(file_name: &str) -> bool {
    let mut parts = file_name.rsplitn(3, '.');
    let (Some(_extension), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !stem.is_empty() && is_content_hash(hash)
}

/// The site's files, each handed out precompressed (brotli or gzip, as the request accepts)
/// when the build wrote that variant.
pub fn file_service(dir: impl AsRef<Path>) -> ServeDir {
    ServeDir::new(dir).precompressed_br().precompressed_gzip()
}

/// Sets how long browsers keep a public file: a year for hashed names, revalidation otherwise.
pub fn set_cache_control<B>(path: &str, response: &mut Response<B>) {
    if !response.status().is_success() && response.status() != axum::http::StatusCode::NOT_MODIFIED
    {
        return;
    }
    let file_name = path.rsplit('/').next().unwrap_or_default();
    let policy = if is_hashed_name(file_name) {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    // The same address answers in brotli, gzip or plain: caches must keep them apart.
    if !headers.contains_key(header::VARY) {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_the_builds_pattern_only() {
        assert!(is_hashed_name("playbook.f997ea64c8d85597.wasm"));
        assert!(is_hashed_name("playbook.5d434c9257974426.css"));
        assert!(!is_hashed_name("playbook.wasm"));
        assert!(!is_hashed_name("playbook_bg.wasm"));
        assert!(!is_hashed_name("favicon.svg"));
        assert!(!is_hashed_name(".f997ea64c8d85597.wasm"));
        assert!(!is_hashed_name("playbook.F997EA64C8D85597.wasm"));
        assert!(!is_hashed_name("playbook.f997ea64c8d8559.wasm"));
    }

    #[test]
    fn configure_follows_the_hash_list_when_there_is_one() {
        let dir = std::env::temp_dir().join(format!("playbook-assets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut options = LeptosOptions::builder()
            .output_name("playbook")
            .site_root(dir.to_string_lossy().into_owned())
            .build();
        let files = ClientFiles::configure(&mut options);
        assert_eq!(&*files.stylesheet, "/pkg/playbook.css");
        assert!(!files.hashed && !options.hash_files);

        std::fs::write(
            dir.join("hash.txt"),
            "js: eec0b362f7020261\nwasm: f997ea64c8d85597\ncss: 5d434c9257974426\n",
        )
        .unwrap();
        let files = ClientFiles::configure(&mut options);
        assert_eq!(&*files.stylesheet, "/pkg/playbook.5d434c9257974426.css");
        assert!(files.hashed && options.hash_files);
        assert!(Path::new(&*options.hash_file).is_absolute());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
