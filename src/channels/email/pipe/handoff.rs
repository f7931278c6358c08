//! Handing a piped message to a running instance over its mail socket (see [`super::listener`]).
//!
//! Opening the database, checking its migrations and preparing statements costs a one-message
//! process several times what storing the message does; a running instance has all of that
//! ready. The request is one HTTP/1.1 POST written by hand on a blocking Unix socket: no async
//! runtime, no HTTP client, nothing to start before the message is on its way.
//!
//! A socket is only a path, and another local user may have bound it first. So the message is
//! handed only to a socket whose directory is not open to everyone, which belongs to a user
//! the pipe trusts, and whose listening process (`SO_PEERCRED`) runs as one: root, the pipe's
//! own user, or the instance's user, taken to be the SQLite database file's owner (without a
//! database file, on PostgreSQL, the owner of the socket's directory, which an administrator
//! chose). Any other socket gets nothing: the pipe stores the message itself and says why.

use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use crate::file_trust::{self, Trusted};

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

/// Sends `raw` to the instance listening on `socket`, if it can be trusted (see the module
/// comment); `database_file` is the SQLite database's, if any.
#[must_use]
pub fn hand_over(socket: &Path, database_file: Option<&Path>, raw: &[u8]) -> Handoff {
    let mut stream = match connect(socket, database_file) {
        Ok(stream) => stream,
        Err(handoff) => return handoff,
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

/// A connection to the instance on `socket`, or why there is none.
fn connect(socket: &Path, database_file: Option<&Path>) -> Result<UnixStream, Handoff> {
    let refuse = |why: String| Handoff::NotTaken(Some(format!("not handing the message to the mail socket: {why}")));
    let owner = match std::fs::metadata(socket) {
        Ok(meta) => meta.uid(),
        // No instance runs (or none takes mail here): the usual case on a quiet machine.
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(Handoff::NotTaken(None)),
        Err(e) => return Err(Handoff::NotTaken(Some(format!("cannot connect to {}: {e}", socket.display())))),
    };
    let trusted = Trusted::me().and(instance_user(socket, database_file));
    file_trust::check_directory_of(socket, &trusted).map_err(|e| refuse(e.to_string()))?;
    file_trust::check_owner(socket, owner, &trusted).map_err(|e| refuse(e.to_string()))?;
    let stream = match UnixStream::connect(socket) {
        Ok(stream) => stream,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => {
            return Err(Handoff::NotTaken(None))
        }
        Err(e) => return Err(Handoff::NotTaken(Some(format!("cannot connect to {}: {e}", socket.display())))),
    };
    // The socket file can be replaced between the checks above and the connection: the
    // listening process is what counts.
    match file_trust::peer_uid(&stream) {
        Ok(uid) if trusted.contains(uid) => Ok(stream),
        Ok(uid) => Err(refuse(format!(
            "{} is served by user {uid}, not by a user this process trusts ({trusted})",
            socket.display()
        ))),
        Err(e) => Err(refuse(format!("cannot tell who serves {}: {e}", socket.display()))),
    }
}

/// The user the instance is expected to run as: the owner of the SQLite database file, or
/// without one, of the socket's directory.
fn instance_user(socket: &Path, database_file: Option<&Path>) -> Option<u32> {
    let owner = |path: &Path| std::fs::metadata(path).ok().map(|meta| meta.uid());
    match database_file {
        Some(file) => owner(file),
        None => owner(file_trust::directory_of(socket)),
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
        assert_eq!(hand_over(&socket, None, b"Subject: x\r\n\r\nhi"), Handoff::NotTaken(None));
    }
}
