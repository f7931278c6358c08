//! The mail socket: a running instance takes messages from `frontdesk ingest-mail` on a Unix
//! socket, as a second HTTP server with a single route (`POST /mail`), never reachable over TCP.
//!
//! Who may hand in mail is who may connect to the socket. Beside a SQLite file it gets the
//! file's permissions: whoever may write the database may give it mail. Several instances on
//! one machine share one socket path; the first one up takes it, and a socket left behind by
//! an instance that died is taken over at the next start.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, App, HttpResponse, HttpServer};
use futures_util::StreamExt;
use tracing_actix_web::TracingLogger;

use crate::services::inbound::{ingest, quarantine_oversized, Limits, Source, HEADERS_KEPT};
use crate::startup::AppState;

/// The mail socket, bound but not served yet.
#[derive(Debug)]
pub struct BoundSocket {
    path: PathBuf,
    inode: u64,
    listener: UnixListener,
}

/// The mail socket of a running instance, removed again when the instance stops.
pub struct MailSocket {
    path: PathBuf,
    inode: u64,
    server: ServerHandle,
}

impl BoundSocket {
    /// Binds `path`, unless another running instance has it already. Any failure is logged and
    /// leaves the instance without a socket: `ingest-mail` then stores messages itself.
    #[must_use]
    pub fn bind(path: &Path, database_file: Option<&Path>) -> Option<Self> {
        let listener = bind(path)?;
        if let Some(mode) =
            database_file.and_then(|f| std::fs::metadata(f).ok()).map(|m| m.permissions().mode() & 0o666)
        {
            if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
                tracing::warn!(socket = %path.display(), error = %e, "cannot give the mail socket the database file's permissions");
            }
        }
        let inode = std::fs::metadata(path).map(|m| m.ino()).unwrap_or_default();
        Some(Self { path: path.to_owned(), inode, listener })
    }

    /// Serves `POST /mail` on the socket. When that fails the socket file is removed, so that
    /// `ingest-mail` stores messages itself instead of waiting for an answer that never comes.
    #[must_use]
    pub fn serve(self, state: web::Data<AppState>) -> Option<MailSocket> {
        let server = match serve(self.listener, state) {
            Ok(server) => server,
            Err(e) => {
                tracing::warn!(socket = %self.path.display(), error = %e, "cannot take piped mail");
                let _ = std::fs::remove_file(&self.path);
                return None;
            }
        };
        let handle = server.handle();
        tokio::spawn(server);
        tracing::info!(socket = %self.path.display(), "taking piped mail");
        Some(MailSocket { path: self.path, inode: self.inode, server: handle })
    }
}

impl MailSocket {
    /// Stops serving (messages being stored are finished) and removes the socket file, unless
    /// another instance has bound the path since.
    pub async fn close(self) {
        self.server.stop(true).await;
        if std::fs::metadata(&self.path).is_ok_and(|m| m.ino() == self.inode) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A listener on `path`, taking over a socket file left by an instance that is gone.
fn bind(path: &Path) -> Option<UnixListener> {
    match UnixListener::bind(path) {
        Ok(listener) => Some(listener),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            if UnixStream::connect(path).is_ok() {
                tracing::info!(socket = %path.display(), "another instance takes piped mail on this socket");
                return None;
            }
            // Left behind by an instance that stopped without removing it.
            let _ = std::fs::remove_file(path);
            UnixListener::bind(path)
                .map_err(|e| tracing::warn!(socket = %path.display(), error = %e, "cannot take piped mail"))
                .ok()
        }
        Err(e) => {
            tracing::warn!(socket = %path.display(), error = %e, "cannot take piped mail; ingest-mail will store messages itself");
            None
        }
    }
}

/// The one-route HTTP server on the socket. Signals are left to the main server, whose end
/// stops this one too (see [`MailSocket::close`]).
fn serve(listener: UnixListener, state: web::Data<AppState>) -> std::io::Result<Server> {
    Ok(HttpServer::new(move || {
        App::new().app_data(state.clone()).wrap(TracingLogger::default()).route("/mail", web::post().to(take))
    })
    .workers(2)
    .disable_signals()
    .shutdown_timeout(10)
    .listen_uds(listener)?
    .run())
}

/// Stores one message: 200 with the outcome's line, or 503 when the database is unavailable
/// (the mail server tries again later). The instance's own settings apply (size limits, the
/// acknowledgement brake, the contact owner), whatever the environment of `ingest-mail`.
async fn take(state: web::Data<AppState>, mut body: web::Payload) -> HttpResponse {
    let limit = Limits::from_settings(&state.settings).max_mail_bytes;
    // A mail over the limit is read to its end (the sender is still writing it) but only its
    // start is kept, for the quarantine's copy of its headers.
    let (mut raw, mut size) = (web::BytesMut::new(), 0usize);
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else {
            return HttpResponse::BadRequest().body("the message was cut off");
        };
        size += chunk.len();
        if size <= limit {
            raw.extend_from_slice(&chunk);
        } else if raw.len() < HEADERS_KEPT {
            raw.extend_from_slice(&chunk[..chunk.len().min(HEADERS_KEPT - raw.len())]);
        } else {
            raw.truncate(HEADERS_KEPT);
        }
    }
    let stored = async {
        let ctx = state.ingest_context().await?;
        let now = chrono::Utc::now();
        if size > limit {
            quarantine_oversized(&state.db, &ctx, &raw, size, Source::Pipe, now).await
        } else {
            ingest(&state.db, &ctx, &raw, Source::Pipe, now).await
        }
    };
    match stored.await {
        Ok(outcome) => {
            let line = outcome.describe();
            tracing::info!(outcome = %line, "piped mail");
            HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(line)
        }
        Err(e) => {
            tracing::warn!(error = %e, "piped mail not stored: database unavailable");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain; charset=utf-8")
                .body(format!("the database is unavailable, try again later: {e}"))
        }
    }
}
