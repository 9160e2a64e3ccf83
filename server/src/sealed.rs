//! Secret values at rest: ChaCha20-Poly1305 with a key kept in the data dir (created on
//! first use, 0600). Each value gets a fresh nonce and is bound to where it belongs
//! (associated data), so a sealed value copied to another key does not open.
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

const NONCE_BYTES: usize = 12;

#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl Sealer {
    /// Loads the key at `path`, creating it (0600) when absent.
    pub fn open(path: &Path) -> anyhow::Result<Sealer> {
        let key = match std::fs::read(path) {
            Ok(bytes) if bytes.len() == 32 => bytes,
            Ok(_) => anyhow::bail!(
                "{} is not a 32-byte key. Restore it from a backup; without it stored env values can't be read.",
                path.display()
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key(path)?,
            Err(e) => anyhow::bail!("Cannot read the key {}: {e}", path.display()),
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        Ok(Sealer {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        })
    }

    /// nonce ‖ ciphertext of `value`, bound to `context`.
    pub fn seal(&self, context: &str, value: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).expect("the OS random source is available");
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: value.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("encryption of an in-memory value does not fail");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        out
    }

    /// The value sealed for `context`, or `None` if it was tampered with, moved, or
    /// sealed with another key.
    pub fn open_value(&self, context: &str, sealed: &[u8]) -> Option<String> {
        if sealed.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

fn create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut key = vec![0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no random source: {e}"))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(&key)?;
    file.sync_all()?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_open_only_where_they_were_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env.key");
        let s = Sealer::open(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let sealed = s.seal("acme/dev/API_KEY", "sk-secret");
        assert!(!String::from_utf8_lossy(&sealed).contains("sk-secret"));
        assert_ne!(
            sealed,
            s.seal("acme/dev/API_KEY", "sk-secret"),
            "fresh nonce"
        );
        assert_eq!(
            s.open_value("acme/dev/API_KEY", &sealed).as_deref(),
            Some("sk-secret")
        );
        assert_eq!(s.open_value("acme/prod/API_KEY", &sealed), None, "moved");
        let reopened = Sealer::open(&path).unwrap();
        assert_eq!(
            reopened.open_value("acme/dev/API_KEY", &sealed).as_deref(),
            Some("sk-secret")
        );
        let other = Sealer::open(&dir.path().join("other.key")).unwrap();
        assert_eq!(other.open_value("acme/dev/API_KEY", &sealed), None);
    }
}
