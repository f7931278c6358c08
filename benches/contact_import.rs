//! Import Contacts benchmark (issue 23): a file of N rows (default 1,000,000; first name, last
//! name, email, phone, title, account) uploaded to a fresh database, then its Test run and its
//! import each timed from Start to the end, as the mapping page starts them. The server is the
//! `frontdesk` binary of the same build, run as a child process, so that the memory it reports
//! (its heap, `RssAnon`, and its peak resident size, `VmHWM`) is the server's alone.
//!
//! ```sh
//! cargo bench --bench contact_import                     # SQLite, 1,000,000 rows
//! ROWS=100000 cargo bench --bench contact_import
//! psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE import_bench'
//! IMPORT_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/import_bench?sslmode=disable \
//!     cargo bench --bench contact_import                 # an empty PostgreSQL database
//! ```

// A benchmark, like a test, stops at the first thing that goes wrong.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SERVER: &str = env!("CARGO_BIN_EXE_frontdesk");
const FIRST: [&str; 8] = ["Melissa", "James", "Priya", "Chen", "Fatima", "Lucas", "Sofia", "Omar"];
const LAST: [&str; 8] = ["Ortiz", "Smith", "Patel", "Wang", "Khan", "Müller", "Rossi", "Haddad"];

/// The server, stopped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The value of the first `name="csrf_token"` field of `html`.
fn csrf(html: &str) -> String {
    let at = html.find("name=\"csrf_token\" value=\"").expect("a CSRF field") + "name=\"csrf_token\" value=\"".len();
    html[at..].split('"').next().expect("its value").to_owned()
}

fn file(rows: u64) -> Vec<u8> {
    let mut out = String::from("First Name,Last Name,Email,Phone,Title,Account Name\n");
    for i in 0..rows {
        let (first, last) = (FIRST[(i % 8) as usize], LAST[(i / 8 % 8) as usize]);
        let phone = format!("+1 415 {:03} {:04}", 200 + i % 800, i % 10_000);
        let account = if i % 5 == 0 { format!("Company {}", i % 1000) } else { String::new() };
        out.push_str(&format!(
            "{first},{last},{}.{}.{i}@bench.example,{phone},Customer,{account}\n",
            first.to_lowercase(),
            i % 97
        ));
    }
    out.into_bytes()
}

#[tokio::main]
async fn main() {
    let rows: u64 = std::env::var("ROWS").ok().and_then(|r| r.parse().ok()).unwrap_or(1_000_000);
    let url = std::env::var("IMPORT_BENCH_DATABASE_URL").unwrap_or_else(|_| {
        let dir = std::env::temp_dir().join("frontdesk-import-bench");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("bench dir");
        format!("sqlite://{}", dir.join("import.db").display())
    });
    let port = std::env::var("PORT").unwrap_or_else(|_| "18091".into());
    let base = format!("http://127.0.0.1:{port}");
    let server = Server(
        Command::new(SERVER)
            .args(["--database-url", &url, "--listen", &format!("127.0.0.1:{port}")])
            .env("FRONTDESK_MAX_IMPORT_MB", "500")
            .env("FRONTDESK_MAIL_SOCKET", "off")
            .env("FRONTDESK_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start frontdesk"),
    );
    let pid = server.0.id();
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut up = false;
    for _ in 0..300 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(up, "the server did not start");
    let setup = client.get(format!("{base}/setup")).send().await.unwrap().text().await.unwrap();
    let made = client
        .post(format!("{base}/setup"))
        .form(&[
            ("csrf_token", csrf(&setup).as_str()),
            ("name", "Bench Admin"),
            ("email", "admin@example.com"),
            ("password", "password123"),
            ("confirm_password", "password123"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 303, "set up the administrator (the database must be empty)");

    let bytes = file(rows);
    println!("contact import: {rows} rows, {:.1} MiB", bytes.len() as f64 / 1_048_576.0);
    let page = client.get(format!("{base}/agent/contacts/import")).send().await.unwrap().text().await.unwrap();
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", csrf(&page))
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name("bench.csv"));
    let start = Instant::now();
    let uploaded = client.post(format!("{base}/agent/contacts/import")).multipart(form).send().await.unwrap();
    assert_eq!(uploaded.status(), 303, "upload");
    println!("upload (read, counted, stored): {:.2} s", start.elapsed().as_secs_f64());
    let path = format!("{base}{}", uploaded.headers()["location"].to_str().unwrap());

    // The server's own memory, without the pages of the database file it maps (see
    // benches/README.md, Export Contacts).
    let mut heap = 0;
    for (action, done) in [("test", "Test run: nothing was written"), ("import", "Imported")] {
        let page = client.get(&path).send().await.unwrap().text().await.unwrap();
        let mut fields = vec![("csrf_token".to_owned(), csrf(&page)), ("mode".into(), "add".into())];
        fields.push(("action".into(), action.into()));
        fields.push(("create_accounts".into(), "on".into()));
        for (i, key) in ["first_name", "last_name", "email", "phone", "title", "account"].iter().enumerate() {
            fields.push((format!("col_{i}"), (*key).to_owned()));
        }
        let start = Instant::now();
        let started = client.post(&path).form(&fields).send().await.unwrap();
        assert_eq!(started.status(), 303, "start the {action}");
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            heap = heap.max(status_kb(pid, "RssAnon").unwrap_or(0));
            let page = client.get(&path).send().await.unwrap().text().await.unwrap();
            if page.contains(done) {
                break;
            }
            assert!(!page.contains("Failed"), "the {action} failed");
        }
        let seconds = start.elapsed().as_secs_f64();
        println!("{action}: {seconds:.1} s ({:.0} rows/s)", rows as f64 / seconds);
    }
    println!("server heap (RssAnon) at most, sampled every 250 ms: {heap} kB");
    println!("server peak resident size (VmHWM, with the mapped file): {} kB", status_kb(pid, "VmHWM").unwrap_or(0));
}
