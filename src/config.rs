//! Settings: every one is a flag and an environment variable, with defaults in code so that
//! `frontdesk` with no arguments serves on a SQLite file in the working directory.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "frontdesk", version, about = "An open-source help desk")]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to run; `serve` when none is given.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP (the default).
    Serve,
    /// Fill the database with demo or benchmark data.
    Seed(SeedArgs),
    /// Read one RFC 5322 message from standard input and store it (a mail server's pipe
    /// transport). Exit status 0 when stored (or quarantined, or already there), 75 when the
    /// database is unavailable so the mail server tries again later.
    IngestMail,
}

/// How much demo data `frontdesk seed` makes.
#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// Number of contacts.
    #[arg(long, default_value_t = 1_000)]
    pub contacts: u64,
    /// Number of accounts.
    #[arg(long, default_value_t = 50)]
    pub accounts: u64,
    /// Number of tickets.
    #[arg(long, default_value_t = 3_000)]
    pub tickets: u64,
    /// Published knowledge-base articles.
    #[arg(long, default_value_t = 200)]
    pub articles: u64,
    /// Email of an administrator to create (password `password123`) if no agent exists yet.
    #[arg(long, default_value = "admin@example.com")]
    pub admin_email: String,
}

/// Settings shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`.
    #[arg(long, global = true, env = "DATABASE_URL", default_value = "sqlite://frontdesk.db")]
    pub database_url: String,
    /// Address and port to serve on.
    #[arg(long, global = true, env = "FRONTDESK_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The public URL, used for links in emails [default: http:// + the listen address].
    #[arg(long, global = true, env = "FRONTDESK_BASE_URL")]
    pub base_url: Option<String>,
    /// Key for signing cookies and encrypting stored secrets, at least 32 characters
    /// [default: generated on first run and kept beside a SQLite database file,
    /// `<file>-secret.key`; on PostgreSQL, in the database].
    #[arg(long, global = true, env = "FRONTDESK_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Outbound mail server in lettre's URL form (smtp://host:port) [default: none, mail stays
    /// queued].
    #[arg(long, global = true, env = "FRONTDESK_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The From address of outgoing mail [default: support@ + the base URL's host].
    #[arg(long, global = true, env = "FRONTDESK_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// Region used to read phone numbers typed without a country code (ISO 3166 code).
    #[arg(long, global = true, env = "FRONTDESK_DEFAULT_REGION", default_value = "US")]
    pub default_region: String,
    /// Days a deleted item stays in the Recycle Bin before it is purged.
    #[arg(long, global = true, env = "FRONTDESK_RECYCLE_BIN_RETENTION_DAYS", default_value_t = 60)]
    pub recycle_bin_retention_days: u32,
    /// Days a mail stays in the quarantine (Settings → Channels → Email) before it is deleted.
    #[arg(long, global = true, env = "FRONTDESK_QUARANTINE_RETENTION_DAYS", default_value_t = 30)]
    pub quarantine_retention_days: u32,
    /// Hours a console session lasts without activity.
    #[arg(long, global = true, env = "FRONTDESK_SESSION_HOURS", default_value_t = 12)]
    pub session_hours: u32,
    /// Maximum database connections per instance.
    #[arg(long, global = true, env = "FRONTDESK_DB_POOL", default_value_t = 16)]
    pub db_pool: u32,
    /// Seconds between two rounds of the outbox worker.
    #[arg(long, global = true, env = "FRONTDESK_OUTBOX_INTERVAL", default_value_t = 5)]
    pub outbox_interval: u64,
    /// Behind a load balancer: take the client address from its `Forwarded` / `X-Forwarded-For`
    /// header (for login throttling). Only set this when every request comes through it.
    #[arg(long, global = true, env = "FRONTDESK_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// Longest a console or Help Center login waits before its password is checked, in
    /// milliseconds, when its account failed more than 5 times in 15 minutes from anywhere (the
    /// wait starts at 250 ms and doubles with each further failure); 0 for no wait.
    #[arg(long, global = true, env = "FRONTDESK_LOGIN_BACKOFF_MAX_MS", default_value_t = 4000)]
    pub login_backoff_max_ms: u64,
    /// Seconds between two rounds of the IMAP poller (each mailbox also has its own interval).
    #[arg(long, global = true, env = "FRONTDESK_MAIL_POLL_INTERVAL", default_value_t = 5)]
    pub mail_poll_interval: u64,
    /// Extra certificate authorities (PEM) to trust for IMAP servers, besides the public ones.
    #[arg(long, global = true, env = "FRONTDESK_IMAP_CA_FILE")]
    pub imap_ca_file: Option<String>,
    /// Largest inbound mail accepted, in megabytes; a larger one is quarantined.
    #[arg(long, global = true, env = "FRONTDESK_MAX_MAIL_MB", default_value_t = 25)]
    pub max_mail_mb: u32,
    /// Largest attachment accepted, in megabytes; a mail with a larger one is quarantined.
    #[arg(long, global = true, env = "FRONTDESK_MAX_ATTACHMENT_MB", default_value_t = 10)]
    pub max_attachment_mb: u32,
    /// Most acknowledgements sent to one address in an hour (a brake on mail loops).
    #[arg(long, global = true, env = "FRONTDESK_ACKS_PER_HOUR", default_value_t = 5)]
    pub acks_per_hour: u32,
    /// Email of the agent who owns contacts created from inbound mail [default: no owner].
    #[arg(long, global = true, env = "FRONTDESK_EMAIL_CONTACT_OWNER")]
    pub email_contact_owner: Option<String>,
    /// Unix socket on which a running instance takes mail from `frontdesk ingest-mail`, so that
    /// each piped message costs no database connection of its own [default: beside a SQLite
    /// database file, `<file>-mail.sock`; none on PostgreSQL]; `off` for none.
    #[arg(long, global = true, env = "FRONTDESK_MAIL_SOCKET")]
    pub mail_socket: Option<String>,
    /// Users who may hand mail to the instance over its mail socket besides its own user and
    /// root (the mail server's pipe user), as names or uids separated by commas [default: none].
    #[arg(long, global = true, env = "FRONTDESK_MAIL_PIPE_USERS", value_delimiter = ',')]
    pub mail_pipe_users: Vec<String>,
    /// Where the WhatsApp Cloud API (Meta's Graph API) is reached; tests and proxies point it
    /// elsewhere.
    #[arg(long, global = true, env = "FRONTDESK_WHATSAPP_API_URL", default_value = "https://graph.facebook.com")]
    pub whatsapp_api_url: String,
    /// Days after which a WhatsApp message to a closed ticket opens a new ticket instead of
    /// reopening it.
    #[arg(long, global = true, env = "FRONTDESK_WHATSAPP_REOPEN_DAYS", default_value_t = 7)]
    pub whatsapp_reopen_days: u32,
    /// Largest file Import Contacts takes, in megabytes.
    #[arg(long, global = true, env = "FRONTDESK_MAX_IMPORT_MB", default_value_t = 50)]
    pub max_import_mb: u32,
    /// Seconds an instance running an import holds it without a sign of life; after that
    /// (the instance stopped, or was killed) another instance, or this one restarted, resumes it.
    #[arg(long, global = true, env = "FRONTDESK_IMPORT_LEASE_SECONDS", default_value_t = 30)]
    pub import_lease_seconds: u32,
    /// Whether this instance runs contact imports (`false` for an instance that only serves
    /// pages; another instance on the same database then runs them).
    #[arg(long, global = true, env = "FRONTDESK_RUN_IMPORTS", default_value_t = true, action = clap::ArgAction::Set)]
    pub run_imports: bool,
    /// Log filter (tracing's EnvFilter syntax; RUST_LOG wins when set).
    #[arg(long, global = true, env = "FRONTDESK_LOG", default_value = "info")]
    pub log: String,
}

impl Settings {
    /// The settings `frontdesk` uses with no flags and no environment.
    #[must_use]
    pub fn defaults() -> Self {
        Self {
            database_url: "sqlite://frontdesk.db".into(),
            listen: "127.0.0.1:8080".into(),
            base_url: None,
            secret_key: None,
            smtp_url: None,
            mail_from: None,
            default_region: "US".into(),
            recycle_bin_retention_days: 60,
            quarantine_retention_days: 30,
            session_hours: 12,
            db_pool: 16,
            trust_proxy: false,
            login_backoff_max_ms: 4000,
            outbox_interval: 5,
            mail_poll_interval: 5,
            imap_ca_file: None,
            max_mail_mb: 25,
            max_attachment_mb: 10,
            acks_per_hour: 5,
            email_contact_owner: None,
            mail_socket: None,
            mail_pipe_users: Vec::new(),
            whatsapp_api_url: "https://graph.facebook.com".into(),
            whatsapp_reopen_days: 7,
            max_import_mb: 50,
            import_lease_seconds: 30,
            run_imports: true,
            log: "info".into(),
        }
    }

    /// The database URL, where a bare `sqlite:` with no path means the default file.
    #[must_use]
    pub fn database_url(&self) -> String {
        match self.database_url.as_str() {
            "sqlite:" | "sqlite://" => "sqlite://frontdesk.db".to_owned(),
            other => other.to_owned(),
        }
    }

    /// The SQLite database file, if the database is one (not PostgreSQL, not in memory).
    #[must_use]
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        sqlite_file(&self.database_url())
    }

    /// Where `ingest-mail` hands messages to a running instance, if anywhere.
    #[must_use]
    pub fn mail_socket_path(&self) -> Option<PathBuf> {
        match self.mail_socket.as_deref() {
            Some("off" | "") => None,
            Some(path) => Some(PathBuf::from(path)),
            None => self.beside_sqlite_file("-mail.sock"),
        }
    }

    /// Where the generated secret key is kept when none is configured: beside a SQLite
    /// database file, never in it (see `services::settings`).
    #[must_use]
    pub fn secret_key_file(&self) -> Option<PathBuf> {
        self.beside_sqlite_file("-secret.key")
    }

    fn beside_sqlite_file(&self, suffix: &str) -> Option<PathBuf> {
        self.sqlite_file().map(|file| {
            let mut path = file.into_os_string();
            path.push(suffix);
            PathBuf::from(path)
        })
    }
}

/// The file of the SQLite database at `url`, if it is one (not PostgreSQL, not in memory).
#[must_use]
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.split('&').any(|p| p == "mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_url(url: &str) -> Settings {
        Settings { database_url: url.into(), ..Settings::defaults() }
    }

    #[test]
    fn the_mail_socket_sits_beside_a_sqlite_file() {
        let socket = |url: &str| with_url(url).mail_socket_path().map(|p| p.display().to_string());
        assert_eq!(socket("sqlite://frontdesk.db").as_deref(), Some("frontdesk.db-mail.sock"));
        assert_eq!(socket("sqlite:").as_deref(), Some("frontdesk.db-mail.sock"));
        assert_eq!(socket("sqlite:///var/lib/fd/x.db?mode=rwc").as_deref(), Some("/var/lib/fd/x.db-mail.sock"));
        assert_eq!(socket("sqlite::memory:"), None);
        assert_eq!(socket("sqlite://x.db?mode=memory"), None);
        assert_eq!(socket("postgres://postgres@127.0.0.1/test"), None);
    }

    #[test]
    fn the_generated_secret_key_sits_beside_a_sqlite_file_never_in_memory() {
        let key = |url: &str| with_url(url).secret_key_file().map(|p| p.display().to_string());
        assert_eq!(key("sqlite:///var/lib/fd/x.db?mode=rwc").as_deref(), Some("/var/lib/fd/x.db-secret.key"));
        assert_eq!(key("sqlite::memory:"), None);
        assert_eq!(key("postgres://postgres@127.0.0.1/test"), None);
    }

    #[test]
    fn the_mail_pipe_users_are_a_list() {
        use clap::Parser;
        let cli = Cli::try_parse_from(["frontdesk", "--mail-pipe-users", "postfix,113", "ingest-mail"]).expect("parse");
        assert_eq!(cli.settings.mail_pipe_users, ["postfix", "113"]);
        assert!(Cli::try_parse_from(["frontdesk"]).expect("parse").settings.mail_pipe_users.is_empty());
    }

    #[test]
    fn the_mail_socket_can_be_named_or_turned_off() {
        let mut settings = with_url("postgres://postgres@127.0.0.1/test");
        settings.mail_socket = Some("/run/frontdesk/mail.sock".into());
        assert_eq!(settings.mail_socket_path(), Some(PathBuf::from("/run/frontdesk/mail.sock")));
        let mut settings = with_url("sqlite://frontdesk.db");
        settings.mail_socket = Some("off".into());
        assert_eq!(settings.mail_socket_path(), None);
    }
}
