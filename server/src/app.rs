//! The whole HTTP surface: the device API (`api`), the admin API
//! (`admin_api`) and the reviewer page (`web`), one router.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;

use crate::api::{self, AppState};

pub fn router(state: AppState) -> Router {
    let extra = crate::admin_api::router()
        .layer(DefaultBodyLimit::max(crate::admin_api::query::MAX_BODY))
        .merge(crate::web::router())
        .merge(crate::browser::router());
    api::router_with(state, extra)
}

/// Every (method, path) served (GET also answers HEAD).
pub fn routes() -> Vec<(Method, &'static str)> {
    let mut all = api::routes();
    all.extend(
        crate::admin_api::routes()
            .into_iter()
            .map(|r| (r.method, r.path)),
    );
    all.extend(crate::web::routes());
    all.extend(crate::browser::routes());
    all
}
