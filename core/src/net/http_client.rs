//! The default transport: reqwest (blocking) with rustls on ring — one crypto
//! library in the app — and the OS trust store via rustls-platform-verifier.

use std::sync::Arc;
use std::time::Duration;

use super::transport::{HttpRequest, HttpResponse, Transport, TransportError};
use super::url_policy::check_url_allowed;

/// The default [`Transport`](crate::Transport): reqwest on rustls with ring
/// and the operating system's trust store.
pub struct ReqwestTransport {
    client: reqwest::blocking::Client,
}

impl ReqwestTransport {
    /// A client with the platform verifier (fails when the OS trust store cannot be read).
    pub fn new() -> Result<ReqwestTransport, TransportError> {
        use rustls_platform_verifier::BuilderVerifierExt;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_platform_verifier())
            .map_err(|e| TransportError::Refused(format!("TLS set-up: {e}")))?
            .with_no_client_auth();
        let client = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(Duration::from_secs(10))
            // The protocol has no redirects; following one could carry signed
            // headers and GPS to another host, or down to plain http.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("punch-core/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TransportError::Refused(format!("HTTP client set-up: {e}")))?;
        Ok(ReqwestTransport { client })
    }
}

impl Transport for ReqwestTransport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        check_url_allowed(&request.url)?;
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| TransportError::Refused(format!("bad method {}", request.method)))?;
        let mut builder = self
            .client
            .request(method, &request.url)
            .timeout(Duration::from_millis(request.timeout_ms))
            .body(request.body.clone());
        for (k, v) in &request.headers {
            builder = builder.header(k, v);
        }
        let response = builder.send().map_err(classify)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let body = response.bytes().map_err(classify)?.to_vec();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

fn classify(e: reqwest::Error) -> TransportError {
    let text = e.to_string();
    if e.is_timeout() {
        TransportError::Timeout(text)
    } else if e.is_connect() && tls_failure(&e) {
        // As the platform transports map a handshake failure: not "offline".
        TransportError::Tls(with_causes(&e))
    } else if e.is_connect() {
        TransportError::Connect(text)
    } else if e.is_builder() {
        TransportError::Refused(text)
    } else {
        TransportError::Io(text)
    }
}

/// Whether rustls refused the connection (an untrusted or wrong certificate,
/// a failed handshake) somewhere in `e`'s causes. An `io::Error` hides the
/// error it wraps from `source()` (reqwest's connector nests two), so each
/// one is opened.
fn tls_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(e), |e| e.source()).any(|e| {
        e.is::<rustls::Error>()
            || e.downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
                .is_some_and(|inner| tls_failure(inner))
    })
}

/// `e` and its causes: reqwest's own text ("error sending request") leaves
/// out which certificate check failed.
fn with_causes(e: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(e), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}
