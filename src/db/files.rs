//! A SQLite database's files are readable by the instance's user only (mode 0600), like the
//! secret key file beside them: they hold password hashes, session tokens, customers' mail and
//! the sealed IMAP passwords.
//!
//! The database file is created 0600 before SQLite opens it, rather than by SQLite under the
//! process's umask (0644 under the usual one); the umask itself is left alone, since it is
//! process-wide and other threads create files too. SQLite gives the `-wal` and `-shm` files it
//! creates the database file's permissions, so they follow.
//!
//! Files made by an earlier version are tightened at start-up, with a log line. A file its
//! group may write was shared on purpose (no default umask grants that), typically with the
//! mail server's pipe user, who needs to write the database or reach the mail socket that
//! copies its permissions: such a file keeps its group's rights and loses only everyone
//! else's.

use std::fs::{self, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The database file's companions SQLite makes in WAL mode.
const COMPANIONS: [&str; 2] = ["-wal", "-shm"];

/// Makes `database` private before SQLite opens it: creates it empty with mode 0600 when it is
/// not there (SQLite takes an empty file as an empty database), and tightens it and its
/// `-wal` and `-shm` files when they are readable by others.
///
/// # Errors
/// When the file cannot be created or its permissions not read or changed.
pub fn make_private(database: &Path) -> io::Result<()> {
    // Not `create_new`: another instance starting at the same moment may create it first.
    OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(database)?;
    tighten(database)?;
    for suffix in COMPANIONS {
        let mut companion = database.as_os_str().to_owned();
        companion.push(suffix);
        match tighten(&PathBuf::from(companion)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            other => other?,
        }
    }
    Ok(())
}

/// The permissions `mode` comes down to (see the module comment on the group).
fn private_mode(mode: u32) -> u32 {
    let shared_with_group = mode & 0o020 != 0;
    mode & if shared_with_group { 0o660 } else { 0o600 }
}

fn tighten(path: &Path) -> io::Result<()> {
    let mode = fs::metadata(path)?.permissions().mode() & 0o777;
    let private = private_mode(mode);
    if private != mode {
        fs::set_permissions(path, Permissions::from_mode(private))?;
        tracing::warn!(
            file = %path.display(),
            "tightened a database file's permissions from {mode:03o} to {private:03o}: it was open to other users"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::private_mode;

    #[test]
    fn others_lose_their_rights_and_the_group_keeps_them_only_when_shared_for_writing() {
        assert_eq!(private_mode(0o644), 0o600);
        assert_eq!(private_mode(0o666), 0o600 | 0o060);
        assert_eq!(private_mode(0o640), 0o600);
        assert_eq!(private_mode(0o660), 0o660);
        assert_eq!(private_mode(0o600), 0o600);
        assert_eq!(private_mode(0o400), 0o400);
    }
}
