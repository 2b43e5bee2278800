//! HTTPS without a proxy: the certificate chain and key from PEM files (`tls.cert_file`,
//! `tls.key_file`), served with rustls. The same loader runs at start-up, on SIGHUP (a renewed
//! certificate is served to new connections while open ones finish on the old one) and in
//! `carekey check`, so a file that check accepts is one the server accepts.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::ResolvesServerCert;
use rustls::sign::CertifiedKey;

use crate::config::TlsConfig;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {file}: {reason}")]
    Read { file: String, reason: String },
    #[error("{file}: no certificate in it (a PEM file starting -----BEGIN CERTIFICATE-----)")]
    NoCertificate { file: String },
    #[error("{file}: no private key in it (a PEM file with a PKCS#8, RSA or EC private key)")]
    NoKey { file: String },
    #[error("{file}: the certificate cannot be read: {reason}")]
    BadCertificate { file: String, reason: String },
    #[error("{file}: this kind of private key is not supported: {reason}")]
    UnsupportedKey { file: String, reason: String },
    #[error("the key in {key} does not belong to the certificate in {cert}")]
    Mismatch { cert: String, key: String },
    #[error("cannot set up TLS: {0}")]
    Setup(String),
}

/// What was loaded, for the start-up line and `carekey check`.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Arc<ServerConfig>,
    /// Certificates in the chain, the server's own first.
    pub chain_len: usize,
}

/// Reads and checks the pair: the key must belong to the first certificate, or every visitor
/// would see a handshake failure instead of the portal.
pub fn load(cfg: &TlsConfig) -> Result<Loaded, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certified = certified_key(&cfg.cert_file, &cfg.key_file, &provider)?;
    let chain_len = certified.cert.len();
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(One(Arc::new(certified))));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Loaded {
        config: Arc::new(config),
        chain_len,
    })
}

fn certified_key(
    cert_file: &Path,
    key_file: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let shown = |p: &Path| p.display().to_string();
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| TlsError::Read {
            file: shown(p),
            reason: e.to_string(),
        })
    };
    let cert_pem = read(cert_file)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|_| TlsError::NoCertificate {
            file: shown(cert_file),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            file: shown(cert_file),
        });
    }
    let key_pem = read(key_file)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| TlsError::NoKey {
        file: shown(key_file),
    })?;
    let signing =
        provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| TlsError::UnsupportedKey {
                file: shown(key_file),
                reason: e.to_string(),
            })?;
    let certified = CertifiedKey::new(chain, signing);
    match certified.keys_match() {
        // A key type whose public half the provider cannot derive: rustls serves it as it is.
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
            Ok(certified)
        }
        Err(rustls::Error::InconsistentKeys(_)) => Err(TlsError::Mismatch {
            cert: shown(cert_file),
            key: shown(key_file),
        }),
        Err(e) => Err(TlsError::BadCertificate {
            file: shown(cert_file),
            reason: e.to_string(),
        }),
    }
}

/// One certificate for every name: the portal has one origin (`public_url`).
#[derive(Debug)]
struct One(Arc<CertifiedKey>);

impl ResolvesServerCert for One {
    fn resolve(&self, _hello: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert = dir.join(format!("{name}.crt"));
        let key = dir.join(format!("{name}.key"));
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
        (cert, key)
    }

    fn dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("carekey-tls-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn cfg(cert: &Path, key: &Path) -> TlsConfig {
        TlsConfig {
            cert_file: cert.to_path_buf(),
            key_file: key.to_path_buf(),
            redirect_bind: None,
        }
    }

    #[test]
    fn a_matching_pair_loads_with_http2_and_http1() {
        let d = dir("ok");
        let (cert, key) = pair(&d, "a");
        let loaded = load(&cfg(&cert, &key)).unwrap();
        assert_eq!(loaded.chain_len, 1);
        assert_eq!(
            loaded.config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }

    #[test]
    fn a_key_from_another_certificate_is_named_as_the_mismatch() {
        let d = dir("mismatch");
        let (cert, _) = pair(&d, "a");
        let (_, other_key) = pair(&d, "b");
        assert!(matches!(
            load(&cfg(&cert, &other_key)),
            Err(TlsError::Mismatch { .. })
        ));
    }

    #[test]
    fn missing_and_swapped_files_say_which_file_is_wrong() {
        let d = dir("bad");
        let (cert, key) = pair(&d, "a");
        let nothing = d.join("nothing.pem");
        match load(&cfg(&nothing, &key)) {
            Err(TlsError::Read { file, .. }) => assert!(file.ends_with("nothing.pem")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            load(&cfg(&key, &key)),
            Err(TlsError::NoCertificate { .. })
        ));
        assert!(matches!(
            load(&cfg(&cert, &cert)),
            Err(TlsError::NoKey { .. })
        ));
    }
}
