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

pub(crate) fn asset(body: &'static str, content_type: &'static str) -> Response {
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

async fn page() -> Response {
    asset(INDEX_HTML, "text/html; charset=utf-8")
}

async fn script() -> Response {
    asset(APP_JS, "text/javascript; charset=utf-8")
}

async fn style() -> Response {
    asset(APP_CSS, "text/css; charset=utf-8")
}

pub fn routes() -> Vec<(Method, &'static str)> {
    vec![
        (Method::GET, PATH_PAGE),
        (Method::GET, PATH_SCRIPT),
        (Method::GET, PATH_STYLE),
    ]
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PATH_PAGE, get(page))
        .route(PATH_SCRIPT, get(script))
        .route(PATH_STYLE, get(style))
}
