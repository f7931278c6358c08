//! Several instances on one database.

use frontdesk::db::Db;
use migration::MigratorTrait;

use crate::helpers::fresh_database;

#[tokio::test]
async fn three_instances_started_at_once_on_a_new_database_all_start() {
    // On PostgreSQL the migrations of one are a lock the others wait for; before it, two
    // created the same tables at once and all but one failed to start. (A SQLite file serves one
    // instance, and `ingest-mail` never creates one: there is no race to have.)
    let (url, file) = fresh_database().await;
    if file.is_some() {
        return;
    }
    let starts = (0..3).map(|_| Db::connect(&url, 2));
    let started = futures_util::future::join_all(starts).await;
    for db in &started {
        assert!(db.is_ok(), "{:?}", db.as_ref().err());
    }
    let db = started.into_iter().next().expect("one").expect("started");
    let pending = migration::Migrator::get_pending_migrations(&db.conn).await.expect("read migrations");
    assert!(pending.is_empty(), "{} migrations left", pending.len());
}
