//! Password hashing with argon2id, on a blocking thread so that hashing never stalls the
//! server's event loop.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::OnceLock;

use argon2::Argon2;

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 8;

/// Checks a new password and its confirmation.
///
/// # Errors
/// Messages for the password field and for the confirmation field.
pub fn check_new(password: &str, confirmation: &str) -> Result<(), (&'static str, &'static str)> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(("password", "Use at least 8 characters."));
    }
    if password.len() > 1024 {
        return Err(("password", "Use at most 1024 characters."));
    }
    if password != confirmation {
        return Err(("confirm_password", "The passwords do not match."));
    }
    Ok(())
}

/// Hashes a password into a PHC string.
///
/// # Errors
/// When the blocking task fails or hashing fails (neither happens in practice).
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await?
}

/// Whether `password` matches `hash`. With no hash (unknown account) it still spends the time of
/// one verification, so that response times do not tell which addresses exist.
pub async fn verify(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let (stored, known) = match hash {
            Some(h) => (h, true),
            None => (dummy_hash().to_owned(), false),
        };
        let Ok(parsed) = PasswordHash::new(&stored) else { return false };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && known
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password with the default parameters, made once.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(super::random_token(32).as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}
