//! TLS settings: rustls with the `ring` provider and the webpki root certificates.

use std::sync::Arc;

use futures_rustls::TlsConnector;
use rustls::ClientConfig;

/// A TLS connector trusting the Mozilla roots shipped in `webpki-roots`.
pub(crate) fn connector() -> TlsConnector {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        // A static fact about the ring provider, not a runtime condition.
        .expect("the ring provider supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}
