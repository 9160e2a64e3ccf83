//! Passwords (argon2id, on the blocking pool, at most a few at once) and random secrets
//! (session ids, API tokens) that are stored only as SHA-256 hashes.
use crate::error::Result;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Hashes run in parallel up to this many (argon2id takes ~19 MiB and a core each);
/// further logins queue instead of exhausting memory.
pub const CONCURRENT_HASHES: usize = 2;

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// Verified against when the user does not exist, so timing reveals nothing.
    dummy_hash: Arc<String>,
}

impl Passwords {
    pub fn new() -> Result<Passwords> {
        Ok(Passwords {
            permits: Arc::new(Semaphore::new(CONCURRENT_HASHES)),
            dummy_hash: Arc::new(hash_now(&random_secret())?),
        })
    }

    pub async fn hash(&self, password: &str) -> Result<String> {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("semaphore is never closed");
        let password = password.to_string();
        tokio::task::spawn_blocking(move || hash_now(&password)).await?
    }

    /// Checks `password` against `stored`, or against a dummy hash when there is no
    /// user, so both cases cost the same.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("semaphore is never closed");
        let found = stored.is_some();
        let stored = stored.unwrap_or(&self.dummy_hash).to_string();
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        ok && found
    }
}

fn hash_now(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| domain::Error::internal(format!("Could not hash the password: {e}")).into())
}

/// 32 random bytes, URL-safe base64 (43 characters).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256_hex(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_only_the_right_password() {
        let p = Passwords::new().unwrap();
        let h = p.hash("correct horse battery").await.unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(p.verify("correct horse battery", Some(&h)).await);
        assert!(!p.verify("wrong horse battery", Some(&h)).await);
        assert!(
            !p.verify("correct horse battery", None).await,
            "no user, no entry"
        );
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let (a, b) = (random_secret(), random_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(sha256_hex("abc").len(), 64);
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
