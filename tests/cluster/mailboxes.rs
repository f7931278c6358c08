//! Support mailboxes on the test IMAP server (Dovecot, started by `.ci/imap-server`): mail
//! delivered into them as a mail server would, and what is left unread.

use frontdesk::channels::email::imap::{tls_config, Folder, ImapAccount};
use frontdesk::domain::mailbox::ImapSecurity;

/// The IMAP server of `FRONTDESK_TEST_IMAP`, or `None` (said loudly) when it is not set: then
/// the journey runs without the email channel.
pub fn server() -> Option<(String, u16)> {
    let Ok(address) = std::env::var("FRONTDESK_TEST_IMAP") else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "\n!!! FRONTDESK_TEST_IMAP is not set: the journey runs without IMAP mailboxes (.ci/run sets it). !!!\n"
        );
        return None;
    };
    let reachable = std::net::TcpStream::connect_timeout(
        &address.parse().expect("FRONTDESK_TEST_IMAP is host:port"),
        std::time::Duration::from_secs(2),
    )
    .is_ok();
    assert!(reachable, "FRONTDESK_TEST_IMAP={address} is set but no IMAP server answers there");
    let (host, port) = address.rsplit_once(':').expect("host:port");
    Some((host.to_owned(), port.parse().expect("port")))
}

/// A support address and the fresh mailbox behind it (Dovecot gives every user name its own).
pub struct Mailbox {
    pub address: String,
    pub account: ImapAccount,
}

impl Mailbox {
    pub fn new(address: &str, (host, port): &(String, u16)) -> Self {
        let account = ImapAccount {
            host: host.clone(),
            port: *port,
            security: ImapSecurity::None,
            user: format!("fdc-{}", uuid::Uuid::new_v4().simple()),
            password: "secret".into(),
            folder: "INBOX".into(),
        };
        Self { address: address.to_owned(), account }
    }

    /// The fields of Settings → Channels → Email → Add support address for this mailbox,
    /// polled every 10 seconds (the shortest allowed).
    pub fn form(&self) -> Vec<(&'static str, String)> {
        vec![
            ("address", self.address.clone()),
            ("imap_host", self.account.host.clone()),
            ("imap_port", self.account.port.to_string()),
            ("imap_security", self.account.security.key().to_owned()),
            ("imap_user", self.account.user.clone()),
            ("imap_password", self.account.password.clone()),
            ("folder", "INBOX".into()),
            ("poll_seconds", "10".into()),
            ("active", "on".into()),
            ("action", "save".into()),
        ]
    }

    /// Delivers the first mails of `n` new customers (`{tag}-{i}@example.net`), as a mail
    /// server would; their Message-IDs and senders.
    pub async fn deliver(&self, tag: &str, n: usize) -> Vec<(String, String)> {
        let (mut folder, _) = self.open().await;
        let mut delivered = Vec::new();
        for i in 0..n {
            let from = format!("{tag}-{i}@example.net");
            let id = format!("{tag}-{i}.{}@mail.example.net", uuid::Uuid::new_v4().simple());
            let raw = format!(
                "From: {from}\r\nTo: {}\r\nSubject: Question {tag}-{i}\r\nMessage-ID: <{id}>\r\n\
                 Date: Mon, 2 Jun 2025 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n",
                self.address
            );
            folder.append("INBOX", None, raw.as_bytes()).await.expect("append");
            delivered.push((id, from));
        }
        folder.close().await;
        delivered
    }

    /// How many messages nobody has read (Frontdesk marks what it stored as read).
    pub async fn unseen(&self) -> usize {
        let (mut folder, _) = self.open().await;
        let n = folder.unseen(usize::MAX).await.expect("search").len();
        folder.close().await;
        n
    }

    async fn open(&self) -> (Folder, String) {
        let tls = tls_config(None).expect("tls");
        Folder::open(&self.account, &tls).await.expect("open the test mailbox")
    }
}
