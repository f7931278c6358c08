//! The CPU a single hostile mail can cost: each mail below goes through `screen` (the MIME
//! structure check, mail-parser, the HTML bounds and the sanitiser: all that reading a mail
//! costs before the database) and the time it took on this thread is printed. The target
//! (issue 21): no mail anyone can send costs more than a second of CPU. Run:
//!
//! ```sh
//! cargo bench --bench hostile_mail
//! ```

// A benchmark, like a test, stops at the first thing that goes wrong.
#![allow(clippy::expect_used)]

use std::time::Instant;

use frontdesk::channels::email::ingest::{screen, Limits};
use frontdesk::domain::mail_html::{MAX_DEPTH, MAX_HTML_BYTES};

const MB: usize = 1024 * 1024;

fn html_mail(html: &str) -> Vec<u8> {
    format!(
        "From: a@example.com\r\nSubject: x\r\nMessage-ID: <x@y>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
    )
    .into_bytes()
}

/// `unit` repeated to `bytes`.
fn fill(unit: &str, bytes: usize) -> String {
    unit.repeat(bytes / unit.len())
}

fn main() {
    let limits = Limits { max_mail_bytes: 25 * MB, max_file_bytes: 10 * MB, acks_per_hour: 5 };
    let under_bound = MAX_HTML_BYTES - 1024;
    let deepest = format!("{}{}", "<div>".repeat(MAX_DEPTH - 1), "</div>".repeat(MAX_DEPTH - 1));
    let mut parts = String::from(
        "From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n",
    );
    for _ in 0..999 {
        parts.push_str(&format!("--p\r\nContent-Type: application/octet-stream\r\n\r\n{}\r\n", "A".repeat(24_000)));
    }
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("100,000 nested <div> (500 KB)", html_mail(&"<div>".repeat(100_000))),
        ("200,000 nested <ul><li> (1.6 MB)", html_mail(&"<ul><li>".repeat(200_000))),
        ("nesting at the bound, repeated to the size bound", html_mail(&fill(&deepest, under_bound))),
        (
            "end tags walking to a scope boundary, to the size bound",
            html_mail(&format!("{}{}", "<div>".repeat(MAX_DEPTH - 2), fill("</zz>", under_bound))),
        ),
        ("misplaced table tokens, to the size bound", html_mail(&format!("<table>{}", fill("<b>x</b>", under_bound)))),
        ("25 MB of HTML nested 100,000 deep, repeated", html_mail(&fill(&"<div>".repeat(100_000), 24 * MB))),
        ("999 parts of 24 KB", parts.into_bytes()),
        (
            "24 MB of plain text",
            format!("From: a@example.com\r\nSubject: x\r\n\r\n{}", fill("words ", 24 * MB)).into_bytes(),
        ),
    ];
    println!("{:<58} {:>10} {:>10}", "mail", "size", "CPU ms");
    for (name, raw) in cases {
        let started = cpu_time();
        let wall = Instant::now();
        let kept = screen(&raw, &limits).map(|m| m.html.is_some());
        let cpu = cpu_time() - started;
        println!(
            "{name:<58} {:>9}K {:>10.0}   ({} ms wall; {})",
            raw.len() / 1024,
            cpu * 1000.0,
            wall.elapsed().as_millis(),
            match kept {
                Ok(true) => "stored with its HTML".to_owned(),
                Ok(false) => "stored as text".to_owned(),
                Err(reason) => format!("quarantined: {reason}"),
            }
        );
    }
}

/// CPU time of this thread, in seconds (`screen` runs on it alone).
fn cpu_time() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("/proc/thread-self/stat");
    // utime and stime are the 14th and 15th fields, after the command name in parentheses.
    let after = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    ticks / 100.0
}
