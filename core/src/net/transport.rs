//! HTTP behind a trait, so an app can route through OkHttp / URLSession (or a
//! test can inject faults). The default is `ReqwestTransport` (feature `http-client`).

#[derive(Debug, Clone, PartialEq, Eq)]
/// One HTTP request the engine sends.
pub struct HttpRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The absolute URL.
    pub url: String,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
    /// Give up after this long.
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// The server's answer.
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Failures below HTTP: worth retrying later, except `Refused` and `Tls`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    #[error("timed out: {0}")]
    /// No answer in time.
    Timeout(String),
    #[error("cannot connect: {0}")]
    /// No connection (DNS, refused).
    Connect(String),
    /// The server's certificate was not trusted or the TLS handshake failed:
    /// a misconfiguration or an interception (a captive portal, a proxy), so
    /// retrying at once would only fail again.
    #[error("TLS failed: {0}")]
    Tls(String),
    #[error("connection failed: {0}")]
    /// The connection broke mid-exchange.
    Io(String),
    /// Configuration, not the network: never retried.
    #[error("refused by the transport: {0}")]
    Refused(String),
}

impl TransportError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, TransportError::Refused(_) | TransportError::Tls(_))
    }
}

/// HTTP for sync: the app may route it through its own stack (OkHttp, URLSession).
pub trait Transport: Send + Sync {
    /// Sends `request` and returns the answer, whatever its status.
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError>;
}
