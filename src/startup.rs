//! Building the application: connect and migrate, bind the listener (port 0 in tests), install
//! middleware, and the whole route table in one place.

use crate::services::deliveries::Sender as _;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_session::SessionMiddleware;
use actix_web::cookie::{time, Key, SameSite};
use actix_web::dev::Server;
use actix_web::{middleware, web, App, HttpServer};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::auth::session_cache::{self, SessionCache};
use crate::auth::DbSessionStore;
use crate::channels::email::pipe::listener::BoundSocket;
use crate::channels::email::Mailer;
use crate::config::Settings;
use crate::db::Db;
use crate::domain::PhoneParser;
use crate::routes;
use crate::services::{agents, profiles, settings};

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub settings: Settings,
    pub phones: PhoneParser,
    pub mailer: Mailer,
    /// The public URL links in emails start with (FRONTDESK_BASE_URL, or the address bound).
    pub public_url: String,
    /// The Help Center's name and colours, read at most every few seconds.
    pub branding: crate::services::branding::BrandingCache,
    /// Opens tickets in batches (group commit).
    pub tickets: crate::services::tickets::TicketWriter,
    /// Stores inbound WhatsApp messages in batches (group commit).
    pub whatsapp_inbound: crate::channels::whatsapp::inbound::Writer,
    /// Seals and opens stored secrets (IMAP passwords).
    pub sealer: crate::secrets::Sealer,
    /// Calls the WhatsApp Cloud API (`FRONTDESK_WHATSAPP_API_URL`).
    pub whatsapp: crate::channels::whatsapp::api::Api,
    /// Polls the support mailboxes.
    pub poller: crate::channels::email::poll::Poller,
    /// Loaded sessions (PostgreSQL only; see [`session_cache`]).
    pub sessions: Arc<SessionCache>,
    setup_done: AtomicBool,
}

impl AppState {
    /// Whether no agent exists yet, so the console leads to `/setup`. Once an agent exists the
    /// answer is remembered, and no query is made again.
    ///
    /// # Errors
    /// Database errors.
    pub async fn needs_setup(&self) -> Result<bool, sea_orm::DbErr> {
        if self.setup_done.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let done = agents::count(&self.db.conn).await? > 0;
        if done {
            self.setup_done.store(true, Ordering::Relaxed);
        }
        Ok(!done)
    }
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    /// Where `ingest-mail` hands this instance messages, when it has the socket.
    mail_socket: Option<BoundSocket>,
}

impl Application {
    /// Connects to the database, applies migrations, makes sure the built-in profiles exist,
    /// and binds the listener.
    ///
    /// # Errors
    /// A bad setting, an unreachable database, a port in use.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let phones = PhoneParser::new(&settings.default_region).map_err(anyhow::Error::msg)?;
        let mailer = Mailer::from_settings(&settings)?;
        let db = Db::connect(&settings.database_url(), settings.db_pool)
            .await
            .with_context(|| "cannot open the database (DATABASE_URL)".to_owned())?;
        profiles::ensure_built_in(&db.conn).await?;
        let secret = settings::secret_key(&db.conn, &settings).await?;
        if secret.len() < 32 {
            anyhow::bail!("FRONTDESK_SECRET_KEY must be at least 32 characters long");
        }
        let key = Key::derive_from(secret.as_bytes());
        let listener =
            TcpListener::bind(&settings.listen).with_context(|| format!("cannot listen on {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let public_url = settings
            .base_url
            .clone()
            .unwrap_or_else(|| {
                format!("http://{}", listener.local_addr().map_or(settings.listen.clone(), |a| a.to_string()))
            })
            .trim_end_matches('/')
            .to_owned();
        let secure_cookies = settings.base_url.as_deref().is_some_and(|u| u.starts_with("https://"));
        let session_ttl = time::Duration::hours(i64::from(settings.session_hours));
        let tickets = crate::services::tickets::TicketWriter::start(db.clone());
        let whatsapp_inbound =
            crate::channels::whatsapp::inbound::Writer::start(db.clone(), settings.whatsapp_reopen_days);
        let sealer = crate::secrets::Sealer::new(&secret);
        let poller = crate::channels::email::poll::Poller {
            sealer: sealer.clone(),
            tls: crate::channels::email::imap::tls_config(settings.imap_ca_file.as_deref())?,
            holder: crate::auth::random_token(12),
        };
        let whatsapp = crate::channels::whatsapp::api::Api::new(&settings.whatsapp_api_url)
            .context("cannot set up the WhatsApp API client")?;
        let state = web::Data::new(AppState {
            db,
            whatsapp,
            settings,
            phones,
            mailer,
            public_url,
            branding: crate::services::branding::BrandingCache::default(),
            tickets,
            whatsapp_inbound,
            sealer,
            poller,
            sessions: Arc::default(),
            setup_done: AtomicBool::new(false),
        });
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            let store = DbSessionStore::cached(app_state.db.conn.clone(), app_state.sessions.clone());
            let sessions = |name: &str, path: &str| {
                SessionMiddleware::builder(store.clone(), key.clone())
                    .cookie_name(name.into())
                    .cookie_path(path.into())
                    .cookie_http_only(true)
                    .cookie_same_site(SameSite::Lax)
                    .cookie_secure(secure_cookies)
                    .cookie_content_security(CookieContentSecurity::Private)
                    .session_lifecycle(BrowserSession::default().state_ttl(session_ttl))
                    .build()
            };
            App::new()
                .app_data(app_state.clone())
                .app_data(web::PayloadConfig::new(256 * 1024))
                .wrap(middleware::DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "same-origin"))
                    .add(("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")))
                .wrap(middleware::Compress::default())
                .wrap(middleware::from_fn(session_cache::drop_after_writes))
                .wrap(TracingLogger::default())
                // Called by other systems (Meta), which carry no session: before the console's
                // scope, which would otherwise take every path.
                .service(web::scope("/webhooks").configure(routes::webhooks::configure))
                // The Help Center has its own cookie, scoped to /help: an agent's login never
                // opens it as a contact, and a contact's never opens the console.
                .service(
                    web::scope("/help")
                        .wrap(sessions("frontdesk_help", "/help"))
                        .configure(routes::help_center::configure),
                )
                .service(web::scope("").wrap(sessions("frontdesk_session", "/")).configure(routes::configure))
        })
        .listen(listener)?
        .shutdown_timeout(10)
        .run();
        // Bound here, so that once the instance is built `ingest-mail` finds it; connections
        // wait in the socket's backlog until `run` serves them.
        let settings = &state.settings;
        let mail_socket = match settings.mail_socket_path() {
            Some(path) => {
                let pipe_users = settings
                    .mail_pipe_users
                    .iter()
                    .filter(|user| !user.trim().is_empty())
                    .map(|user| crate::file_trust::user_id(user))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| anyhow::anyhow!("FRONTDESK_MAIL_PIPE_USERS: {e}"))?;
                BoundSocket::bind(&path, settings.sqlite_file().as_deref(), &pipe_users).with_context(|| {
                    format!(
                        "cannot take piped mail on the mail socket {} (FRONTDESK_MAIL_SOCKET, `off` for none)",
                        path.display()
                    )
                })?
            }
            None => None,
        };
        Ok(Self { port, server, state, mail_socket })
    }

    /// The port actually bound (useful with port 0).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state, for tests that look into the database.
    #[must_use]
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until the process is told to stop (SIGINT/SIGTERM: in-flight requests finish),
    /// running housekeeping in the background.
    ///
    /// # Errors
    /// I/O errors of the server.
    pub async fn run(self) -> std::io::Result<()> {
        tracing::info!(port = self.port, "serving");
        let housekeeping = tokio::spawn(housekeeping(self.state.clone()));
        let outbox = tokio::spawn(outbox_worker(self.state.clone()));
        let checkpointer = tokio::spawn(checkpointer(self.state.clone()));
        let mail_poller = tokio::spawn(mail_poller(self.state.clone()));
        let whatsapp_media = tokio::spawn(whatsapp_media(self.state.clone()));
        let imports = tokio::spawn(imports(self.state.clone()));
        let sessions = tokio::spawn(session_cache::listen(self.state.db.conn.clone(), self.state.sessions.clone()));
        let piped = self.mail_socket.and_then(|bound| bound.serve(self.state.clone()));
        let result = self.server.await;
        if let Some(piped) = piped {
            piped.close().await;
        }
        sessions.abort();
        housekeeping.abort();
        outbox.abort();
        checkpointer.abort();
        mail_poller.abort();
        whatsapp_media.abort();
        imports.abort();
        result
    }
}

/// Sends queued mail every few seconds. Safe on every instance at once: rows are claimed
/// before they are sent.
async fn outbox_worker(state: web::Data<AppState>) {
    if !state.mailer.configured() {
        tracing::warn!("no SMTP server configured (FRONTDESK_SMTP_URL): mail stays queued in the outbox");
    }
    let period = Duration::from_secs(state.settings.outbox_interval.max(1));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let whatsapp = crate::channels::whatsapp::sender::WhatsAppSender {
        db: &state.db,
        api: &state.whatsapp,
        sealer: &state.sealer,
    };
    loop {
        tick.tick().await;
        if let Err(e) = crate::services::deliveries::send_due(&state.db, &state.mailer, chrono::Utc::now()).await {
            tracing::warn!(error = %e, "outbox round failed");
        }
        if let Err(e) = crate::services::deliveries::send_due(&state.db, &whatsapp, chrono::Utc::now()).await {
            tracing::warn!(error = %e, "WhatsApp outbox round failed");
        }
    }
}

impl AppState {
    /// What ingesting a mail needs from this instance.
    ///
    /// # Errors
    /// Database errors (reading the company name).
    pub async fn ingest_context(&self) -> Result<crate::channels::email::ingest::IngestContext, sea_orm::DbErr> {
        let company = self.branding.get(&self.db.conn).await?.company_name;
        Ok(crate::channels::email::ingest::IngestContext::new(&self.settings, &self.mailer, &self.public_url, company))
    }

    /// What taking WhatsApp events in needs from this instance.
    #[must_use]
    pub fn whatsapp_context(&self) -> crate::channels::whatsapp::webhook::Context<'_> {
        crate::channels::whatsapp::webhook::Context {
            db: &self.db,
            sealer: &self.sealer,
            api: &self.whatsapp,
            writer: &self.whatsapp_inbound,
        }
    }
}

/// Polls the support mailboxes that are due, every few seconds. Safe on every instance at
/// once: a mailbox is leased before it is polled.
async fn mail_poller(state: web::Data<AppState>) {
    let period = Duration::from_secs(state.settings.mail_poll_interval.max(1));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let round = async {
            let ctx = state.ingest_context().await?;
            state.poller.run_due(&state.db, &ctx, chrono::Utc::now()).await
        };
        if let Err(e) = round.await {
            tracing::warn!(error = %e, "mail poller round failed");
        }
    }
}

/// Fetches the files of inbound WhatsApp messages, as often as the outbox is sent. Safe on
/// every instance at once: a file is claimed before it is fetched.
async fn whatsapp_media(state: web::Data<AppState>) {
    let period = Duration::from_secs(state.settings.outbox_interval.max(1));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let fetcher = crate::channels::whatsapp::media::Fetcher {
        db: &state.db,
        api: &state.whatsapp,
        sealer: &state.sealer,
        max_bytes: state.settings.max_attachment_mb as usize * 1024 * 1024,
    };
    loop {
        tick.tick().await;
        if let Err(e) = crate::channels::whatsapp::media::fetch_due(fetcher, chrono::Utc::now()).await {
            tracing::warn!(error = %e, "fetching WhatsApp media failed");
        }
    }
}

/// Runs contact imports and their test runs. Safe on every instance at once: an import is
/// leased before it runs.
async fn imports(state: web::Data<AppState>) {
    if !state.settings.run_imports {
        return;
    }
    let lease = Duration::from_secs(u64::from(state.settings.import_lease_seconds.max(1)));
    crate::services::contacts::import::runner::work(&state.db, &state.phones, lease).await;
}

/// Checkpoints SQLite's write-ahead log every second, off the request path.
async fn checkpointer(state: web::Data<AppState>) {
    if state.db.backend() != sea_orm::DbBackend::Sqlite {
        return;
    }
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = state.db.checkpoint().await {
            tracing::warn!(error = %e, "checkpointing the write-ahead log failed");
        }
    }
}

/// Periodic clean-up, every ten minutes.
async fn housekeeping(state: web::Data<AppState>) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        housekeeping_round(&state, chrono::Utc::now()).await;
    }
}

/// One round of clean-up as of `now` (the first at start-up), safe to run on every instance at
/// once: each step is an idempotent delete or fill. Failures are logged, and the other steps
/// still run.
pub async fn housekeeping_round(state: &AppState, now: chrono::DateTime<chrono::Utc>) {
    let conn = &state.db.conn;
    if let Err(e) = crate::auth::session_store::purge_expired(conn).await {
        tracing::warn!(error = %e, "purging expired sessions failed");
    }
    if let Err(e) = state.db.optimize().await {
        tracing::warn!(error = %e, "refreshing planner statistics failed");
    }
    if let Err(e) = crate::services::contacts::fragments::merge_step(&state.db).await {
        tracing::warn!(error = %e, "merging the contact fragment index failed");
    }
    if let Err(e) = crate::services::throttle::purge_old_failures(conn, now).await {
        tracing::warn!(error = %e, "purging old login failures failed");
    }
    if let Err(e) = crate::services::help_center::purge_expired(&state.db, now).await {
        tracing::warn!(error = %e, "purging expired Help Center links failed");
    }
    let retention = chrono::Duration::days(i64::from(state.settings.recycle_bin_retention_days));
    match crate::services::recycle_bin::purge_older_than(&state.db, now - retention).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(purged = n, "recycle bin retention"),
        Err(e) => tracing::warn!(error = %e, "recycle bin retention failed"),
    }
    match crate::services::articles::fill_missing_html(&state.db).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(articles = n, "made the HTML of articles that had none"),
        Err(e) => tracing::warn!(error = %e, "making the HTML of articles failed"),
    }
    let retention = chrono::Duration::days(i64::from(state.settings.quarantine_retention_days));
    match crate::channels::email::ingest::quarantine::purge_older_than(&state.db, now - retention).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(purged = n, "quarantine retention"),
        Err(e) => tracing::warn!(error = %e, "quarantine retention failed"),
    }
}
