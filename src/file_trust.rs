//! Files and sockets another local user could have put in Frontdesk's way.
//!
//! The generated secret key and the mail socket are found by their path alone (beside the
//! SQLite file, or `FRONTDESK_MAIL_SOCKET`). Whoever can create a file at that path can plant
//! a key of their own, or bind the socket before the instance and receive every piped mail.
//! So such a path is used only in a directory no untrusted user can change, and a file or a
//! socket's peer only when it belongs to a user the process trusts.
//!
//! A directory is open to others when everyone may write it and it has no sticky bit: anyone
//! may then remove or replace its entries. Group write is allowed, because a SQLite database's
//! directory is shared with the mail pipe's group on purpose (the pipe creates the `-wal` file
//! when no instance runs); a file or socket a group member puts there is refused by its owner.
//! Root is always trusted: it can read and change everything anyway.

use std::fs::Metadata;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Why a file, directory or socket is not used.
#[derive(Debug, thiserror::Error)]
pub enum Untrusted {
    #[error(
        "the directory {} may be written by every user of this machine (mode {mode:04o}, no sticky bit), so anyone \
         could replace what is in it; make it writable by its owner only (chmod o-w) or use another directory",
        path.display()
    )]
    OpenDirectory { path: PathBuf, mode: u32 },
    #[error("{} belongs to user {owner}, not to a user this process trusts ({trusted})", path.display())]
    Owner { path: PathBuf, owner: u32, trusted: Trusted },
    #[error(
        "{} may be read or written by other users (mode {mode:03o}); make it private: chmod 600 {}",
        path.display(),
        path.display()
    )]
    OpenFile { path: PathBuf, mode: u32 },
    #[error("cannot check {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// The users whose files and sockets are trusted: root and the ones listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trusted(Vec<u32>);

impl Trusted {
    /// Root and `users`.
    #[must_use]
    pub fn of(users: impl IntoIterator<Item = u32>) -> Self {
        let mut users: Vec<u32> = users.into_iter().filter(|&uid| uid != 0).collect();
        users.sort_unstable();
        users.dedup();
        Self(users)
    }

    /// Root and the user this process runs as.
    #[must_use]
    pub fn me() -> Self {
        Self::of([own_uid()])
    }

    /// These users and `more`.
    #[must_use]
    pub fn and(self, more: impl IntoIterator<Item = u32>) -> Self {
        Self::of(self.0.into_iter().chain(more))
    }

    /// Whether `uid` is one of them.
    #[must_use]
    pub fn contains(&self, uid: u32) -> bool {
        uid == 0 || self.0.contains(&uid)
    }
}

impl std::fmt::Display for Trusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("root")?;
        self.0.iter().try_for_each(|uid| write!(f, ", user {uid}"))
    }
}

/// The user this process acts as.
#[must_use]
pub fn own_uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// The uid of a user given by name or number (`FRONTDESK_MAIL_PIPE_USERS`).
///
/// # Errors
/// An unknown user name, or a failed look-up.
pub fn user_id(user: &str) -> Result<u32, String> {
    let user = user.trim();
    if let Ok(uid) = user.parse() {
        return Ok(uid);
    }
    match nix::unistd::User::from_name(user) {
        Ok(Some(found)) => Ok(found.uid.as_raw()),
        Ok(None) => Err(format!("there is no user named {user:?} on this machine")),
        Err(e) => Err(format!("cannot look up the user {user:?}: {e}")),
    }
}

/// Whether a directory with permissions `mode` lets every user remove or replace its entries.
#[must_use]
pub fn open_to_everyone(mode: u32) -> bool {
    mode & 0o002 != 0 && mode & 0o1000 == 0
}

/// The directory that holds `path` (`.` for a bare file name).
#[must_use]
pub fn directory_of(path: &Path) -> &Path {
    path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Checks the directory that holds `path`: it belongs to a trusted user and is not open to
/// everyone.
///
/// # Errors
/// [`Untrusted`] saying what is wrong, or that the directory cannot be read.
pub fn check_directory_of(path: &Path, trusted: &Trusted) -> Result<(), Untrusted> {
    let dir = directory_of(path);
    let meta = std::fs::metadata(dir).map_err(|source| Untrusted::Io { path: dir.to_owned(), source })?;
    check_owner(dir, meta.uid(), trusted)?;
    if open_to_everyone(meta.mode()) {
        return Err(Untrusted::OpenDirectory { path: dir.to_owned(), mode: meta.mode() & 0o7777 });
    }
    Ok(())
}

/// Checks that `path`, owned by `owner`, belongs to a trusted user.
///
/// # Errors
/// [`Untrusted::Owner`] when it does not.
pub fn check_owner(path: &Path, owner: u32, trusted: &Trusted) -> Result<(), Untrusted> {
    if trusted.contains(owner) {
        Ok(())
    } else {
        Err(Untrusted::Owner { path: path.to_owned(), owner, trusted: trusted.clone() })
    }
}

/// Checks a file that holds a secret (`meta` read from the opened file): it belongs to this
/// process's user (or root) and no one else may read or write it.
///
/// # Errors
/// [`Untrusted`] saying what is wrong.
pub fn check_private_file(path: &Path, meta: &Metadata) -> Result<(), Untrusted> {
    check_owner(path, meta.uid(), &Trusted::me())?;
    if meta.mode() & 0o077 != 0 {
        return Err(Untrusted::OpenFile { path: path.to_owned(), mode: meta.mode() & 0o777 });
    }
    Ok(())
}

/// The user of the process at the other end of a connected Unix socket: for a client, the
/// one that listens.
///
/// # Errors
/// When the system does not say.
pub fn peer_uid(stream: &std::os::unix::net::UnixStream) -> io::Result<u32> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let uid = nix::sys::socket::getsockopt(stream, nix::sys::socket::sockopt::PeerCredentials)
        .map(|credentials| credentials.uid());
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let uid = nix::unistd::getpeereid(stream).map(|(uid, _)| uid.as_raw());
    uid.map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_everyone_may_write_is_open_unless_sticky() {
        assert!(open_to_everyone(0o777));
        assert!(open_to_everyone(0o733));
        assert!(!open_to_everyone(0o1777), "like /tmp: each user removes only their own files");
        assert!(!open_to_everyone(0o775), "shared with a group on purpose");
        assert!(!open_to_everyone(0o755));
    }

    #[test]
    fn root_and_the_listed_users_are_trusted() {
        let trusted = Trusted::of([1000]).and([113]);
        assert!(trusted.contains(0) && trusted.contains(1000) && trusted.contains(113));
        assert!(!trusted.contains(1001));
        assert_eq!(trusted.to_string(), "root, user 113, user 1000");
        assert_eq!(Trusted::of([0]).to_string(), "root");
    }

    #[test]
    fn users_are_given_by_number_or_name() {
        assert_eq!(user_id("1234"), Ok(1234));
        assert_eq!(user_id(" root "), Ok(0));
        assert!(user_id("no-such-user-here").is_err_and(|e| e.contains("no user named")));
    }

    #[test]
    fn a_bare_file_name_is_in_the_working_directory() {
        assert_eq!(directory_of(Path::new("frontdesk.db-secret.key")), Path::new("."));
        assert_eq!(directory_of(Path::new("/var/lib/fd/x.db-mail.sock")), Path::new("/var/lib/fd"));
    }
}
