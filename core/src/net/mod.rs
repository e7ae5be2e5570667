//! The network below sync: HTTP behind the [`Transport`](transport::Transport)
//! trait (an app may route through OkHttp / URLSession), the default reqwest
//! client on rustls + ring, and the rule for which URLs may be used.

#[cfg(feature = "http-client")]
pub(crate) mod http_client;
pub(crate) mod transport;
pub(crate) mod url_policy;
