//! The built-in transport (reqwest on rustls) against a real TLS server on
//! 127.0.0.1 whose certificate comes from a CA the client does not trust:
//! the failure is `Tls`, as the platform transports report it (a sync issue
//! of kind TLS, not retried at once), never "cannot connect".
#![cfg(feature = "http-client")]

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;

use punch_core::{HttpRequest, ReqwestTransport, SyncError, Transport, TransportError};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// A TLS server for one connection, with a leaf for 127.0.0.1 issued by a
/// fresh CA that is in no trust store. Returns its port.
fn untrusted_server() -> u16 {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca.self_signed(&ca_key).expect("CA certificate");
    let key = KeyPair::generate().expect("server key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .expect("server params")
        .signed_by(&key, &ca, &ca_key)
        .expect("server certificate");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone(), ca.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .expect("server config");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        let Ok((tcp, _)) = listener.accept() else {
            return;
        };
        let Ok(conn) = rustls::ServerConnection::new(Arc::new(config)) else {
            return;
        };
        // The client aborts the handshake; the read returns its alert.
        let _ = rustls::StreamOwned::new(conn, tcp).read(&mut [0u8; 1]);
    });
    port
}

#[test]
fn an_untrusted_certificate_is_a_tls_failure() {
    let port = untrusted_server();
    let transport = ReqwestTransport::new().expect("transport");
    let request = HttpRequest {
        method: "GET".into(),
        url: format!("https://127.0.0.1:{port}/v1/time"),
        headers: Vec::new(),
        body: Vec::new(),
        timeout_ms: 10_000,
    };
    let error = transport
        .send(&request)
        .expect_err("the certificate must be refused");
    let TransportError::Tls(detail) = &error else {
        panic!("expected a TLS failure, got {error:?}");
    };
    assert!(
        detail.contains("certificate"),
        "the detail names the certificate check: {detail}"
    );
    assert!(!error.is_retryable());
    assert!(SyncError::from(error).is_permanent());
}
