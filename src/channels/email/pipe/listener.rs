//! The mail socket: a running instance takes messages from `frontdesk ingest-mail` on a Unix
//! socket, as a second HTTP server with a single route (`POST /mail`), never reachable over TCP.
//!
//! Who may hand in mail is checked twice. The socket file is the instance's user's only (mode
//! 0600), or its group's too (0660) when the SQLite file is shared with a group for writing or
//! pipe users are configured: whoever may write the database may give it mail. And each
//! connection's peer (`SO_PEERCRED`) must be the instance's own user, root, or one of
//! `FRONTDESK_MAIL_PIPE_USERS`; anyone else is answered 403 and nothing is read.
//!
//! The socket is only made in a directory that belongs to the instance's user (or root) and is
//! not open to everyone ([`crate::file_trust`]): otherwise another user could replace it with
//! their own and receive the mail. Such a directory stops the start-up with an error.
//!
//! Several instances on one machine share one socket path; the first one up takes it, and a
//! socket left behind by an instance that died is taken over at the next start.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use actix_web::dev::{Extensions, Server, ServerHandle};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use futures_util::StreamExt;
use tracing_actix_web::TracingLogger;

use crate::channels::email::ingest::{ingest, quarantine_oversized, Limits, Source, HEADERS_KEPT};
use crate::file_trust::{self, Trusted, Untrusted};
use crate::startup::AppState;

/// The mail socket, bound but not served yet.
#[derive(Debug)]
pub struct BoundSocket {
    path: PathBuf,
    inode: u64,
    listener: UnixListener,
    /// Who may hand in mail: root, the instance's user and the pipe users.
    senders: Trusted,
}

/// The user at the other end of a connection, when the system says.
#[derive(Debug, Clone, Copy)]
struct Peer(Option<u32>);

/// The mail socket of a running instance, removed again when the instance stops.
pub struct MailSocket {
    path: PathBuf,
    inode: u64,
    server: ServerHandle,
}

impl BoundSocket {
    /// Binds `path`, unless another running instance has it already, for mail from the
    /// instance's own user, root and `pipe_users`. A failure to bind is logged and leaves the
    /// instance without a socket: `ingest-mail` then stores messages itself.
    ///
    /// # Errors
    /// A directory another user could change: the socket would not be the instance's for sure,
    /// and the pipe (rightly) would not trust it.
    pub fn bind(path: &Path, database_file: Option<&Path>, pipe_users: &[u32]) -> Result<Option<Self>, Untrusted> {
        file_trust::check_directory_of(path, &Trusted::me())?;
        let Some(listener) = bind(path) else { return Ok(None) };
        let shared_database =
            database_file.and_then(|f| std::fs::metadata(f).ok()).is_some_and(|m| m.permissions().mode() & 0o020 != 0);
        let mode = if shared_database || !pipe_users.is_empty() { 0o660 } else { 0o600 };
        // Connections made before this wait in the backlog, and the peer check refuses
        // strangers among them anyway.
        if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
            tracing::warn!(socket = %path.display(), error = %e, "cannot set the mail socket's permissions; not taking piped mail");
            let _ = std::fs::remove_file(path);
            return Ok(None);
        }
        let inode = std::fs::metadata(path).map(|m| m.ino()).unwrap_or_default();
        let senders = Trusted::me().and(pipe_users.iter().copied());
        Ok(Some(Self { path: path.to_owned(), inode, listener, senders }))
    }

    /// Serves `POST /mail` on the socket. When that fails the socket file is removed, so that
    /// `ingest-mail` stores messages itself instead of waiting for an answer that never comes.
    #[must_use]
    pub fn serve(self, state: web::Data<AppState>) -> Option<MailSocket> {
        let server = match serve(self.listener, state, self.senders) {
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
                match std::fs::metadata(path).map(|m| m.uid()) {
                    Ok(owner) if !Trusted::me().contains(owner) => tracing::warn!(
                        socket = %path.display(),
                        owner,
                        "user {owner} holds the mail socket; ingest-mail does not hand mail to it, it stores messages itself"
                    ),
                    _ => tracing::info!(socket = %path.display(), "another instance takes piped mail on this socket"),
                }
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
fn serve(listener: UnixListener, state: web::Data<AppState>, senders: Trusted) -> std::io::Result<Server> {
    let senders = web::Data::new(senders);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(senders.clone())
            .wrap(TracingLogger::default())
            .route("/mail", web::post().to(take))
    })
    .on_connect(note_peer)
    .workers(2)
    .disable_signals()
    .shutdown_timeout(10)
    .listen_uds(listener)?
    .run())
}

/// Notes who connected, from the socket itself (`SO_PEERCRED`): what the client says cannot
/// be trusted.
fn note_peer(connection: &dyn std::any::Any, data: &mut Extensions) {
    let uid = connection
        .downcast_ref::<tokio::net::UnixStream>()
        .and_then(|stream| stream.peer_cred().ok())
        .map(|credentials| credentials.uid());
    data.insert(Peer(uid));
}

/// Whether the user `peer` (`None`: unknown) may hand mail to the instance.
fn may_hand_in(peer: Option<u32>, senders: &Trusted) -> bool {
    peer.is_some_and(|uid| senders.contains(uid))
}

/// Stores one message: 200 with the outcome's line, or 503 when the database is unavailable
/// (the mail server tries again later). The instance's own settings apply (size limits, the
/// acknowledgement brake, the contact owner), whatever the environment of `ingest-mail`.
/// A user who may not hand in mail gets 403 and the connection is closed, the message unread.
async fn take(
    request: HttpRequest,
    state: web::Data<AppState>,
    senders: web::Data<Trusted>,
    mut body: web::Payload,
) -> HttpResponse {
    let peer = request.conn_data::<Peer>().and_then(|peer| peer.0);
    if !may_hand_in(peer, &senders) {
        let who = peer.map_or_else(|| "an unknown user".to_owned(), |uid| format!("user {uid}"));
        tracing::warn!(peer = ?peer, "refused piped mail from {who}: not the instance's user, root or one of FRONTDESK_MAIL_PIPE_USERS");
        return HttpResponse::Forbidden()
            .force_close()
            .content_type("text/plain; charset=utf-8")
            .body(format!("{who} may not hand mail to this instance (see FRONTDESK_MAIL_PIPE_USERS)"));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_root_the_instance_user_and_the_pipe_users_may_hand_in_mail() {
        let senders = Trusted::of([1000]).and([113, 114]);
        for uid in [0, 1000, 113, 114] {
            assert!(may_hand_in(Some(uid), &senders), "{uid}");
        }
        assert!(!may_hand_in(Some(1001), &senders));
        assert!(!may_hand_in(Some(65534), &senders));
        assert!(!may_hand_in(None, &senders), "a peer the system does not name");
        assert!(!may_hand_in(Some(113), &Trusted::of([1000])), "no pipe users configured");
    }
}
