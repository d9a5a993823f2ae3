//! The client TLS configuration of the HTTP transport: rustls with ring (the one TLS stack of
//! the build), trusting the platform's roots and/or a PEM bundle (pyqldb's `verify=PATH`), or,
//! with `verify=False`, any certificate — botocore's behaviour, which users rely on for local
//! TLS proxies.

use super::HttpOptions;
use crate::error::DriverError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::Arc;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls configuration for `options`.
pub(super) fn client_config(options: &HttpOptions) -> Result<Arc<ClientConfig>, DriverError> {
    let invalid =
        |what: String| DriverError::invalid_argument(format!("Invalid TLS settings: {what}"));
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(e.to_string()))?;
    let mut config = if options.verify_certificates {
        let mut roots = RootCertStore::empty();
        if options.native_roots {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                tracing::debug!(error = %e, "skipping a platform root certificate");
            }
            let (added, ignored) = roots.add_parsable_certificates(found.certs);
            tracing::debug!(added, ignored, "platform root certificates loaded");
        }
        if let Some(pem) = &options.extra_ca_pem {
            let mut count = 0;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| invalid(format!("unreadable CA bundle: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| invalid(format!("unusable CA certificate: {e}")))?;
                count += 1;
            }
            if count == 0 {
                return Err(invalid("the CA bundle holds no PEM certificate".into()));
            }
        }
        if roots.is_empty() {
            return Err(invalid(
                "no trusted root certificate: the platform has none and no CA bundle was given"
                    .into(),
            ));
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        tracing::warn!(
            "TLS certificate verification is disabled (verify=False): the endpoint's identity is not checked"
        );
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider())))
            .with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// `verify=False`: any certificate is accepted, but the handshake signatures are still checked
/// (they prove possession of the key the presented certificate names).
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
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
        verify_tls12_signature(
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
        verify_tls13_signature(
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
