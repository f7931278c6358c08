//! Loaded sessions kept in memory on PostgreSQL, so that a page costs its own queries and not
//! one more for the session.
//!
//! The database stays the truth: every update or deletion of a session, an agent, a profile or
//! a contact is announced on the `frontdesk_sessions` channel when its transaction commits (a
//! trigger, migration m0023), and every instance listens and drops its whole cache; a request
//! that may have written (any POST) drops its own instance's cache before it is answered, so
//! the client's next request never waits on the notification. A load that
//! began before a drop is not cached (the generation tells), so a cache never holds a state
//! older than the last change it was told of. While the listener is not connected the cache is
//! off; an entry is also reloaded after [`MAX_AGE`] whatever happens, which bounds how long a
//! notification lost in a silently broken connection could matter.
//!
//! SQLite has no such channel and a second process may write the same file, so there the cache
//! stays off and every request loads its session (a cheap local query there).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use chrono::{DateTime, Utc};
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::DatabaseConnection;

use crate::startup::AppState;

/// The channel the triggers notify.
pub const CHANNEL: &str = "frontdesk_sessions";

/// The longest a loaded session is served from memory.
pub const MAX_AGE: Duration = Duration::from_secs(15);

/// The most sessions kept; past it the cache starts over (the sessions in use come back at the
/// next request of each).
const CAPACITY: usize = 20_000;

/// The cache of one instance.
#[derive(Default)]
pub struct SessionCache {
    /// Whether changes are being heard; nothing is served or kept otherwise.
    live: AtomicBool,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Counts the drops: a load keeps its result only if none happened while it ran.
    generation: u64,
    entries: HashMap<String, Entry>,
}

struct Entry {
    state: HashMap<String, String>,
    expires_at: DateTime<Utc>,
    loaded: Instant,
}

/// The cache's generation when a load started, to hand back to [`SessionCache::keep`].
#[derive(Clone, Copy, Debug)]
pub struct LoadStamp(Option<u64>);

impl SessionCache {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The map is consistent after every statement; a panic elsewhere leaves nothing half done.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached state of the session row `id`, if it is fresh.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<HashMap<String, String>> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        let inner = self.inner();
        let entry = inner.entries.get(id)?;
        (entry.expires_at > Utc::now() && entry.loaded.elapsed() < MAX_AGE).then(|| entry.state.clone())
    }

    /// Call before loading from the database.
    #[must_use]
    pub fn before_load(&self) -> LoadStamp {
        LoadStamp(self.live.load(Ordering::Acquire).then(|| self.inner().generation))
    }

    /// Keeps what a load read, unless something changed since its [`before_load`](Self::before_load).
    pub fn keep(&self, stamp: LoadStamp, id: &str, state: &HashMap<String, String>, expires_at: DateTime<Utc>) {
        let LoadStamp(Some(generation)) = stamp else { return };
        let mut inner = self.inner();
        if inner.generation != generation || !self.live.load(Ordering::Acquire) {
            return;
        }
        if inner.entries.len() >= CAPACITY {
            inner.entries.clear();
        }
        inner.entries.insert(id.to_owned(), Entry { state: state.clone(), expires_at, loaded: Instant::now() });
    }

    /// Forgets everything, including what loads running now would keep.
    pub fn drop_all(&self) {
        let mut inner = self.inner();
        inner.generation += 1;
        inner.entries.clear();
    }

    fn set_live(&self, live: bool) {
        self.drop_all();
        self.live.store(live, Ordering::Release);
    }
}

/// Drops this instance's cache once a request that may have changed something (any method but
/// GET, HEAD and the like) is answered, session saved: the same client's next request, which
/// may come before the database's notification does, then loads afresh. Writes on other
/// instances arrive as notifications.
///
/// # Errors
/// Those of the wrapped service.
pub async fn drop_after_writes(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let cache = if req.method().is_safe() {
        None
    } else {
        req.app_data::<web::Data<AppState>>().map(|state| state.sessions.clone())
    };
    let response = next.call(req).await?;
    if let Some(cache) = cache {
        cache.drop_all();
    }
    Ok(response)
}

/// Listens for changes and drops the cache at each, for as long as the process runs; reconnects
/// after a lost connection (the cache is off meanwhile). Returns at once on SQLite.
pub async fn listen(conn: DatabaseConnection, cache: Arc<SessionCache>) {
    let DatabaseConnection::SqlxPostgresPoolConnection(_) = &conn else { return };
    let pool = conn.get_postgres_connection_pool();
    loop {
        match PgListener::connect_with(pool).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => {
                    cache.set_live(true);
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(_)) => cache.drop_all(),
                            // Reconnected: what was said meanwhile is lost.
                            Ok(None) => cache.drop_all(),
                            Err(e) => {
                                tracing::warn!(error = %e, "session change listener lost; sessions are not cached until it is back");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot listen for session changes"),
            },
            Err(e) => tracing::warn!(error = %e, "cannot connect the session change listener"),
        }
        cache.set_live(false);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(v: &str) -> HashMap<String, String> {
        HashMap::from([("k".to_owned(), v.to_owned())])
    }

    fn live() -> SessionCache {
        let cache = SessionCache::default();
        cache.set_live(true);
        cache
    }

    #[test]
    fn nothing_is_kept_or_served_while_changes_are_not_heard() {
        let cache = SessionCache::default();
        let stamp = cache.before_load();
        cache.keep(stamp, "a", &state("1"), Utc::now() + chrono::Duration::hours(1));
        cache.set_live(true);
        assert_eq!(cache.get("a"), None);
    }

    #[test]
    fn a_load_that_raced_a_change_is_not_kept() {
        let cache = live();
        let stamp = cache.before_load();
        cache.drop_all();
        cache.keep(stamp, "a", &state("old"), Utc::now() + chrono::Duration::hours(1));
        assert_eq!(cache.get("a"), None);
        let stamp = cache.before_load();
        cache.keep(stamp, "a", &state("new"), Utc::now() + chrono::Duration::hours(1));
        assert_eq!(cache.get("a"), Some(state("new")));
        cache.drop_all();
        assert_eq!(cache.get("a"), None);
    }

    #[test]
    fn an_expired_session_is_not_served() {
        let cache = live();
        let stamp = cache.before_load();
        cache.keep(stamp, "a", &state("1"), Utc::now() - chrono::Duration::seconds(1));
        assert_eq!(cache.get("a"), None);
    }
}
