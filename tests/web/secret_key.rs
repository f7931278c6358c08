//! The generated secret key (cookie signing, sealed IMAP passwords) is kept out of the
//! database it protects when there is a file to keep it in: beside a SQLite database.

use std::path::Path;

use frontdesk::entities::setting;
use frontdesk::secrets::Sealer;
use sea_orm::{ActiveValue::Set, EntityTrait};

use crate::helpers::{spawn_app, TestApp};

/// The key in the key file beside a SQLite database.
fn key_in_file(path: &Path) -> String {
    std::fs::read_to_string(path).expect("key file").trim().to_owned()
}

/// The key in the `settings` table, if any.
async fn key_in_database(app: &TestApp) -> Option<String> {
    setting::Entity::find_by_id("secret_key").one(&app.state.db.conn).await.expect("q").map(|row| row.value)
}

#[tokio::test]
async fn the_generated_key_lives_in_a_private_file_beside_a_sqlite_database_and_in_postgresql_otherwise() {
    let app = spawn_app().await;
    let sealed = app.state.sealer.seal("imap password");
    let key = match app.state.settings.secret_key_file() {
        Some(path) => {
            assert_eq!(key_in_database(&app).await, None, "a copy of the database must not hold the key");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&path).expect("key file").permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "only the owner reads the key file");
            }
            key_in_file(&path)
        }
        None => key_in_database(&app).await.expect("on PostgreSQL the key is kept in the database"),
    };
    assert!(key.len() >= 32, "{key}");
    assert_eq!(Sealer::new(&key).open(&sealed).ok().as_deref(), Some("imap password"));
}

#[tokio::test]
async fn a_key_kept_in_the_database_by_an_earlier_version_moves_to_the_file_and_still_opens_everything() {
    let app = spawn_app().await;
    app.set_up_admin().await;
    let sealed = app.state.sealer.seal("imap password");
    let file = app.state.settings.secret_key_file();
    if let Some(path) = &file {
        // As an install from before the key file: the key in the settings table, no file.
        let key = key_in_file(path);
        std::fs::remove_file(path).expect("remove key file");
        let row = setting::ActiveModel { key: Set("secret_key".into()), value: Set(key) };
        setting::Entity::insert(row).exec(&app.state.db.conn).await.expect("insert key");
    }

    let restarted = app.second_instance().await;
    assert_eq!(restarted.get("/agent/contacts").await.status, 200, "the session cookie is still good");
    assert_eq!(restarted.state.sealer.open(&sealed).ok().as_deref(), Some("imap password"));
    match &file {
        Some(path) => {
            assert!(path.exists(), "the key is back in its file");
            assert_eq!(key_in_database(&restarted).await, None, "and no longer in the database");
        }
        None => assert!(key_in_database(&restarted).await.is_some()),
    }
}
