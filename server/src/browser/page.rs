//! The employee's punch page: one HTML file, one script, one stylesheet,
//! compiled in and served like the reviewer page (`crate::web`), under its
//! strict content security policy: nothing inline, nothing from elsewhere.

use axum::Router;
use axum::http::Method;

use crate::api::AppState;
use crate::web::{Assets, CSS, HTML, JS, asset_router, asset_routes};

pub const PATH_PAGE: &str = "/punch/";
pub const PATH_SCRIPT: &str = "/punch/assets/punch.js";
pub const PATH_STYLE: &str = "/punch/assets/punch.css";

const PAGE: &Assets = &[
    (PATH_PAGE, include_str!("assets/punch.html"), HTML),
    (PATH_SCRIPT, include_str!("assets/punch.js"), JS),
    (PATH_STYLE, include_str!("assets/punch.css"), CSS),
];

pub fn routes() -> Vec<(Method, &'static str)> {
    asset_routes(PAGE)
}

pub fn router() -> Router<AppState> {
    asset_router(PAGE)
}
