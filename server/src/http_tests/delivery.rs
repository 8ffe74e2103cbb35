//! The client's files: hashed names, precompressed variants, caching, robots.txt.

use super::{fixture, shared_runtime, TestApp};
use crate::assets;
use crate::assets::ClientFiles;
use crate::http::{router, ServeOptions};
use app::session::AppState;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use leptos::prelude::LeptosOptions;
use tools::fixture::load_text;
use tools::test_db::TestDb;

/// A site directory as `scripts/build.sh` writes it: hashed client files, each with brotli
/// and gzip variants (stand-in bytes, so each answer shows which variant it is).
pub(super) fn hashed_site(dir: &std::path::Path) {
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(&pkg).expect("site dir");
    for (file, contents) in [
        ("playbook.1111111111111111.wasm", "raw wasm"),
        ("playbook.1111111111111111.wasm.br", "brotli wasm"),
        ("playbook.1111111111111111.wasm.gz", "gzip wasm"),
        ("playbook.2222222222222222.js", "raw js"),
        ("playbook.2222222222222222.js.br", "brotli js"),
        ("playbook.3333333333333333.css", "raw css"),
    ] {
        std::fs::write(pkg.join(file), contents).expect("site file");
    }
    std::fs::write(dir.join("favicon.svg"), "<svg/>").expect("icon");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../public/robots.txt"),
        dir.join("robots.txt"),
    )
    .expect("robots.txt");
    std::fs::write(
        dir.join("hash.txt"),
        "js: 2222222222222222\nwasm: 1111111111111111\ncss: 3333333333333333\n",
    )
    .expect("hash list");
}

#[test]
pub(super) fn client_files_arrive_precompressed_under_hashed_names_kept_a_year() {
    shared_runtime().block_on(async {
        let site = std::env::temp_dir().join(format!("playbook-site-{}", std::process::id()));
        hashed_site(&site);
        let mut options = LeptosOptions::builder()
            .output_name("playbook")
            .site_root(site.to_string_lossy().into_owned())
            .build();
        let client = ClientFiles::configure(&mut options);
        assert!(client.hashed);
        let temp = TestDb::sqlite().await;
        load_text(&temp.db, &fixture(), "fixture")
            .await
            .expect("fixture");
        let app = TestApp {
            router: router(
                AppState::new(temp.db.clone(), false),
                options,
                client,
                ServeOptions::default(),
            ),
            db: temp.db.clone(),
            _temp: temp,
        };
        let get = |path: &str, encodings: Option<&str>| {
            let mut request = Request::get(path);
            if let Some(encodings) = encodings {
                request = request.header(header::ACCEPT_ENCODING, encodings);
            }
            request.body(Body::empty()).expect("request")
        };
        let wasm = "/pkg/playbook.1111111111111111.wasm";

        // The best variant the browser accepts, under the file's own type.
        let answer = app.send(get(wasm, Some("gzip, deflate, br, zstd"))).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body, "brotli wasm");
        assert_eq!(answer.headers[header::CONTENT_ENCODING], "br");
        assert_eq!(answer.headers[header::CONTENT_TYPE], "application/wasm");
        assert_eq!(answer.headers[header::CACHE_CONTROL], assets::IMMUTABLE);
        assert!(answer.headers[header::VARY]
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("accept-encoding"));
        let answer = app.send(get(wasm, Some("gzip"))).await;
        assert_eq!(
            (
                answer.body.as_str(),
                &answer.headers[header::CONTENT_ENCODING]
            ),
            ("gzip wasm", &"gzip".parse().unwrap())
        );
        let answer = app.send(get(wasm, None)).await;
        assert_eq!(answer.body, "raw wasm");
        assert!(!answer.headers.contains_key(header::CONTENT_ENCODING));
        // A file without a gzip variant goes out as it is, never compressed again on the fly.
        let answer = app
            .send(get("/pkg/playbook.2222222222222222.js", Some("gzip")))
            .await;
        assert_eq!(answer.body, "raw js");
        assert!(!answer.headers.contains_key(header::CONTENT_ENCODING));

        // An old build's name is gone, not served as a page.
        let answer = app
            .send(get("/pkg/playbook.9999999999999999.wasm", Some("br")))
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_ne!(
            answer
                .headers
                .get(header::CACHE_CONTROL)
                .map(|v| v.to_str().unwrap()),
            Some(assets::IMMUTABLE)
        );

        // Crawlers are kept out of the whole app, before any sign-in.
        let robots = app.send(get("/robots.txt", None)).await;
        assert_eq!(robots.status, StatusCode::OK);
        assert!(robots.body.contains("Disallow: /\n"), "{}", robots.body);

        // A file without a hash in its name is revalidated by its date.
        let icon = app.send(get("/favicon.svg", None)).await;
        assert_eq!(icon.headers[header::CACHE_CONTROL], assets::REVALIDATE);
        let modified = icon.headers[header::LAST_MODIFIED].clone();
        let again = app
            .send(
                Request::get("/favicon.svg")
                    .header(header::IF_MODIFIED_SINCE, modified)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);

        // Pages name the hashed files, and are themselves compressed when the browser accepts it.
        let page = app.page("/login", None).await;
        for name in [
            "/pkg/playbook.2222222222222222.js",
            "/pkg/playbook.1111111111111111.wasm",
            "/pkg/playbook.3333333333333333.css",
        ] {
            assert!(page.body.contains(name), "{name} in {}", page.body);
        }
        assert!(!page.body.contains("/pkg/playbook.css"));
        let compressed = app
            .send(
                Request::get("/login")
                    .header(header::ACCEPT, "text/html")
                    .header(header::ACCEPT_ENCODING, "gzip")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(compressed.status, StatusCode::OK);
        assert_eq!(compressed.headers[header::CONTENT_ENCODING], "gzip");
        assert_eq!(compressed.headers[header::CACHE_CONTROL], "no-store");
        assert!(!compressed.body.contains("<html"));
        std::fs::remove_dir_all(&site).ok();
    })
}
