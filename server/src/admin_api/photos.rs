//! The photo taken at a punch, for the reviewer: what the signed record
//! names (in the punch's detail) and the bytes themselves, served as the
//! image they are to the same people who may see the punch.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::admin_api::PATH_PUNCH_PHOTO;
use crate::admin_api::auth::call;
use crate::admin_api::error::AdminError;
use crate::api::AppState;
use crate::staff::Permission;
use crate::store::photos::PunchPhotoRow;
use crate::store::{StoreExt, StoredPunchInfo};

/// The photo a punch names, as the punch's detail shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PhotoView {
    pub sha256: String,
    pub size_bytes: u64,
    pub media_type: String,
    /// Whether the bytes arrived (and are not erased or purged).
    pub received: bool,
    /// Where the image is served (only when received).
    pub url: Option<String>,
}

pub(crate) fn photo_view(
    photo: Option<(PunchPhotoRow, bool)>,
    punch: &StoredPunchInfo,
) -> Option<PhotoView> {
    photo.map(|(row, received)| PhotoView {
        url: received.then(|| {
            PATH_PUNCH_PHOTO
                .replace("{device_id}", &punch.device_id)
                .replace("{seq}", &punch.seq.to_string())
        }),
        sha256: row.sha256,
        size_bytes: row.size_bytes,
        media_type: row.media_type,
        received,
    })
}

/// `GET /admin/v1/punches/{device_id}/{seq}/photo`: the image bytes.
pub async fn image(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path((device_id, seq)): Path<(String, u64)>,
) -> Result<Response, AdminError> {
    let (media_type, body) = call(
        &state,
        headers,
        method,
        Permission::ViewPunches,
        move |s, actor, _| {
            let found = s.store.read(|tx| {
                let Some((photo, _)) = tx.photos().photo_of_punch(&device_id, seq)? else {
                    return Ok(None);
                };
                let team = tx.people().team_of(&photo.employee_id)?;
                let bytes = tx.events().attachment(&photo.employee_id, &photo.sha256)?;
                Ok(Some((photo.media_type, team, bytes)))
            })?;
            let Some((media_type, team, bytes)) = found else {
                return Err(AdminError::not_found("no photo for this punch"));
            };
            if !actor.sees_team(team.as_deref()) {
                return Err(AdminError::not_your_team());
            }
            let Some(attachment) = bytes else {
                return Err(AdminError::not_found(
                    "the photo has not arrived, or was removed",
                ));
            };
            Ok((media_type, attachment.body))
        },
    )
    .await?;
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    // Checked at upload to be `image/…`; anything else is served as bytes.
    let content_type = HeaderValue::from_str(&media_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(resp)
}
