//! Which server URLs the device may talk to: https anywhere, plain http only
//! to loopback (tests, the demo), never credentials in the URL.

use url::{Host, Url};

use super::transport::TransportError;

/// Refuses URLs that would leak signed requests or GPS: anything but https,
/// except plain http to a loopback host; and `user:pass@` in any URL (it
/// hides the real host from a naive check).
pub fn check_url_allowed(text: &str) -> Result<(), TransportError> {
    let url = Url::parse(text)
        .map_err(|e| TransportError::Refused(format!("not a URL ({e}): {text}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TransportError::Refused(format!(
            "credentials in the URL are not allowed: {text}"
        )));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            let loopback = match url.host() {
                Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(Host::Ipv4(ip)) => ip.is_loopback(),
                Some(Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if loopback {
                Ok(())
            } else {
                Err(TransportError::Refused(format!(
                    "plain http is only allowed to loopback, not {:?}: use https",
                    url.host_str().unwrap_or("")
                )))
            }
        }
        other => Err(TransportError::Refused(format!(
            "not an http(s) URL (scheme {other:?}): {text}"
        ))),
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
