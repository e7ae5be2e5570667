//! The network below sync: HTTP behind the [`Transport`](transport::Transport)
//! trait (an app may route through OkHttp / URLSession), the default reqwest
//! client on rustls + ring, and the rule for which URLs may be used.

#[cfg(feature = "http-client")]
pub mod http_client;
pub mod transport;
pub mod url_policy;
