//! Handing a piped message to a running instance over its mail socket (see [`super::listener`]).
//!
//! Opening the database, checking its migrations and preparing statements costs a one-message
//! process several times what storing the message does; a running instance has all of that
//! ready. The request is one HTTP/1.1 POST written by hand on a blocking Unix socket: no async
//! runtime, no HTTP client, nothing to start before the message is on its way.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// How long the instance may take to store a message: long enough to wait out a busy database
/// (SQLite's busy timeout is 10 s), short enough for the mail server to retry a stuck one.
const ANSWER_WITHIN: Duration = Duration::from_secs(120);

/// What became of the hand-off.
#[derive(Debug, PartialEq, Eq)]
pub enum Handoff {
    /// The instance stored, quarantined or already had the message: its one-line account.
    Taken(String),
    /// The instance could not reach its database, or did not answer in time: the mail server
    /// should try again later (storing is idempotent, so a retry never stores it twice).
    Retry(String),
    /// No instance took it: the caller stores it itself. `Some(why)` when an instance was there
    /// but refused or broke off, which is worth a line in the mail server's log.
    NotTaken(Option<String>),
}

/// Sends `raw` to the instance listening on `socket`.
#[must_use]
pub fn hand_over(socket: &Path, raw: &[u8]) -> Handoff {
    let mut stream = match UnixStream::connect(socket) {
        Ok(stream) => stream,
        // No instance runs (or none takes mail here): the usual case on a quiet machine.
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => {
            return Handoff::NotTaken(None)
        }
        Err(e) => return Handoff::NotTaken(Some(format!("cannot connect to {}: {e}", socket.display()))),
    };
    let _ = stream.set_write_timeout(Some(ANSWER_WITHIN));
    let _ = stream.set_read_timeout(Some(ANSWER_WITHIN));
    let head = format!(
        "POST /mail HTTP/1.1\r\nHost: frontdesk\r\nContent-Type: message/rfc822\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        raw.len()
    );
    // A write error is not the end: an instance that refuses the message (too large) answers
    // and closes before reading it all, and its answer is still there to read.
    let sent = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(raw));
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    match (parse(&answer), read, sent) {
        (Some((200, line)), _, _) => Handoff::Taken(line),
        (Some((503, line)), _, _) => Handoff::Retry(line),
        (Some((status, line)), _, _) => {
            Handoff::NotTaken(Some(format!("the running instance answered {status}: {line}")))
        }
        (None, Err(e), _) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            Handoff::Retry(format!("the running instance did not answer within {} s", ANSWER_WITHIN.as_secs()))
        }
        (None, Err(e), _) | (None, Ok(_), Err(e)) => {
            Handoff::NotTaken(Some(format!("the running instance broke off: {e}")))
        }
        (None, Ok(_), Ok(())) => Handoff::NotTaken(Some("the running instance gave no answer".into())),
    }
}

/// The status code and body of an HTTP/1.1 response with a plain (not chunked) body.
fn parse(answer: &[u8]) -> Option<(u16, String)> {
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&answer[..end]).ok()?;
    let status = head.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    let body = String::from_utf8_lossy(&answer[end + 4..]).trim().to_owned();
    Some((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_status_and_the_line() {
        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 26\r\n\r\nadded to ticket #3\n";
        assert_eq!(parse(answer), Some((200, "added to ticket #3".to_owned())));
        assert_eq!(parse(b"HTTP/1.1 503 Service Unavailable\r\n\r\n"), Some((503, String::new())));
        assert_eq!(parse(b"HTTP/1.1 200 OK\r\n"), None, "cut off before the body");
        assert_eq!(parse(b"SMTP 200\r\n\r\n"), None);
    }

    #[test]
    fn no_socket_means_not_taken_quietly() {
        let socket = std::env::temp_dir().join(format!("frontdesk-no-such-{}.sock", std::process::id()));
        assert_eq!(hand_over(&socket, b"Subject: x\r\n\r\nhi"), Handoff::NotTaken(None));
    }
}
