//! Connection secrets at rest: passwords, tokens and keys are sealed with
//! ChaCha20-Poly1305 before they reach the metadata database, and opened only to connect.
//!
//! The key is 32 random bytes in `DATA_DIR/secret.key` (made on first use, mode 0600), or
//! `SWELL_SECRET_KEY` (64 hex digits) where servers do not share a data dir. A sealed value
//! reads `enc:v1:<hex of nonce and ciphertext>`; a value without the prefix is taken as plain
//! text (connections saved before sealing existed). Losing the key loses the secrets, not
//! the connections: set them again.

use crate::ConnectError;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use std::path::Path;

const PREFIX: &str = "enc:v1:";
const KEY_FILE: &str = "secret.key";

/// Seals and opens secrets with one key.
pub struct Vault {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

impl Vault {
    /// The vault of a data dir: `key` (64 hex digits; `--secret-key`), else the key file,
    /// made when missing.
    pub fn open(data_dir: &Path, key: Option<&str>) -> std::io::Result<Vault> {
        if let Some(hex_key) = key {
            let bytes = unhex(hex_key.trim()).filter(|b| b.len() == 32).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the key of connection secrets (--secret-key, SWELL_SECRET_KEY) must be 64 hex digits",
                )
            })?;
            return Ok(Vault::from_key(&bytes));
        }
        let path = data_dir.join(KEY_FILE);
        match std::fs::read(&path) {
            Ok(bytes) if bytes.len() == 32 => return Ok(Vault::from_key(&bytes)),
            Ok(_) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} is not a 32-byte key", path.display()),
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut key = [0u8; 32];
        SystemRandom::new().fill(&mut key).map_err(|_| std::io::Error::other("no random numbers"))?;
        std::fs::create_dir_all(data_dir)?;
        write_private(&path, &key)?;
        // another server may have made one at the same moment: use whichever won
        let bytes = std::fs::read(&path)?;
        Ok(Vault::from_key(&bytes))
    }

    pub fn from_key(bytes: &[u8]) -> Vault {
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, bytes).expect("a 32-byte key");
        Vault { key: LessSafeKey::new(unbound), rng: SystemRandom::new() }
    }

    /// Seals a value (an already sealed one is returned as it is).
    pub fn seal(&self, plain: &str) -> String {
        if plain.starts_with(PREFIX) {
            return plain.to_string();
        }
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).expect("random numbers");
        let mut data = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
            .expect("sealing does not fail for in-memory data");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        format!("{PREFIX}{}", hex(&out))
    }

    /// Opens a sealed value; plain values pass through.
    pub fn unseal(&self, stored: &str) -> Result<String, ConnectError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else { return Ok(stored.to_string()) };
        let refused = || {
            ConnectError::Config(
                "a stored secret cannot be opened with this server's key (secret.key or --secret-key changed); \
                 set the connection's secrets again"
                    .to_string(),
            )
        };
        let bytes = unhex(rest).filter(|b| b.len() > NONCE_LEN).ok_or_else(refused)?;
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| refused())?;
        let mut sealed = sealed.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::empty(), &mut sealed).map_err(|_| refused())?;
        String::from_utf8(plain.to_vec()).map_err(|_| refused())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(mut f) => {
            f.write_all(bytes)?;
            f.sync_all()
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(mut f) => std::io::Write::write_all(&mut f, bytes),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_opens_and_refuses_another_key() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path(), None).unwrap();
        let sealed = vault.seal("pa55-w0rd");
        assert!(sealed.starts_with("enc:v1:") && !sealed.contains("pa55"));
        assert_ne!(sealed, vault.seal("pa55-w0rd"), "a fresh nonce each time");
        assert_eq!(vault.unseal(&sealed).unwrap(), "pa55-w0rd");
        assert_eq!(vault.seal(&sealed), sealed);
        assert_eq!(vault.unseal("plain").unwrap(), "plain");
        // the same data dir gives the same key
        assert_eq!(Vault::open(dir.path(), None).unwrap().unseal(&sealed).unwrap(), "pa55-w0rd");
        let other = Vault::from_key(&[7u8; 32]);
        assert!(other.unseal(&sealed).unwrap_err().to_string().contains("cannot be opened"));
        assert!(vault.unseal("enc:v1:zz").is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secret.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
