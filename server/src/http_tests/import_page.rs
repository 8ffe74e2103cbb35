//! The Import page over HTTP: an Admin's upload streams to disk and imports as the
//! organisation's one job, followed through its status; Managers and Representatives are
//! refused; the upload's own size limit applies, not the usual body limit.

use super::*;
use crate::http::MAX_BODY_BYTES;
use app::conversations::import_page::jobs::{ImportJobs, ImportSettings};
use std::sync::Arc;

const BOUNDARY: &str = "playbook-test-boundary";

/// A multipart form as the page's form sends it: the mapping (when given), then the file.
fn form_body(file_name: &str, content: &[u8], mapping: Option<&str>) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(mapping) = mapping {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"mapping\"\r\n\r\n{mapping}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn upload_request(cookie: Option<&str>, body: Vec<u8>, accept: &str) -> Request<Body> {
    let mut request = Request::post("/import/upload")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(header::ACCEPT, accept);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::from(body)).expect("request")
}

/// A call platform's export: its own column names, a column Playbook has no use for.
fn foreign_csv(rows: usize, bad_line: Option<usize>) -> String {
    let mut text = String::from(
        "Call ID,Caller,Agent Email,Start Time,Channel,QA Score,Subject,Recording URL\n",
    );
    for n in 0..rows {
        let channel = if bad_line == Some(n + 2) {
            "fax"
        } else {
            "Voice"
        };
        text.push_str(&format!(
            "up-{n},caller{}@example.com,rep@acme.example,2026-03-14T09:{:02}:00Z,{channel},{},Call {n},https://rec.example/{n}\n",
            n % 3,
            n % 60,
            50 + n % 50,
        ));
    }
    text
}

struct ImportApp {
    app: TestApp,
    jobs: Arc<ImportJobs>,
    dir: std::path::PathBuf,
}

async fn import_app(max_upload_bytes: u64, serve: ServeOptions) -> ImportApp {
    let dir = std::env::temp_dir().join(format!(
        "playbook-import-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).expect("upload dir");
    let jobs = Arc::new(ImportJobs::new(ImportSettings {
        max_upload_bytes,
        dir: dir.clone(),
        ..ImportSettings::default()
    }));
    let state_jobs = jobs.clone();
    let app = app_serving(
        ConnectOptions::new(4),
        move |db| AppState {
            import_jobs: state_jobs,
            ..AppState::new(db, false)
        },
        serve,
    )
    .await;
    ImportApp { app, jobs, dir }
}

impl ImportApp {
    /// Uploads `content` as the file `file_name` with the guessed mapping, as the page's
    /// client does (asking for JSON).
    async fn upload(&self, cookie: Option<&str>, file_name: &str, content: &[u8]) -> Answer {
        self.app
            .send(upload_request(
                cookie,
                form_body(file_name, content, None),
                "application/json",
            ))
            .await
    }

    /// The page's state, once the job is finished.
    async fn finished_status(&self, cookie: &str) -> serde_json::Value {
        for _ in 0..400 {
            let answer = self.app.call("import_status", "{}", Some(cookie)).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            let state = json_of(&answer);
            if state["job"]["phase"] == "Finished" {
                return state;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the import did not finish");
    }

    fn files_left(&self) -> usize {
        std::fs::read_dir(&self.dir).map(|d| d.count()).unwrap_or(0)
    }

    async fn conversations(&self) -> i64 {
        let sql = app::db::Sql::new("SELECT COUNT(*) FROM conversations");
        self.app.db.scalar(&sql, "counting").await.expect("count")
    }
}

impl Drop for ImportApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn an_admin_uploads_a_mapped_csv_and_follows_the_job_to_the_command_lines_summary() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let test = import_app(1 << 20, ServeOptions::default()).await;
        let cookie = test.app.cookie("admin@acme.example").await;
        let before = test.conversations().await;
        // More than the usual 64 KiB body limit: the upload has its own.
        let csv = foreign_csv(1_200, None);
        assert!(csv.len() > MAX_BODY_BYTES);
        // The page maps "Subject" to the title itself; the rest is guessed.
        let mapping = r#"[{"source": "Subject", "target": "title"}, {"source": "Recording URL", "target": ""}]"#;
        let answer = test
            .app
            .send(upload_request(
                Some(&cookie),
                form_body("calls.csv", csv.as_bytes(), Some(mapping)),
                "application/json",
            ))
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
        let state = test.finished_status(&cookie).await;
        let job = &state["job"];
        assert_eq!(job["file_name"], "calls.csv");
        assert_eq!(job["file_bytes"], csv.len() as u64);
        assert_eq!(job["bytes_read"], csv.len() as u64);
        assert_eq!(job["rows"], 1_200);
        let figures = &job["outcome"]["Imported"];
        assert_eq!(figures["rows"], 1_200, "{job}");
        assert_eq!(figures["created"], 1_200);
        assert_eq!(figures["customers_touched"], 3);
        assert_eq!(test.conversations().await, before + 1_200);
        assert_eq!(test.files_left(), 0, "the uploaded file is removed");
        // The mapping is remembered for the organisation: the page guesses from it next time.
        let remembered =
            app::conversations::import_page::store::remembered_mapping(&test.app.db, 1)
                .await
                .expect("remembered");
        assert!(remembered.contains(&("subject".to_owned(), "title".to_owned())));
        // A plain form post (no wasm) is sent back to the page, which shows the job.
        let again = test
            .app
            .send(upload_request(
                Some(&cookie),
                form_body("calls.csv", csv.as_bytes(), None),
                "text/html,application/xhtml+xml",
            ))
            .await;
        assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
        assert_eq!(again.headers[header::LOCATION], "/import");
        let state = test.finished_status(&cookie).await;
        assert_eq!(state["job"]["outcome"]["Imported"]["unchanged"], 1_200);
        let page = test.app.page("/import", Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Imported: calls.csv"), "{}", page.body);
    })
}

#[test]
fn a_file_with_bad_rows_reports_each_with_its_line_and_writes_nothing() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let test = import_app(1 << 20, ServeOptions::default()).await;
        let cookie = test.app.cookie("admin@acme.example").await;
        let before = test.conversations().await;
        let csv = foreign_csv(50, Some(40));
        let answer = test
            .upload(Some(&cookie), "calls.csv", csv.as_bytes())
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
        let state = test.finished_status(&cookie).await;
        let bad = &state["job"]["outcome"]["BadRows"];
        assert_eq!(bad["total"], 1, "{state}");
        let line = bad["lines"][0].as_str().unwrap_or_default();
        assert!(line.starts_with("line 40: type:"), "{line}");
        assert_eq!(test.conversations().await, before, "nothing written");
        assert_eq!(test.files_left(), 0);
    })
}

#[test]
fn managers_representatives_and_strangers_are_refused_the_import() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let test = import_app(1 << 20, ServeOptions::default()).await;
        let csv = foreign_csv(3, None);
        for email in ["manager@acme.example", "rep@acme.example"] {
            let cookie = test.app.cookie(email).await;
            let answer = test
                .upload(Some(&cookie), "calls.csv", csv.as_bytes())
                .await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{email}");
            assert!(answer.body.contains("Admins only"), "{}", answer.body);
            let status = test.app.call("import_status", "{}", Some(&cookie)).await;
            assert_eq!(status.status, StatusCode::FORBIDDEN, "{email}");
            let preview = test
                .app
                .call(
                    "import_preview",
                    r#"{"format": "Csv", "sample": "a,b\n", "truncated": false, "mapping": null}"#,
                    Some(&cookie),
                )
                .await;
            assert_eq!(preview.status, StatusCode::FORBIDDEN, "{email}");
            let page = test.app.page("/import", Some(&cookie)).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{email}");
            assert!(page.body.contains("available to Admins only"));
        }
        let answer = test.upload(None, "calls.csv", csv.as_bytes()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(test.files_left(), 0);
        assert!(test.jobs.is_empty(), "no job was started");
    })
}

#[test]
fn an_upload_over_its_limit_is_refused_and_leaves_no_file_and_no_running_job() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let test = import_app(4_096, ServeOptions::default()).await;
        let cookie = test.app.cookie("admin@acme.example").await;
        let csv = foreign_csv(200, None);
        assert!(csv.len() > 4_096);
        // Streamed (no Content-Length): cut off as it passes the limit.
        let answer = test
            .upload(Some(&cookie), "calls.csv", csv.as_bytes())
            .await;
        assert_eq!(
            answer.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            answer.body
        );
        assert!(
            answer.body.contains("PLAYBOOK_IMPORT_MAX_MB"),
            "{}",
            answer.body
        );
        assert_eq!(test.files_left(), 0);
        let state = test.finished_status(&cookie).await;
        assert!(state["job"]["outcome"]["Failed"]
            .as_str()
            .is_some_and(|m| m.contains("larger than")));
        // Declared too large: refused before a byte is read.
        let body = form_body("calls.csv", csv.as_bytes(), None);
        let mut request = upload_request(Some(&cookie), body, "application/json");
        request
            .headers_mut()
            .insert(header::CONTENT_LENGTH, (10u64 << 20).into());
        let answer = test.app.send(request).await;
        assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
        // A file within the limit goes through afterwards.
        let small = foreign_csv(5, None);
        let answer = test
            .upload(Some(&cookie), "calls.csv", small.as_bytes())
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
        let state = test.finished_status(&cookie).await;
        assert_eq!(state["job"]["outcome"]["Imported"]["rows"], 5);
        assert_eq!(state["max_upload_bytes"], 4_096);
        assert_eq!(state["sqlite"], true);
    })
}

#[test]
fn a_second_import_while_one_runs_is_refused_clearly() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let test = import_app(1 << 20, ServeOptions::default()).await;
        let cookie = test.app.cookie("admin@acme.example").await;
        // Acme's import in progress (its file still arriving, say).
        let running = test.jobs.start(1, "first.csv").expect("first");
        let csv = foreign_csv(3, None);
        let answer = test
            .upload(Some(&cookie), "second.csv", csv.as_bytes())
            .await;
        assert_eq!(answer.status, StatusCode::CONFLICT);
        assert!(
            answer.body.contains("already running") && answer.body.contains("first.csv"),
            "{}",
            answer.body
        );
        let status = json_of(&test.app.call("import_status", "{}", Some(&cookie)).await);
        assert_eq!(status["job"]["file_name"], "first.csv");
        assert_eq!(status["job"]["phase"], "Receiving");
        assert_eq!(test.files_left(), 0);
        // Another organisation is not held up by it.
        assert!(test.jobs.start(2, "theirs.csv").is_ok());
        running.finish(
            app::conversations::import_page::columns::JobOutcome::Failed("stopped".to_owned()),
        );
        let answer = test
            .upload(Some(&cookie), "second.csv", csv.as_bytes())
            .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
        let state = test.finished_status(&cookie).await;
        assert_eq!(state["job"]["file_name"], "second.csv");
    })
}

/// A body that sends `parts`, pausing `pause` before each.
struct SlowBody {
    parts: std::collections::VecDeque<axum::body::Bytes>,
    pause: std::time::Duration,
    sleep: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl axum::body::HttpBody for SlowBody {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        use std::future::Future;
        if self.parts.is_empty() {
            return std::task::Poll::Ready(None);
        }
        let pause = self.pause;
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(pause)));
        if sleep.as_mut().poll(cx).is_pending() {
            return std::task::Poll::Pending;
        }
        self.sleep = None;
        let part = self.parts.pop_front().unwrap_or_default();
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(part))))
    }
}

#[test]
fn a_slow_upload_is_not_cut_by_the_request_timeout() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let serve = ServeOptions {
            request_timeout: std::time::Duration::from_millis(300),
            ..ServeOptions::default()
        };
        let test = import_app(1 << 20, serve).await;
        let cookie = test.app.cookie("admin@acme.example").await;
        let body = form_body("slow.csv", foreign_csv(20, None).as_bytes(), None);
        let parts = body
            .chunks(body.len() / 4 + 1)
            .map(axum::body::Bytes::copy_from_slice)
            .collect();
        let request = Request::post("/import/upload")
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .header(header::ACCEPT, "application/json")
            .header(header::COOKIE, &cookie)
            .body(Body::new(SlowBody {
                parts,
                pause: std::time::Duration::from_millis(150),
                sleep: None,
            }))
            .expect("request");
        let answer = test.app.send(request).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
        let state = test.finished_status(&cookie).await;
        assert_eq!(state["job"]["outcome"]["Imported"]["rows"], 20);
    })
}

#[test]
fn the_preview_reads_the_start_of_a_file_and_ndjson_imports_too() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let test = import_app(1 << 20, ServeOptions::default()).await;
        let cookie = test.app.cookie("admin@acme.example").await;
        let sample = foreign_csv(30, Some(3));
        let call = serde_json::json!({
            "format": "Csv",
            "sample": sample,
            "truncated": true,
            "mapping": [{"source": "Recording URL", "target": "field.recording"}],
        });
        let answer = test
            .app
            .call("import_preview", &call.to_string(), Some(&cookie))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let preview = json_of(&answer);
        assert_eq!(preview["columns"][0]["target"], "external_id");
        assert_eq!(preview["columns"][7]["target"], "field.recording");
        assert_eq!(preview["problems"], serde_json::json!([]));
        assert_eq!(preview["rows"].as_array().map(Vec::len), Some(20));
        assert_eq!(preview["rows"][1]["line"], 3);
        assert!(preview["rows"][1]["problems"][0]
            .as_str()
            .is_some_and(|p| p.contains("fax")));
        assert_eq!(preview["rows"][0]["cells"][7], "recording: https://rec.example/0");

        let ndjson = r#"{"external_id": "nd-1", "customer": "nd@example.com", "representative": "rep@acme.example", "title": "Hello", "type": "chat", "occurred_at": "2026-03-14T09:30:00Z"}"#;
        let answer = test.upload(Some(&cookie), "calls.jsonl", format!("{ndjson}\n").as_bytes()).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
        let state = test.finished_status(&cookie).await;
        assert_eq!(state["job"]["outcome"]["Imported"]["created"], 1, "{state}");
        // Another kind of file is refused before anything is stored.
        let answer = test.upload(Some(&cookie), "calls.xlsx", b"PK").await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert!(answer.body.contains("CSV"), "{}", answer.body);
        assert_eq!(test.files_left(), 0);
        // A mapping field past its limit is refused as it arrives.
        let long = format!("[{}]", vec![r#"{"source": "x", "target": ""}"#; 3_000].join(","));
        let answer = test
            .app
            .send(upload_request(
                Some(&cookie),
                form_body("calls.csv", b"a\n", Some(&long)),
                "application/json",
            ))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert!(answer.body.contains("too long"), "{}", answer.body);
    })
}
