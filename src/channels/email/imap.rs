//! Reading a support mailbox over IMAP (async-imap): connect with TLS, STARTTLS or in the
//! clear, log in, and hand out the messages of a folder by UID: the unread ones, or those after
//! a UID already ingested. Every network step has a time limit, so a server that stops
//! answering holds up one poll, not the worker.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_imap::{Client, Session};
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls::{self, pki_types::ServerName, ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

use crate::domain::mailbox::ImapSecurity;

/// How long one network step may take.
const STEP: Duration = Duration::from_secs(30);

/// What connecting to a mailbox needs.
#[derive(Clone)]
pub struct ImapAccount {
    pub host: String,
    pub port: u16,
    pub security: ImapSecurity,
    pub user: String,
    pub password: String,
    pub folder: String,
}

impl std::fmt::Debug for ImapAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapAccount")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .field("password", &"(hidden)")
            .field("folder", &self.folder)
            .finish()
    }
}

/// What went wrong, in words an administrator can act on (the server's own answer included).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ImapError(pub String);

/// The poller records what went wrong as text on the mailbox; this lets `?` say it.
impl From<ImapError> for String {
    fn from(e: ImapError) -> Self {
        e.0
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Stream for T {}
type Connection = Box<dyn Stream>;

/// The TLS settings: the public web roots, plus the certificates of `ca_file` (PEM) for servers
/// signed by a company's own authority.
///
/// # Errors
/// When `ca_file` cannot be read or holds no certificate.
pub fn tls_config(ca_file: Option<&str>) -> anyhow::Result<Arc<ClientConfig>> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut roots = RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let mut added = 0;
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| anyhow::anyhow!("cannot read {path}: {e}"))? {
            roots.add(cert.map_err(|e| anyhow::anyhow!("{path}: {e}"))?)?;
            added += 1;
        }
        anyhow::ensure!(added > 0, "{path} holds no certificate");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}

async fn step<T, E: std::fmt::Display>(
    what: &str,
    future: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(STEP, future).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(ImapError(format!("{what}: {e}"))),
        Err(_) => Err(ImapError(format!("{what}: no answer within {} seconds", STEP.as_secs()))),
    }
}

/// The human part of a NO/BAD answer ("Authentication failed."), out of async-imap's error.
fn server_text(err: &async_imap::error::Error) -> String {
    use async_imap::error::Error as E;
    match err {
        E::No(s) | E::Bad(s) => s
            .split_once("info: Some(\"")
            .and_then(|(_, rest)| rest.rsplit_once("\")"))
            .map_or_else(|| s.clone(), |(text, _)| text.replace("\\\"", "\"").replace("\\\\", "\\")),
        other => other.to_string(),
    }
}

/// Reads the greeting ("* OK Dovecot ready.").
async fn greeting(client: &mut Client<Connection>) -> Result<String, ImapError> {
    use async_imap::imap_proto::{Response, Status};
    let response = step("reading the greeting", client.read_response())
        .await?
        .ok_or_else(|| ImapError("the server closed the connection without a greeting".into()))?;
    match response.parsed() {
        Response::Data { status: Status::Ok, outcome, .. } => {
            Ok(outcome.information.as_deref().unwrap_or("").to_owned())
        }
        other => Err(ImapError(format!("the server refused the connection: {other:?}"))),
    }
}

async fn tls<S: Stream + 'static>(stream: S, host: &str, config: &Arc<ClientConfig>) -> Result<Connection, ImapError> {
    let name = ServerName::try_from(host.to_owned()).map_err(|e| ImapError(format!("{host}: {e}")))?;
    let tls = step("TLS handshake", TlsConnector::from(config.clone()).connect(name, stream)).await?;
    Ok(Box::new(tls))
}

/// Connects and reads the greeting; returns the client and the greeting text.
async fn connect(account: &ImapAccount, config: &Arc<ClientConfig>) -> Result<(Client<Connection>, String), ImapError> {
    let tcp = step("connecting", TcpStream::connect((account.host.as_str(), account.port))).await?;
    match account.security {
        ImapSecurity::Tls => {
            let mut client = Client::new(tls(tcp, &account.host, config).await?);
            let hello = greeting(&mut client).await?;
            Ok((client, hello))
        }
        ImapSecurity::None => {
            let mut client = Client::new(Box::new(tcp) as Connection);
            let hello = greeting(&mut client).await?;
            Ok((client, hello))
        }
        ImapSecurity::StartTls => {
            let mut client = Client::new(Box::new(tcp) as Connection);
            let hello = greeting(&mut client).await?;
            step("STARTTLS", client.run_command_and_check_ok("STARTTLS", None)).await?;
            let upgraded = tls(client.into_inner(), &account.host, config).await?;
            Ok((Client::new(upgraded), hello))
        }
    }
}

/// A logged-in session with the account's folder selected.
pub struct Folder {
    session: Session<Connection>,
    /// Messages in the folder when it was opened.
    pub exists: u32,
    /// The folder's UIDVALIDITY: while it stays the same, a UID names the same message.
    pub uid_validity: Option<u32>,
    /// The UID the next message to arrive will get.
    pub uid_next: Option<u32>,
}

impl Folder {
    /// Connects, logs in and selects the folder.
    ///
    /// # Errors
    /// The step that failed, with the server's answer.
    pub async fn open(account: &ImapAccount, config: &Arc<ClientConfig>) -> Result<(Self, String), ImapError> {
        let (client, hello) = connect(account, config).await?;
        let login = tokio::time::timeout(STEP, client.login(&account.user, &account.password)).await;
        let mut session = match login {
            Ok(Ok(session)) => session,
            Ok(Err((e, _))) => return Err(ImapError(format!("login refused: {}", server_text(&e)))),
            Err(_) => return Err(ImapError("login: no answer within 30 seconds".into())),
        };
        let selected = tokio::time::timeout(STEP, session.select(&account.folder)).await;
        let mailbox = match selected {
            Ok(Ok(mailbox)) => mailbox,
            Ok(Err(e)) => return Err(ImapError(format!("folder {:?}: {}", account.folder, server_text(&e)))),
            Err(_) => return Err(ImapError("selecting the folder: no answer within 30 seconds".into())),
        };
        Ok((
            Self { session, exists: mailbox.exists, uid_validity: mailbox.uid_validity, uid_next: mailbox.uid_next },
            hello,
        ))
    }

    /// The UIDs of unread messages, oldest first, at most `max`.
    ///
    /// # Errors
    /// The server's answer.
    pub async fn unseen(&mut self, max: usize) -> Result<Vec<u32>, ImapError> {
        let found = step("searching unread messages", self.session.uid_search("UNSEEN")).await?;
        let mut uids: Vec<u32> = found.into_iter().collect();
        uids.sort_unstable();
        uids.truncate(max);
        Ok(uids)
    }

    /// The UIDs after `last`, read or not, oldest first, at most `max`.
    ///
    /// # Errors
    /// The server's answer.
    pub async fn after(&mut self, last: u32, max: usize) -> Result<Vec<u32>, ImapError> {
        let Some(first) = last.checked_add(1) else { return Ok(Vec::new()) };
        let found = step("searching new messages", self.session.uid_search(format!("UID {first}:*"))).await?;
        // `n:*` always matches the newest message, even when its UID is below n (RFC 3501).
        let mut uids: Vec<u32> = found.into_iter().filter(|uid| *uid > last).collect();
        uids.sort_unstable();
        uids.truncate(max);
        Ok(uids)
    }

    /// The highest UID in the folder when it was opened (0 when it is empty).
    ///
    /// # Errors
    /// The server's answer, when it did not say UIDNEXT at SELECT.
    pub async fn highest_uid(&mut self) -> Result<u32, ImapError> {
        if let Some(next) = self.uid_next {
            return Ok(next.saturating_sub(1));
        }
        let all = step("searching all messages", self.session.uid_search("ALL")).await?;
        Ok(all.into_iter().max().unwrap_or(0))
    }

    /// The raw bytes of the messages `uids`, without marking them read (a message the server
    /// sends no content for is missing from the map).
    ///
    /// # Errors
    /// The server's answer.
    pub async fn fetch(&mut self, uids: &[u32]) -> Result<HashMap<u32, Vec<u8>>, ImapError> {
        if uids.is_empty() {
            return Ok(HashMap::new());
        }
        let fetches = self.uid_fetch("fetching messages", uid_set(uids), "(UID BODY.PEEK[])").await?;
        Ok(fetches.iter().filter_map(|f| Some((f.uid?, f.body()?.to_vec()))).collect())
    }

    /// The sizes of the messages `uids` in bytes, as the server counts them.
    ///
    /// # Errors
    /// The server's answer.
    pub async fn sizes(&mut self, uids: &[u32]) -> Result<HashMap<u32, u32>, ImapError> {
        if uids.is_empty() {
            return Ok(HashMap::new());
        }
        let fetches = self.uid_fetch("reading the messages' sizes", uid_set(uids), "(UID RFC822.SIZE)").await?;
        Ok(fetches.iter().filter_map(|f| Some((f.uid?, f.size?))).collect())
    }

    /// The header of message `uid`, without marking it read.
    ///
    /// # Errors
    /// The server's answer.
    pub async fn headers(&mut self, uid: u32) -> Result<Option<Vec<u8>>, ImapError> {
        let fetches = self.uid_fetch("fetching a message's header", uid.to_string(), "(UID BODY.PEEK[HEADER])").await?;
        Ok(fetches.iter().find(|f| f.uid == Some(uid)).and_then(|f| f.header().map(<[u8]>::to_vec)))
    }

    /// `UID FETCH uids items`, all of the answer; `what` names the step in errors.
    async fn uid_fetch(
        &mut self,
        what: &str,
        uids: String,
        items: &str,
    ) -> Result<Vec<async_imap::types::Fetch>, ImapError> {
        step(what, async { self.session.uid_fetch(uids, items).await?.try_collect().await }).await
    }

    /// Marks the messages `uids` read, for the people who look at the folder.
    ///
    /// # Errors
    /// The server's answer.
    pub async fn mark_seen(&mut self, uids: &[u32]) -> Result<(), ImapError> {
        if uids.is_empty() {
            return Ok(());
        }
        let _: Vec<async_imap::types::Fetch> = step("marking messages read", async {
            self.session.uid_store(uid_set(uids), "+FLAGS.SILENT (\\Seen)").await?.try_collect().await
        })
        .await?;
        Ok(())
    }

    /// Adds a message to the folder with `flags` such as `(\\Seen)` (tests and tools;
    /// Frontdesk itself only reads).
    ///
    /// # Errors
    /// The server's answer.
    pub async fn append(&mut self, folder: &str, flags: Option<&str>, raw: &[u8]) -> Result<(), ImapError> {
        step("appending a message", self.session.append(folder, flags, None, raw)).await
    }

    /// Logs out politely; errors do not matter any more at this point.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.session.logout()).await;
    }
}

/// `1,2,5` for a UID command.
fn uid_set(uids: &[u32]) -> String {
    uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// The "Test connection" button: connects and logs in as the poller would, and reports what
/// the server said, good or bad.
///
/// # Errors
/// The failing step with the server's answer.
pub async fn test_connection(account: &ImapAccount, config: &Arc<ClientConfig>) -> Result<String, ImapError> {
    let (mut folder, hello) = Folder::open(account, config).await?;
    let unseen = folder.unseen(usize::MAX).await?.len();
    let exists = folder.exists;
    folder.close().await;
    Ok(format!(
        "Connected to {}:{} (the server said: {}). Logged in as {}; the folder {} holds {exists} messages, {unseen} of them unread.",
        account.host,
        account.port,
        if hello.is_empty() { "OK" } else { hello.as_str() },
        account.user,
        account.folder
    ))
}
