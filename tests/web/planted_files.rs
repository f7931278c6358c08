//! The mail socket and the generated secret key file are found by their path alone, so another
//! local user who gets there first could receive the piped mail or plant a key. Neither is
//! trusted unless its directory, its owner and (for the socket) the process serving it are.
//!
//! The tests run as root; the other user is `nobody`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{spawn_app, spawn_app_with, test_dir, try_spawn_app_with};
use crate::inbound_mail::{message, pipe_as, pipe_with};

/// Another local user, and its group.
const NOBODY: u32 = 65534;

/// A fresh directory with permissions `mode` (as they are, whatever the umask), removed with it.
struct Dir(PathBuf);

impl Dir {
    fn new(mode: u32) -> Self {
        let path = test_dir().join(format!("fdt-dir-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&path).expect("mkdir");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        Self(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn chown(&self, uid: u32) {
        std::os::unix::fs::chown(&self.0, Some(uid), Some(uid)).expect("chown");
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A process that is not the instance bound `path` first: it answers every message as taken.
/// Returns how many connections it got.
fn squat(path: &Path) -> Arc<AtomicUsize> {
    let listener = tokio::net::UnixListener::bind(path).expect("bind");
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut buffer = vec![0; 64 * 1024];
            let _ = stream.read(&mut buffer).await;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\nopened ticket #1\n").await;
        }
    });
    connections
}

#[tokio::test]
async fn mail_is_not_handed_to_a_socket_in_a_directory_every_user_may_write() {
    let app = spawn_app().await;
    let open = Dir::new(0o777);
    let socket = open.join("mail.sock");
    let squatter = squat(&socket);

    let raw = message("Ann <ann@example.com>", "Help", Some("ann1@x.example.com"), "", "Hello\n");
    let out = pipe_with(&app.database_url, &raw, &[("FRONTDESK_MAIL_SOCKET", &socket.display().to_string())]).await;
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stderr.contains("may be written by every user"), "{}", out.stderr);
    assert!(out.stderr.contains("storing the message directly"), "{}", out.stderr);
    assert!(!out.stderr.contains("running instance"), "{}", out.stderr);
    assert_eq!(squatter.load(Ordering::SeqCst), 0, "the squatter got no mail");
    assert_eq!(app.count("tickets").await, 1, "the pipe stored the message itself");
}

/// A process stopped when the test ends, however it ends.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn mail_is_not_handed_to_a_socket_served_by_another_user() {
    let app = spawn_app().await;
    // A directory anyone may create files in, like /tmp: the sticky bit keeps each user's own.
    let shared = Dir::new(0o1777);
    let socket = shared.join("mail.sock");
    // Another user's frontdesk, with its own database, took the socket path first.
    let theirs = Dir::new(0o700);
    theirs.chown(NOBODY);
    let _other = {
        use std::os::unix::process::CommandExt;
        Stopped(
            std::process::Command::new(env!("CARGO_BIN_EXE_frontdesk"))
                .uid(NOBODY)
                .gid(NOBODY)
                .env("DATABASE_URL", format!("sqlite://{}", theirs.join("frontdesk.db").display()))
                .env("FRONTDESK_LISTEN", "127.0.0.1:0")
                .env("FRONTDESK_MAIL_SOCKET", &socket)
                .env("FRONTDESK_LOG", "warn")
                .spawn()
                .expect("start another user's frontdesk"),
        )
    };
    for _ in 0..300 {
        if socket.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(socket.exists(), "the other user's instance has no socket");
    let path = socket.display().to_string();
    let env = [("FRONTDESK_MAIL_SOCKET", path.as_str())];

    let first = message("Bo <bo@example.com>", "Help", Some("bo1@x.example.com"), "", "Hello\n");
    let out = pipe_with(&app.database_url, &first, &env).await;
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stderr.contains(&format!("belongs to user {NOBODY}")), "{}", out.stderr);
    assert!(!out.stderr.contains("running instance"), "{}", out.stderr);
    assert_eq!(app.count("tickets").await, 1);

    // Even when the socket file looks right, the process behind it is the other user's.
    std::os::unix::fs::chown(&socket, Some(0), Some(0)).expect("chown");
    let second = message("Bo <bo@example.com>", "Again", Some("bo2@x.example.com"), "", "Hello?\n");
    let out = pipe_with(&app.database_url, &second, &env).await;
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stderr.contains(&format!("is served by user {NOBODY}")), "{}", out.stderr);
    assert!(!out.stderr.contains("running instance"), "{}", out.stderr);
    assert_eq!(app.count("tickets").await, 2);
}

#[tokio::test]
async fn an_instance_does_not_start_with_its_mail_socket_in_a_directory_every_user_may_write() {
    let open = Dir::new(0o777);
    let socket = open.join("mail.sock");
    let refused = try_spawn_app_with(|s| s.mail_socket = Some(socket.display().to_string())).await;
    let error = format!("{:#}", refused.err().expect("the instance must not start"));
    assert!(error.contains(&open.0.display().to_string()) && error.contains("may be written by every user"), "{error}");
    assert!(!socket.exists());
}

#[tokio::test]
async fn the_instance_takes_piped_mail_only_from_its_own_user_root_and_the_configured_pipe_users() {
    let app = spawn_app().await;
    let socket = app.state.settings.mail_socket_path().expect("a mail socket");
    assert_eq!(mode(&socket), 0o600, "the instance's user alone may connect");
    // Permissions that let every user connect: the peer's user is checked all the same.
    chmod(&socket, 0o666);
    let path = socket.display().to_string();
    let env = [("FRONTDESK_MAIL_SOCKET", path.as_str())];
    let raw = message("Cy <cy@example.com>", "Help", Some("cy1@x.example.com"), "", "Hello\n");
    let out = pipe_as(Some(NOBODY), &app.database_url, &raw, &env).await;
    assert!(
        out.stderr.contains(&format!("answered 403: user {NOBODY} may not hand mail to this instance")),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("(by the running instance)"), "{}", out.stderr);

    // Named as a pipe user, the same user's mail is taken.
    let allowing = spawn_app_with(|s| s.mail_pipe_users = vec!["nobody".into()]).await;
    let socket = allowing.state.settings.mail_socket_path().expect("a mail socket");
    assert_eq!(mode(&socket), 0o660, "the pipe users reach the socket through its group");
    chmod(&socket, 0o666);
    let path = socket.display().to_string();
    let env = [("FRONTDESK_MAIL_SOCKET", path.as_str())];
    let out = pipe_as(Some(NOBODY), &allowing.database_url, &raw, &env).await;
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stderr.contains("(by the running instance)"), "{}", out.stderr);
    assert_eq!(allowing.count("tickets").await, 1);
}

/// Settings for an instance on a SQLite database in `dir` with no mail socket (whatever
/// `TEST_DATABASE_URL` says: the key file is SQLite's).
fn sqlite_in(dir: &Dir) -> impl FnOnce(&mut frontdesk::config::Settings) + '_ {
    move |s| {
        s.database_url = format!("sqlite://{}", dir.join("frontdesk.db").display());
        s.mail_socket = Some("off".into());
    }
}

const KEY: &str = "a planted key that is long enough to be used as one";

fn plant_key(dir: &Dir, mode: u32) -> PathBuf {
    let path = dir.join("frontdesk.db-secret.key");
    std::fs::write(&path, KEY).expect("write key");
    chmod(&path, mode);
    path
}

#[tokio::test]
async fn a_secret_key_file_other_users_may_read_is_refused_at_start_up() {
    let dir = Dir::new(0o755);
    let key = plant_key(&dir, 0o644);
    let refused = try_spawn_app_with(sqlite_in(&dir)).await;
    let error = format!("{:#}", refused.err().expect("the instance must not start"));
    assert!(error.contains("secret key file") && error.contains("may be read or written by other users"), "{error}");
    assert!(error.contains(&format!("chmod 600 {}", key.display())), "{error}");

    chmod(&key, 0o600);
    let app = try_spawn_app_with(sqlite_in(&dir)).await.expect("starts once the key file is private");
    assert_eq!(app.state.sealer.open(&frontdesk::secrets::Sealer::new(KEY).seal("x")).ok().as_deref(), Some("x"));
}

#[tokio::test]
async fn a_secret_key_file_of_another_user_is_refused_at_start_up() {
    let dir = Dir::new(0o755);
    let key = plant_key(&dir, 0o600);
    std::os::unix::fs::chown(&key, Some(NOBODY), Some(NOBODY)).expect("chown");
    let refused = try_spawn_app_with(sqlite_in(&dir)).await;
    let error = format!("{:#}", refused.err().expect("the instance must not start"));
    assert!(error.contains("secret key file") && error.contains(&format!("belongs to user {NOBODY}")), "{error}");
}

#[tokio::test]
async fn no_secret_key_file_is_used_or_made_in_a_directory_every_user_may_write() {
    let dir = Dir::new(0o777);
    let refused = try_spawn_app_with(sqlite_in(&dir)).await;
    let error = format!("{:#}", refused.err().expect("the instance must not start"));
    assert!(error.contains("secret key file") && error.contains("may be written by every user"), "{error}");
    assert!(!dir.join("frontdesk.db-secret.key").exists(), "no key was made there");

    plant_key(&dir, 0o600);
    let refused = try_spawn_app_with(sqlite_in(&dir)).await;
    assert!(refused.is_err(), "nor is one found there used");
}
