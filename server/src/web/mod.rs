//! The reviewer page, served by the server itself: one HTML file, one
//! script, one stylesheet, checked in under `assets/` and compiled into the
//! binary (no build step, no CDN, nothing fetched from elsewhere: the
//! content security policy forbids it). It talks only to the admin API.

use axum::Router;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::api::AppState;
use crate::clock::now_ms;

pub const PATH_PAGE: &str = "/admin/";
pub const PATH_SCRIPT: &str = "/admin/assets/app.js";
pub const PATH_STYLE: &str = "/admin/assets/app.css";

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");

/// Same-origin only; no inline script; not framable.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        punch_model::wire::HEADER_SERVER_TIME,
        HeaderValue::from(now_ms()),
    );
    resp
}

pub(crate) const HTML: &str = "text/html; charset=utf-8";
pub(crate) const JS: &str = "text/javascript; charset=utf-8";
pub(crate) const CSS: &str = "text/css; charset=utf-8";

/// A page's compiled-in assets: (path, body, content type).
pub(crate) type Assets = [(&'static str, &'static str, &'static str)];

const REVIEWER: &Assets = &[
    (PATH_PAGE, INDEX_HTML, HTML),
    (PATH_SCRIPT, APP_JS, JS),
    (PATH_STYLE, APP_CSS, CSS),
];

/// Every (method, path) `assets` are served at.
pub(crate) fn asset_routes(assets: &Assets) -> Vec<(Method, &'static str)> {
    assets
        .iter()
        .map(|&(path, _, _)| (Method::GET, path))
        .collect()
}

/// `assets`, each answered by [`asset`].
pub(crate) fn asset_router(assets: &'static Assets) -> Router<AppState> {
    assets
        .iter()
        .fold(Router::new(), |router, &(path, body, content_type)| {
            router.route(path, get(move || async move { asset(body, content_type) }))
        })
}

pub fn routes() -> Vec<(Method, &'static str)> {
    asset_routes(REVIEWER)
}

pub fn router() -> Router<AppState> {
    asset_router(REVIEWER)
}
