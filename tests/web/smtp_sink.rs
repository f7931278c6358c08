//! A real SMTP server for tests: it speaks the protocol (EHLO, MAIL, RCPT, DATA, QUIT) on a
//! loopback port and keeps every message it accepts, so tests read the mail the app really sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A running sink.
pub struct SmtpSink {
    messages: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback port with nothing listening on it (an SMTP server that is down).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

impl SmtpSink {
    /// Starts a sink on `port`.
    pub async fn start(port: u16) -> Self {
        Self::start_answering_after(port, Duration::ZERO).await
    }

    /// Starts a sink on `port` that takes `delay` to accept each message, as a real mail server
    /// does: senders working at the same time then overlap.
    pub async fn start_answering_after(port: u16, delay: Duration) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind SMTP sink");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let store = messages.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = session(stream, store, delay).await;
                });
            }
        });
        Self { messages, task }
    }

    /// The raw messages received so far (headers and body, as sent after DATA).
    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    store: Arc<Mutex<Vec<String>>>,
    delay: Duration,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            b"250-sink.test\r\n250 8BITMIME\r\n"
        } else if command.starts_with("DATA") {
            write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
            let mut message = String::new();
            loop {
                let mut data = String::new();
                if lines.read_line(&mut data).await? == 0 {
                    return Ok(());
                }
                if data == ".\r\n" || data == ".\n" {
                    break;
                }
                // Undo dot-stuffing (RFC 5321 4.5.2).
                message.push_str(data.strip_prefix('.').unwrap_or(&data));
            }
            tokio::time::sleep(delay).await;
            if let Ok(mut all) = store.lock() {
                all.push(message);
            }
            b"250 OK queued\r\n"
        } else if command.starts_with("QUIT") {
            write.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else if ["HELO", "MAIL", "RCPT", "RSET", "NOOP"].iter().any(|c| command.starts_with(c)) {
            b"250 OK\r\n"
        } else {
            b"502 Command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}
