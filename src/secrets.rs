//! Secrets Frontdesk must be able to read back (the IMAP passwords of support mailboxes) are
//! stored sealed: XChaCha20-Poly1305 under a key derived from the instance's secret key, with a
//! fresh random nonce per value. A copy of the database alone does not give the passwords away
//! as long as the key is not in it: configured, or generated into a file beside a SQLite
//! database (`services::settings`); changing the secret key means typing them again.

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

const PREFIX: &str = "v1:";
const NONCE: usize = 24;

/// Seals and opens stored secrets.
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

/// A sealed value that cannot be opened: made with another secret key, or damaged.
#[derive(Debug, thiserror::Error)]
#[error("the stored password cannot be read with this instance's secret key; enter it again")]
pub struct Unreadable;

impl Sealer {
    /// The sealer for the instance whose secret key is `secret`.
    #[must_use]
    pub fn new(secret: &str) -> Self {
        let digest =
            Sha256::new().chain_update(b"frontdesk stored secrets\0").chain_update(secret.as_bytes()).finalize();
        Self { cipher: XChaCha20Poly1305::new(Key::from_slice(&digest)) }
    }

    /// `plain`, sealed, as text for a database column.
    #[must_use]
    pub fn seal(&self, plain: &str) -> String {
        let mut nonce = [0u8; NONCE];
        rand::rng().fill_bytes(&mut nonce);
        // Encryption into a Vec cannot fail for inputs this size.
        let sealed = self.cipher.encrypt(XNonce::from_slice(&nonce), plain.as_bytes()).unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!("{PREFIX}{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes))
    }

    /// The plain text of a value [`Sealer::seal`] made.
    ///
    /// # Errors
    /// [`Unreadable`] when it was sealed under another key or is damaged.
    pub fn open(&self, sealed: &str) -> Result<String, Unreadable> {
        let encoded = sealed.strip_prefix(PREFIX).ok_or(Unreadable)?;
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded).map_err(|_| Unreadable)?;
        if bytes.len() < NONCE {
            return Err(Unreadable);
        }
        let (nonce, sealed) = bytes.split_at(NONCE);
        let plain = self.cipher.decrypt(XNonce::from_slice(nonce), sealed).map_err(|_| Unreadable)?;
        String::from_utf8(plain).map_err(|_| Unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_with_the_same_key_only() {
        let sealer = Sealer::new("a secret key of at least thirty-two characters");
        let sealed = sealer.seal("hunter2");
        assert!(!sealed.contains("hunter2"));
        assert_ne!(sealed, sealer.seal("hunter2"), "a fresh nonce each time");
        assert_eq!(sealer.open(&sealed).unwrap(), "hunter2");
        assert!(Sealer::new("another secret key of at least thirty-two chars").open(&sealed).is_err());
        assert!(sealer.open("v1:AAAA").is_err());
        assert!(sealer.open("hunter2").is_err());
    }
}
