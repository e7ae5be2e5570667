//! The employee's punch page: one HTML file, one script, one stylesheet,
//! compiled in and served with the reviewer page's strict content security
//! policy (`crate::web::asset`): nothing inline, nothing from elsewhere.

use axum::Router;
use axum::http::Method;
use axum::response::Response;
use axum::routing::get;

use crate::api::AppState;
use crate::web::asset;

pub const PATH_PAGE: &str = "/punch/";
pub const PATH_SCRIPT: &str = "/punch/assets/punch.js";
pub const PATH_STYLE: &str = "/punch/assets/punch.css";

const PAGE_HTML: &str = include_str!("assets/punch.html");
const PAGE_JS: &str = include_str!("assets/punch.js");
const PAGE_CSS: &str = include_str!("assets/punch.css");

async fn page() -> Response {
    asset(PAGE_HTML, "text/html; charset=utf-8")
}

async fn script() -> Response {
    asset(PAGE_JS, "text/javascript; charset=utf-8")
}

async fn style() -> Response {
    asset(PAGE_CSS, "text/css; charset=utf-8")
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
