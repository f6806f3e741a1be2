//! TLS for the PostgreSQL backend: libpq's `sslmode` and `sslrootcert`, on rustls with
//! the ring provider (no OpenSSL).
//!
//! | `sslmode` | what clusto does |
//! | --- | --- |
//! | `disable`, `allow`, `prefer` (libpq's default) | no TLS (`allow` and `prefer` never try it) |
//! | `require` | TLS; the certificate is not checked, unless a root certificate file is found (then as `verify-ca`, as libpq does) |
//! | `verify-ca` | TLS; the chain must lead to a trusted root; the host name is not checked |
//! | `verify-full` | TLS; the chain and the host name (or IP address) are checked |
//!
//! The trusted roots: the file `sslrootcert=FILE` (or `PGSSLROOTCERT`) names, which must
//! be readable; `sslrootcert=system` for the system's store (which, as in libpq, needs
//! `verify-full`, and is the default mode then); without either,
//! `~/.postgresql/root.crt` when it exists, else — for the `verify-*` modes, where libpq
//! would stop — the system's store.
//!
//! A client certificate, for servers that log clients in by certificate (`cert` in
//! `pg_hba.conf`) or ask for one: `sslcert=FILE` and `sslkey=FILE` (or `PGSSLCERT`,
//! `PGSSLKEY`), else `~/.postgresql/postgresql.crt` and `postgresql.key` when the
//! certificate exists, as in libpq; a named certificate asks for TLS (`prefer` and
//! `allow` become `require`, `disable` is refused). A named file that cannot be read, a
//! file that is not PEM, and a key that others may read (libpq's rule: 0600 or less, or
//! 0640 for a key root owns) are refused by name. Keys protected by a passphrase
//! (`sslpassword`) are not supported.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use postgres::Client;
use postgres::config::SslMode as ClientSslMode;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    /// Reads an `sslmode` value; `None` for one libpq does not know either.
    pub(super) fn parse(text: &str) -> Option<SslMode> {
        Some(match text {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// How a connection is made: plain, or over TLS with the checks the mode asks for.
#[derive(Clone)]
pub(super) enum Tls {
    Plain,
    Rustls {
        connector: MakeRustlsConnect,
        /// What is checked and against which roots, for messages.
        checks: String,
    },
}

/// The client certificate the DSN or the environment names: `sslcert`, `sslkey`.
#[derive(Default)]
pub(super) struct ClientCert {
    pub(super) cert: Option<String>,
    pub(super) key: Option<String>,
}

/// Where the trusted roots come from.
enum Roots {
    File(PathBuf),
    System,
    None,
}

impl Tls {
    /// The TLS that `mode` (the DSN's, `PGSSLMODE`'s, or `None` for libpq's default
    /// `prefer`) and `rootcert` (`sslrootcert` or `PGSSLROOTCERT`) ask for; `home` is
    /// where `.postgresql/root.crt` is looked for. An error names what is wrong, without
    /// the DSN (the caller adds it).
    pub(super) fn new(
        mode: Option<SslMode>,
        rootcert: Option<&str>,
        home: Option<&Path>,
        client: &ClientCert,
    ) -> Result<Tls, String> {
        let system = rootcert == Some("system");
        let mode = match mode {
            // libpq: sslrootcert=system defaults to, and needs, verify-full.
            None if system => SslMode::VerifyFull,
            Some(weak) if system && weak != SslMode::VerifyFull => {
                return Err(format!(
                    "sslmode={} may not be used with sslrootcert=system (use verify-full)",
                    weak.name()
                ));
            }
            None => SslMode::Prefer,
            Some(mode) => mode,
        };
        // libpq's prefer and allow would try TLS and send the certificate; clusto never
        // tries TLS unasked, so a named certificate asks for it.
        let named = client.cert.is_some() || client.key.is_some();
        let mode = match mode {
            SslMode::Disable if named => {
                return Err(
                    "sslcert/sslkey name a client certificate, which needs TLS: sslmode=disable \
                     turns it off"
                        .to_string(),
                );
            }
            SslMode::Allow | SslMode::Prefer if named => SslMode::Require,
            mode => mode,
        };
        if matches!(mode, SslMode::Disable | SslMode::Allow | SslMode::Prefer) {
            return Ok(Tls::Plain);
        }
        let roots = match rootcert {
            Some("system") => Roots::System,
            Some(file) => Roots::File(PathBuf::from(file)),
            None => match home.map(default_root_file).filter(|f| f.exists()) {
                Some(file) => Roots::File(file),
                None if mode == SslMode::Require => Roots::None,
                None => Roots::System,
            },
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (verifier, checks): (Arc<dyn ServerCertVerifier>, String) = match roots {
            Roots::None => (
                Arc::new(Unchecked(provider.clone())),
                "sslmode=require, certificate not checked".to_string(),
            ),
            roots => {
                let (store, from) = match roots {
                    Roots::File(file) => (read_roots(&file)?, format!("{}", file.display())),
                    _ => (system_roots()?, "the system's store".to_string()),
                };
                let webpki =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                        .build()
                        .map_err(|e| format!("the trusted roots cannot be used: {e}"))?;
                match mode {
                    SslMode::VerifyFull => (
                        webpki as Arc<dyn ServerCertVerifier>,
                        format!("sslmode=verify-full, roots from {from}"),
                    ),
                    _ => (
                        Arc::new(ChainOnly(webpki)),
                        format!("sslmode={}, chain checked, roots from {from}", mode.name()),
                    ),
                }
            }
        };
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS cannot be set up: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let (config, checks) = match client_identity(client, home)? {
            None => (builder.with_no_client_auth(), checks),
            Some((chain, key, file)) => (
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    format!("the client certificate sslcert={file} cannot be used: {e}")
                })?,
                format!("{checks}, client certificate {file}"),
            ),
        };
        Ok(Tls::Rustls {
            connector: MakeRustlsConnect::new(config),
            checks,
        })
    }

    /// Whether connections use TLS.
    #[cfg(test)]
    pub(super) fn is_on(&self) -> bool {
        matches!(self, Tls::Rustls { .. })
    }

    /// What is checked, for messages (`None` without TLS).
    pub(super) fn checks(&self) -> Option<&str> {
        match self {
            Tls::Plain => None,
            Tls::Rustls { checks, .. } => Some(checks),
        }
    }

    /// The client's own `sslmode`: TLS is required when on, never tried when off.
    pub(super) fn client_mode(&self) -> ClientSslMode {
        match self {
            Tls::Plain => ClientSslMode::Disable,
            Tls::Rustls { .. } => ClientSslMode::Require,
        }
    }

    /// Connects with `config`.
    pub(super) fn connect(&self, config: &postgres::Config) -> Result<Client, postgres::Error> {
        match self {
            Tls::Plain => config.connect(postgres::NoTls),
            Tls::Rustls { connector, .. } => config.connect(connector.clone()),
        }
    }
}

/// The client's certificate chain and key, when one is named or libpq's default
/// certificate file exists; with the certificate file's name, for messages.
fn client_identity(
    client: &ClientCert,
    home: Option<&Path>,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, String)>, String> {
    let default = |name: &str| home.map(|h| h.join(".postgresql").join(name));
    let cert = match &client.cert {
        Some(file) => PathBuf::from(file),
        // libpq sends no certificate when the default one does not exist.
        None => match default("postgresql.crt").filter(|f| f.exists()) {
            Some(file) => file,
            None => return Ok(None),
        },
    };
    let key = match &client.key {
        Some(file) => PathBuf::from(file),
        None => default("postgresql.key").unwrap_or_else(|| cert.with_extension("key")),
    };
    let shown = cert.display().to_string();
    let data = std::fs::read(&cert)
        .map_err(|e| format!("the client certificate file sslcert={shown} cannot be read: {e}"))?;
    let chain = CertificateDer::pem_slice_iter(&data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the client certificate file sslcert={shown} is not PEM: {e}"))?;
    if chain.is_empty() {
        return Err(format!(
            "the client certificate file sslcert={shown} has no certificate (expected PEM \
             'BEGIN CERTIFICATE' blocks)"
        ));
    }
    let key_shown = key.display();
    let meta = std::fs::metadata(&key)
        .map_err(|e| format!("the private key file sslkey={key_shown} cannot be read: {e}"))?;
    // libpq: u=rw (0600) or less; a key root owns may also be group-readable (0640).
    let allowed = if meta.uid() == 0 { 0o037 } else { 0o077 };
    if meta.permissions().mode() & allowed != 0 {
        return Err(format!(
            "the private key file sslkey={key_shown} may be read by others: make it u=rw \
             (0600) or less, as libpq requires (u=rw,g=r for a key root owns)"
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&key).map_err(|e| {
        format!("the private key file sslkey={key_shown} has no usable PEM private key: {e}")
    })?;
    Ok(Some((chain, key, shown)))
}

/// libpq's default root file in a home directory: `.postgresql/root.crt`.
fn default_root_file(home: &Path) -> PathBuf {
    home.join(".postgresql").join("root.crt")
}

fn read_roots(file: &Path) -> Result<RootCertStore, String> {
    let shown = file.display();
    let data = std::fs::read(file).map_err(|e| {
        format!("the root certificate file sslrootcert={shown} cannot be read: {e}")
    })?;
    let mut store = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&data) {
        let cert = cert.map_err(|e| {
            format!("the root certificate file sslrootcert={shown} is not PEM: {e}")
        })?;
        store.add(cert).map_err(|e| {
            format!("the root certificate file sslrootcert={shown} has a bad certificate: {e}")
        })?;
    }
    if store.is_empty() {
        return Err(format!(
            "the root certificate file sslrootcert={shown} has no certificate (expected PEM \
             'BEGIN CERTIFICATE' blocks)"
        ));
    }
    Ok(store)
}

fn system_roots() -> Result<RootCertStore, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(found.certs);
    if store.is_empty() {
        let why = found
            .errors
            .first()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        return Err(format!(
            "no trusted root certificates found on this system{why}: name a file with \
             sslrootcert=FILE"
        ));
    }
    Ok(store)
}

/// `verify-ca`: the chain is checked, the name is not. webpki checks the chain before
/// the name, so a name error means the chain was good.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `require` without a root file: the certificate is not checked (libpq's behaviour);
/// the handshake's signatures still are.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Tls` without a client certificate.
    fn tls(
        mode: Option<SslMode>,
        rootcert: Option<&str>,
        home: Option<&Path>,
    ) -> Result<Tls, String> {
        Tls::new(mode, rootcert, home, &ClientCert::default())
    }

    #[test]
    fn modes_map_as_libpq_says() {
        for (text, mode) in [
            ("disable", SslMode::Disable),
            ("allow", SslMode::Allow),
            ("prefer", SslMode::Prefer),
            ("require", SslMode::Require),
            ("verify-ca", SslMode::VerifyCa),
            ("verify-full", SslMode::VerifyFull),
        ] {
            assert_eq!(SslMode::parse(text), Some(mode));
            assert_eq!(mode.name(), text);
        }
        assert_eq!(SslMode::parse("bogus"), None);
        assert_eq!(SslMode::parse("Require"), None);
        for plain in [None, Some(SslMode::Disable), Some(SslMode::Prefer)] {
            assert!(!tls(plain, None, None).unwrap().is_on());
        }
        // sslrootcert=system: verify-full by default, and only with it.
        let system = tls(None, Some("system"), None);
        if let Ok(tls) = &system {
            assert!(tls.checks().unwrap().contains("verify-full"));
        }
        let weak = tls(Some(SslMode::Require), Some("system"), None)
            .err()
            .unwrap();
        assert!(weak.contains("verify-full"), "{weak}");
    }

    #[test]
    fn root_files_that_cannot_be_used_are_named() {
        let missing = tls(Some(SslMode::VerifyFull), Some("/nonexistent/ca.crt"), None)
            .err()
            .unwrap();
        assert!(
            missing.contains("/nonexistent/ca.crt") && missing.contains("cannot be read"),
            "{missing}"
        );
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.crt");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let junk_err = tls(Some(SslMode::VerifyCa), junk.to_str(), None)
            .err()
            .unwrap();
        assert!(junk_err.contains("no certificate"), "{junk_err}");
        // `require` without any root file: TLS, nothing checked.
        let require = tls(Some(SslMode::Require), None, Some(dir.path())).unwrap();
        assert!(require.is_on());
        assert!(require.checks().unwrap().contains("not checked"));
        // With ~/.postgresql/root.crt, `require` checks the chain (as verify-ca).
        std::fs::create_dir(dir.path().join(".postgresql")).unwrap();
        std::fs::write(default_root_file(dir.path()), "junk\n").unwrap();
        let with_root = tls(Some(SslMode::Require), None, Some(dir.path()))
            .err()
            .unwrap();
        assert!(with_root.contains("root.crt"), "{with_root}");
    }
}
