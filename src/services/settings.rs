//! The secret key, when none is configured: generated on first run and kept where every
//! instance and every restart finds it, but not in the database whose secrets it seals.
//!
//! On SQLite it lives in a file beside the database file (mode 0600), so that a copy of the
//! database alone opens neither the stored IMAP passwords nor a session cookie. PostgreSQL has
//! no such place shared by every instance, so there it stays in the `settings` table and the
//! start-up log says to set `FRONTDESK_SECRET_KEY`.
//!
//! A key file is used only when no other user could have planted or read it (see
//! [`crate::file_trust`]): it belongs to the instance's user, no one else may read or write it,
//! and its directory is not open to everyone. Otherwise the instance does not start, and says
//! why: a planted key would forge sessions, a leaked one open the stored passwords.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait, ModelTrait};

use crate::config::Settings;
use crate::entities::setting;
use crate::file_trust::{self, Trusted, Untrusted};

const SECRET_KEY: &str = "secret_key";

/// Why there is no secret key to start with.
#[derive(Debug, thiserror::Error)]
pub enum SecretKeyError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("cannot use the secret key file {}: {source}", path.display())]
    File { path: PathBuf, source: io::Error },
    #[error("the secret key file {} is empty; remove it to have a new key made (stored IMAP passwords then need typing again)", path.display())]
    Empty { path: PathBuf },
    /// The reason is the source, which names the file or directory at fault.
    #[error("the secret key file {} is not used", path.display())]
    Untrusted { path: PathBuf, source: Untrusted },
}

/// The secret key: the configured one, else the generated one (see the module comment).
///
/// # Errors
/// Database errors, or a key file that cannot be read or written.
pub async fn secret_key(conn: &DatabaseConnection, settings: &Settings) -> Result<String, SecretKeyError> {
    if let Some(key) = &settings.secret_key {
        return Ok(key.clone());
    }
    let Some(path) = settings.secret_key_file() else {
        tracing::warn!(
            "FRONTDESK_SECRET_KEY is not set: the generated key is kept in the database, so a copy of the \
             database opens the stored IMAP passwords; set it in production"
        );
        return Ok(in_database(conn).await?);
    };
    file_trust::check_directory_of(&path, &Trusted::me())
        .map_err(|source| SecretKeyError::Untrusted { path: path.clone(), source })?;
    let stored = setting::Entity::find_by_id(SECRET_KEY).one(conn).await?;
    let key = match read_file(&path)? {
        Some(key) => key,
        // An install from before the key file moves its key out of the database, so that its
        // sealed passwords and signed cookies stay valid.
        None => create_file(&path, stored.as_ref().map_or_else(|| crate::auth::random_token(86), |r| r.value.clone()))?,
    };
    match stored {
        Some(row) if row.value == key => {
            row.delete(conn).await?;
        }
        Some(_) => {
            tracing::warn!("the database holds a secret key other than {}'s; it is left there, unused", path.display())
        }
        None => {}
    }
    Ok(key)
}

/// The key kept in the `settings` table, made by the first instance that asks.
async fn in_database(conn: &DatabaseConnection) -> Result<String, DbErr> {
    if let Some(row) = setting::Entity::find_by_id(SECRET_KEY).one(conn).await? {
        return Ok(row.value);
    }
    // Two instances starting at once may both get here: the first insert wins and both read it.
    let row = setting::ActiveModel { key: Set(SECRET_KEY.into()), value: Set(crate::auth::random_token(86)) };
    setting::Entity::insert(row)
        .on_conflict(OnConflict::column(setting::Column::Key).do_nothing().to_owned())
        .do_nothing()
        .exec(conn)
        .await?;
    let row = setting::Entity::find_by_id(SECRET_KEY)
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("secret key".into()))?;
    Ok(row.value)
}

/// The key in `path`, or `None` when there is no such file yet. The owner and permissions are
/// those of the file opened, so the file checked is the file read.
fn read_file(path: &Path) -> Result<Option<String>, SecretKeyError> {
    let error = |source| SecretKeyError::File { path: path.to_owned(), source };
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(error(e)),
    };
    let meta = file.metadata().map_err(error)?;
    file_trust::check_private_file(path, &meta)
        .map_err(|source| SecretKeyError::Untrusted { path: path.to_owned(), source })?;
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(error)?;
    match text.trim() {
        "" => Err(SecretKeyError::Empty { path: path.to_owned() }),
        key => Ok(Some(key.to_owned())),
    }
}

/// Writes `key` to `path` unless another instance got there first, and returns the key that
/// is there. The key is written whole to a private file that is then linked into place, so no
/// instance ever reads half a key.
fn create_file(path: &Path, key: String) -> Result<String, SecretKeyError> {
    let error = |source| SecretKeyError::File { path: path.to_owned(), source };
    let mut draft = path.as_os_str().to_owned();
    draft.push(format!(".{}", crate::auth::random_token(8)));
    let draft = PathBuf::from(draft);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&draft).and_then(|mut file| {
        writeln!(file, "{key}")?;
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&draft, path));
    std::fs::remove_file(&draft).ok();
    match linked {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            read_file(path)?.ok_or_else(|| error(io::Error::from(io::ErrorKind::NotFound)))
        }
        Err(e) => Err(error(e)),
    }
}
