//! A SQLite database's files hold password hashes, sessions and customers' mail: only the
//! instance's user may read them, like the secret key file beside them.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::helpers::spawn_app;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

fn with_suffix(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

#[tokio::test]
async fn the_database_and_its_write_ahead_log_are_readable_by_the_instance_user_only() {
    let app = spawn_app().await;
    let Some(file) = app.state.settings.sqlite_file() else { return };
    app.set_up_admin().await;
    for path in [file.clone(), with_suffix(&file, "-wal"), with_suffix(&file, "-shm")] {
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
}

#[tokio::test]
async fn a_database_file_left_readable_by_others_is_made_private_at_the_next_start() {
    let app = spawn_app().await;
    let Some(file) = app.state.settings.sqlite_file() else { return };
    app.set_up_admin().await;
    let wal = with_suffix(&file, "-wal");
    for path in [&file, &wal] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }

    let restarted = app.second_instance().await;
    assert_eq!(restarted.get("/agent/contacts").await.status, 200, "the restarted instance still serves");
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&wal), 0o600);
}

#[tokio::test]
async fn a_database_file_shared_with_a_group_for_writing_keeps_it_and_loses_only_the_others_rights() {
    let app = spawn_app().await;
    let Some(file) = app.state.settings.sqlite_file() else { return };
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o664)).expect("chmod");

    let _restarted = app.second_instance().await;
    assert_eq!(mode(&file), 0o660, "the mail pipe's group may still write it");
}
