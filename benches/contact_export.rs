//! Export Contacts benchmark (issue 23): times `GET /agent/contacts/export` of every contact
//! (All Contacts, sorted by name) and reports rows/s and the server's memory. The server is the
//! `frontdesk` binary of the same build, run as a child process, so that its figures in
//! `/proc/<pid>/status` are the server's alone: the peak resident size (`VmHWM`) before and
//! after the export, and, sampled every 100 ms while the file streams, the resident size
//! (`VmRSS`) and its anonymous part (`RssAnon`: the heap). SQLite's database file is mapped
//! into the server (`mmap_size`, see `src/db.rs`), so every page the export reads counts in
//! `VmRSS` and `VmHWM` as file-backed memory (the operating system's page cache, shared and
//! reclaimable); the server's own memory is `RssAnon`, which must stay flat whatever N.
//!
//! ```sh
//! # an existing seeded database (see benches/load.sh and `frontdesk seed`):
//! EXPORT_BENCH_DATABASE_URL=sqlite:///path/bench_1000000.db cargo bench --bench contact_export
//! # or a fresh SQLite database seeded with CONTACTS contacts (default 1,000,000) first:
//! CONTACTS=100000 cargo bench --bench contact_export
//! ```
//! The administrator is `admin@example.com` / `password123`, as `frontdesk seed` makes it
//! (ADMIN_EMAIL and ADMIN_PASSWORD change that).

// A benchmark, like a test, stops at the first thing that goes wrong.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SERVER: &str = env!("CARGO_BIN_EXE_frontdesk");

/// A `/proc/<pid>/status` figure in kB (`VmHWM`, `VmRSS`).
fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kb: Option<u64>) -> String {
    kb.map_or_else(|| "n/a".to_owned(), |kb| format!("{:.1} MiB", kb as f64 / 1024.0))
}

/// The server, stopped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn seed(url: &str, contacts: &str) {
    println!("seeding {contacts} contacts into {url}");
    let status = Command::new(SERVER)
        .args(["--database-url", url, "seed", "--contacts", contacts, "--accounts", "5000", "--tickets", "0"])
        .args(["--articles", "0"])
        .env("FRONTDESK_LOG", "warn")
        .status()
        .expect("run frontdesk seed");
    assert!(status.success(), "seed failed");
}

/// The value of the first `name="csrf_token"` field of `html`.
fn csrf(html: &str) -> String {
    let at = html.find("name=\"csrf_token\" value=\"").expect("a CSRF field") + "name=\"csrf_token\" value=\"".len();
    html[at..].split('"').next().expect("its value").to_owned()
}

#[tokio::main]
async fn main() {
    let contacts = std::env::var("CONTACTS").unwrap_or_else(|_| "1000000".into());
    let url = match std::env::var("EXPORT_BENCH_DATABASE_URL") {
        Ok(url) => url,
        Err(_) => {
            let dir = std::env::temp_dir().join("frontdesk-export-bench");
            std::fs::create_dir_all(&dir).expect("bench dir");
            let path = dir.join(format!("contacts_{contacts}.db"));
            let url = format!("sqlite://{}", path.display());
            if !path.exists() {
                seed(&url, &contacts);
            }
            url
        }
    };
    let port = std::env::var("PORT").unwrap_or_else(|_| "18090".into());
    let base = format!("http://127.0.0.1:{port}");
    let server = Server(
        Command::new(SERVER)
            .args(["--database-url", &url, "--listen", &format!("127.0.0.1:{port}"), "--db-pool", "16"])
            .env("FRONTDESK_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start frontdesk"),
    );
    let pid = server.0.id();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut up = false;
    for _ in 0..300 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(up, "the server did not start");

    let login = client.get(format!("{base}/agent/login")).send().await.expect("login page").text().await.unwrap();
    let email = std::env::var("ADMIN_EMAIL").unwrap_or_else(|_| "admin@example.com".into());
    let password = std::env::var("ADMIN_PASSWORD").unwrap_or_else(|_| "password123".into());
    let answer = client
        .post(format!("{base}/agent/login"))
        .form(&[("csrf_token", csrf(&login).as_str()), ("email", &email), ("password", &password)])
        .send()
        .await
        .expect("log in");
    assert_eq!(answer.status(), 303, "log in as {email}");

    let before_hwm = status_kb(pid, "VmHWM");
    let before_rss = status_kb(pid, "VmRSS");
    // The resident size while the file streams, sampled.
    let before_anon = status_kb(pid, "RssAnon");
    let running = Arc::new(AtomicBool::new(true));
    let (peak_rss, peak_anon) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let sampler = {
        let (running, peak_rss, peak_anon) = (running.clone(), peak_rss.clone(), peak_anon.clone());
        tokio::spawn(async move {
            while running.load(Ordering::Relaxed) {
                if let Some(rss) = status_kb(pid, "VmRSS") {
                    peak_rss.fetch_max(rss, Ordering::Relaxed);
                }
                if let Some(anon) = status_kb(pid, "RssAnon") {
                    peak_anon.fetch_max(anon, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    let start = Instant::now();
    let mut response =
        client.get(format!("{base}/agent/contacts/export?view=all&sort=name&dir=asc")).send().await.expect("export");
    assert_eq!(response.status(), 200, "export");
    let first_byte = start.elapsed();
    let (mut bytes, mut lines) = (0u64, 0u64);
    while let Some(chunk) = response.chunk().await.expect("the file") {
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    let seconds = start.elapsed().as_secs_f64();
    running.store(false, Ordering::Relaxed);
    sampler.await.expect("sampler");
    // Seeded values hold no line breaks: every line but the header is a contact.
    let rows = lines.saturating_sub(1);
    println!(
        "contact export: {rows} rows, {:.1} MiB in {seconds:.2} s ({:.0} rows/s; first byte after {:.0} ms)",
        bytes as f64 / 1_048_576.0,
        rows as f64 / seconds,
        first_byte.as_secs_f64() * 1000.0
    );
    println!(
        "server heap (RssAnon): {} before, at most {} while streaming",
        mib(before_anon),
        mib(Some(peak_anon.load(Ordering::Relaxed)))
    );
    println!(
        "server resident (VmRSS, with the mapped database): {} before, at most {} while streaming; \
         peak (VmHWM) {} before, {} after",
        mib(before_rss),
        mib(Some(peak_rss.load(Ordering::Relaxed))),
        mib(before_hwm),
        mib(status_kb(pid, "VmHWM"))
    );
}
