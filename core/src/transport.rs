//! HTTP behind a trait, so an app can route through OkHttp / URLSession (or a
//! test can inject faults). The default is [`crate::http_client::ReqwestTransport`].

use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
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

/// Failures below HTTP: all of them are worth retrying later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("connection failed: {0}")]
    Io(String),
    /// Configuration, not the network: never retried.
    #[error("refused by the transport: {0}")]
    Refused(String),
}

impl TransportError {
    pub fn is_retryable(&self) -> bool {
        !matches!(self, TransportError::Refused(_))
    }
}

pub trait Transport: Send + Sync {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// Plain http is allowed only to loopback (tests, the demo); everything else must be https.
pub fn check_url_allowed(url: &str) -> Result<(), TransportError> {
    let lower = url.to_ascii_lowercase();
    let (secure, rest) = match (
        lower.strip_prefix("https://"),
        lower.strip_prefix("http://"),
    ) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        _ => {
            return Err(TransportError::Refused(format!(
                "not an http(s) URL: {url}"
            )));
        }
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        // user:pass@host hides the real host from a naive check.
        return Err(TransportError::Refused(format!(
            "credentials in the URL are not allowed: {url}"
        )));
    }
    if secure {
        return Ok(());
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(TransportError::Refused(format!(
            "plain http is only allowed to loopback, not {host:?}: use https"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_may_use_plain_http() {
        for ok in [
            "https://punch.example.com/v1",
            "http://127.0.0.1:8787/v1/punches",
            "http://localhost/v1",
            "http://[::1]:9/x",
            "http://127.8.9.10",
        ] {
            assert!(check_url_allowed(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://punch.example.com/v1",
            "http://10.0.0.1:8787",
            "http://127.0.0.1.evil.com/",
            "ftp://127.0.0.1/",
            "http://[2001:db8::1]/",
            "http://localhost:80@evil.example/",
            "http://127.0.0.1:1@10.0.0.1/",
            "https://user@punch.example.com/",
        ] {
            assert!(check_url_allowed(bad).is_err(), "{bad}");
        }
    }
}
