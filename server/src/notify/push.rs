//! Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payloads (RFC 8291). The
//! VAPID key pair is made on first start and kept in the data dir (0600); browsers
//! subscribe with its public half.
use crate::store::StoredSubscription;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;
use web_push_native::jwt_simple::algorithms::{
    ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair,
};
use web_push_native::jwt_simple::claims::Claims;
use web_push_native::p256::PublicKey;
use web_push_native::{Auth, WebPushBuilder};

/// How long a push service may hold a message for an offline browser.
const PUSH_TTL: Duration = Duration::from_secs(4 * 60 * 60);

pub struct Vapid {
    key: ES256KeyPair,
    /// Who to contact about our pushes (`mailto:` or an https URL).
    subject: String,
}

impl Vapid {
    /// Loads the key pair at `path`, creating it (0600) when absent.
    pub fn open(path: &Path, subject: String) -> anyhow::Result<Vapid> {
        let key = match std::fs::read(path) {
            // from_bytes panics on a wrong length instead of saying so.
            Ok(bytes) if bytes.len() != 32 => anyhow::bail!(
                "{} is not a VAPID private key (it has {} bytes, not 32). Restore it from a backup, or delete it to make a new one (every browser must then subscribe again).",
                path.display(),
                bytes.len()
            ),
            Ok(bytes) => ES256KeyPair::from_bytes(&bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{} is not a VAPID private key ({e}). Restore it from a backup, or delete it to make a new one (every browser must then subscribe again).",
                    path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path)?,
            Err(e) => anyhow::bail!("Cannot read the VAPID key {}: {e}", path.display()),
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        Ok(Vapid { key, subject })
    }

    /// The public key browsers pass to `pushManager.subscribe` (base64url, 65 bytes).
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.public_key().public_key().to_bytes_uncompressed())
    }

    /// The encrypted, signed request that delivers `payload` to `sub`.
    pub fn request(
        &self,
        sub: &StoredSubscription,
        payload: &[u8],
        topic: Option<&str>,
    ) -> Result<http::Request<Vec<u8>>, String> {
        let endpoint: http::Uri = sub
            .endpoint
            .parse()
            .map_err(|e| format!("the endpoint is not a URL: {e}"))?;
        let p256dh = decode(&sub.p256dh).ok_or("keys.p256dh is not base64url")?;
        let auth = decode(&sub.auth).ok_or("keys.auth is not base64url")?;
        if auth.len() != 16 {
            return Err("keys.auth is not 16 bytes".into());
        }
        let public =
            PublicKey::from_sec1_bytes(&p256dh).map_err(|_| "keys.p256dh is not a P-256 point")?;
        let authorization = self.authorization(&endpoint)?;
        let mut request = WebPushBuilder::new(endpoint, public, Auth::clone_from_slice(&auth))
            .with_valid_duration(PUSH_TTL)
            .build(payload.to_vec())
            .map_err(|e| format!("could not encrypt the payload: {e}"))?;
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, authorization);
        if let Some(topic) = topic.and_then(|t| http::HeaderValue::from_str(&topic_header(t)).ok())
        {
            request.headers_mut().insert("topic", topic);
        }
        request
            .headers_mut()
            .insert("urgency", http::HeaderValue::from_static("high"));
        Ok(request)
    }
}

impl Vapid {
    /// `vapid t=<JWT>, k=<public key>` (RFC 8292). The audience is the push resource's
    /// origin, port included when it isn't the scheme's default.
    fn authorization(&self, endpoint: &http::Uri) -> Result<http::HeaderValue, String> {
        let scheme = endpoint.scheme_str().ok_or("the endpoint has no scheme")?;
        let host = endpoint.host().ok_or("the endpoint has no host")?;
        let audience = match endpoint.port_u16() {
            Some(port) if !matches!((scheme, port), ("https", 443) | ("http", 80)) => {
                format!("{scheme}://{host}:{port}")
            }
            _ => format!("{scheme}://{host}"),
        };
        let claims = Claims::create(PUSH_TTL.into())
            .with_audience(audience)
            .with_subject(&self.subject);
        let token = self
            .key
            .sign(claims)
            .map_err(|e| format!("could not sign: {e}"))?;
        http::HeaderValue::from_str(&format!("vapid t={token}, k={}", self.public_key()))
            .map_err(|e| e.to_string())
    }
}

/// RFC 8030 topics are at most 32 URL-safe base64 characters; a later push with the
/// same topic replaces an undelivered earlier one.
fn topic_header(tag: &str) -> String {
    let digest = <sha2::Sha256 as sha2::Digest>::digest(tag.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..24])
}

fn decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

fn create(path: &Path) -> anyhow::Result<ES256KeyPair> {
    let key = ES256KeyPair::generate();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(&key.to_bytes())?;
    file.sync_all()?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_kept_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vapid.key");
        let first = Vapid::open(&path, "mailto:ops@example.com".into()).unwrap();
        let again = Vapid::open(&path, "mailto:ops@example.com".into()).unwrap();
        assert_eq!(first.public_key(), again.public_key());
        assert_eq!(decode(&first.public_key()).unwrap().len(), 65);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(&path, b"junk").unwrap();
        let err = Vapid::open(&path, String::new()).err().unwrap().to_string();
        assert!(err.contains("not a VAPID private key"), "{err}");
    }
}
