//! HTTPS for `swell serve`: a certificate and key from PEM files, or a self-signed certificate
//! that swell makes once and keeps in the data dir (for clients that only speak https, such as
//! simple-salesforce, which rewrites every instance URL to `https://`).
//!
//! The TLS handshake of each connection runs in a task of its own, so a slow or broken client
//! never holds the accept loop; handshakes that fail or take over 10 s are dropped and logged.

use anyhow::{Context, Result, bail};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Where the certificate comes from.
pub enum Source<'a> {
    Files {
        cert: &'a Path,
        key: &'a Path,
    },
    /// Made once (for `127.0.0.1`, `localhost` and `host`) and kept in `dir`.
    SelfSigned {
        dir: &'a Path,
        host: &'a str,
    },
}

/// The acceptor, and the certificate file that clients should trust.
pub fn acceptor(source: Source) -> Result<(TlsAcceptor, PathBuf)> {
    let (cert_file, key_file) = match source {
        Source::Files { cert, key } => (cert.to_path_buf(), key.to_path_buf()),
        Source::SelfSigned { dir, host } => self_signed(dir, host)?,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_file)
        .with_context(|| format!("reading the TLS certificate {}", cert_file.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading the TLS certificate {}", cert_file.display()))?;
    if certs.is_empty() {
        bail!("{} holds no PEM certificate", cert_file.display());
    }
    let key = PrivateKeyDer::from_pem_file(&key_file)
        .with_context(|| format!("reading the TLS private key {}", key_file.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not fit together")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // an absolute path, to paste into REQUESTS_CA_BUNDLE or curl --cacert from anywhere
    let cert_file = std::fs::canonicalize(&cert_file).unwrap_or(cert_file);
    Ok((TlsAcceptor::from(Arc::new(config)), cert_file))
}

/// Makes `cert.pem` and `key.pem` in `dir` unless they exist.
fn self_signed(dir: &Path, host: &str) -> Result<(PathBuf, PathBuf)> {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    if cert.is_file() && key.is_file() {
        return Ok((cert, key));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    if !host.is_empty() && !names.iter().any(|n| n == host) && host != "0.0.0.0" {
        names.push(host.to_string());
    }
    let made = rcgen::generate_simple_self_signed(names).context("making a self-signed certificate")?;
    std::fs::write(&cert, made.cert.pem()).with_context(|| format!("writing {}", cert.display()))?;
    std::fs::write(&key, made.signing_key.serialize_pem()).with_context(|| format!("writing {}", key.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600));
    }
    Ok((cert, key))
}

/// A listener of TLS connections for `axum::serve`.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(c) => c,
                    Err(e) => {
                        // too many open files and the like: wait, as axum's own loop does
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { ready, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(c) => c,
            // the accept task ended (never, short of a panic): accept nothing more
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
