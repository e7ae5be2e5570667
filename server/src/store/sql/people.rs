//! Staff accounts, sessions and API tokens, teams, review verdicts,
//! acknowledged chain breaks and the hash-chained audit log
//! ([`crate::store::people::PeopleTx`]).

use super::{SqlTx, json};
use crate::at_rest::value::Slot;
use crate::error::{Result, ServerError};
use crate::store::db::{self, Lock, Row};
use crate::store::people::{
    ApiTokenRow, AuditRow, ChainAckRow, PersonRow, PunchReviewRow, SessionRow, StaffRow,
};

const STAFF_COLUMNS: &str = "username, display_name, role, team, password_hash, totp_secret, \
     totp_last_step, failed_signins, locked_until_ms, created_at_ms, disabled";

/// A `staff` row, its TOTP seed opened.
fn staff_row(tx: &SqlTx<'_>, mut r: Row) -> Result<StaffRow> {
    let mut row = StaffRow {
        username: r.text()?,
        display_name: r.text()?,
        role: r.text()?,
        team: r.opt_text()?,
        password_hash: r.text()?,
        totp_secret: r.blob()?,
        totp_last_step: r.int()?,
        failed_signins: u32::try_from(r.int()?).unwrap_or(u32::MAX),
        locked_until_ms: r.opt_int()?,
        created_at_ms: r.int()?,
        disabled: r.bool()?,
    };
    let stored = std::mem::take(&mut row.totp_secret);
    row.totp_secret = tx.open(
        &Slot::StaffTotp {
            username: &row.username,
        },
        stored,
    )?;
    Ok(row)
}

pub(super) fn upsert_staff(tx: &SqlTx<'_>, s: &StaffRow) -> Result<()> {
    tx.exec(
        &format!(
            "INSERT INTO staff ({STAFF_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name,
               role = excluded.role, team = excluded.team,
               password_hash = excluded.password_hash, totp_secret = excluded.totp_secret,
               totp_last_step = excluded.totp_last_step,
               failed_signins = excluded.failed_signins,
               locked_until_ms = excluded.locked_until_ms, disabled = excluded.disabled"
        ),
        &[
            (&s.username).into(),
            (&s.display_name).into(),
            (&s.role).into(),
            s.team.as_deref().into(),
            (&s.password_hash).into(),
            tx.seal(
                &Slot::StaffTotp {
                    username: &s.username,
                },
                &s.totp_secret,
            )?,
            s.totp_last_step.into(),
            s.failed_signins.into(),
            s.locked_until_ms.into(),
            s.created_at_ms.into(),
            s.disabled.into(),
        ],
    )?;
    Ok(())
}

/// In a write transaction the row is locked: sign-in counts its failures
/// (and account changes apply) one at a time.
pub(super) fn staff(tx: &SqlTx<'_>, username: &str) -> Result<Option<StaffRow>> {
    let lock = tx.db.dialect().for_update(tx.db.write());
    tx.first(
        &format!("SELECT {STAFF_COLUMNS} FROM staff WHERE username = ?1{lock}"),
        &[username.into()],
        |r| staff_row(tx, r),
    )
}

pub(super) fn staff_list(tx: &SqlTx<'_>) -> Result<Vec<StaffRow>> {
    tx.all(
        &format!("SELECT {STAFF_COLUMNS} FROM staff ORDER BY username"),
        &[],
        |r| staff_row(tx, r),
    )
}

pub(super) fn set_signin_state(
    tx: &SqlTx<'_>,
    username: &str,
    failed: u32,
    locked_until_ms: Option<i64>,
    totp_last_step: i64,
) -> Result<()> {
    tx.exec(
        "UPDATE staff SET failed_signins = ?2, locked_until_ms = ?3, totp_last_step = ?4
         WHERE username = ?1",
        &[
            username.into(),
            failed.into(),
            locked_until_ms.into(),
            totp_last_step.into(),
        ],
    )?;
    Ok(())
}

pub(super) fn insert_session(tx: &SqlTx<'_>, s: &SessionRow) -> Result<()> {
    tx.exec(
        "INSERT INTO staff_sessions (id_hash, username, csrf_token, created_at_ms, expires_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        &[
            (&s.id_hash).into(),
            (&s.username).into(),
            (&s.csrf_token).into(),
            s.created_at_ms.into(),
            s.expires_at_ms.into(),
        ],
    )?;
    Ok(())
}

pub(super) fn session(tx: &SqlTx<'_>, id_hash: &str) -> Result<Option<SessionRow>> {
    tx.first(
        "SELECT id_hash, username, csrf_token, created_at_ms, expires_at_ms
         FROM staff_sessions WHERE id_hash = ?1",
        &[id_hash.into()],
        |mut r| {
            Ok(SessionRow {
                id_hash: r.text()?,
                username: r.text()?,
                csrf_token: r.text()?,
                created_at_ms: r.int()?,
                expires_at_ms: r.int()?,
            })
        },
    )
}

pub(super) fn delete_session(tx: &SqlTx<'_>, id_hash: &str) -> Result<()> {
    tx.exec(
        "DELETE FROM staff_sessions WHERE id_hash = ?1",
        &[id_hash.into()],
    )?;
    Ok(())
}

pub(super) fn delete_sessions_of(tx: &SqlTx<'_>, username: &str) -> Result<u64> {
    tx.exec(
        "DELETE FROM staff_sessions WHERE username = ?1",
        &[username.into()],
    )
}

const TOKEN_COLUMNS: &str = "token_hash, token_id, username, name, scopes, created_at_ms, \
     expires_at_ms, revoked_at_ms";

fn token_row(mut r: Row) -> Result<ApiTokenRow> {
    Ok(ApiTokenRow {
        token_hash: r.text()?,
        token_id: r.text()?,
        username: r.text()?,
        name: r.text()?,
        scopes: serde_json::from_str(&r.text()?)
            .map_err(|e| ServerError::Corrupt(format!("stored scopes: {e}")))?,
        created_at_ms: r.int()?,
        expires_at_ms: r.int()?,
        revoked_at_ms: r.opt_int()?,
    })
}

pub(super) fn insert_api_token(tx: &SqlTx<'_>, t: &ApiTokenRow) -> Result<()> {
    tx.exec(
        &format!(
            "INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ),
        &[
            (&t.token_hash).into(),
            (&t.token_id).into(),
            (&t.username).into(),
            (&t.name).into(),
            json("scopes", &t.scopes)?.into(),
            t.created_at_ms.into(),
            t.expires_at_ms.into(),
            t.revoked_at_ms.into(),
        ],
    )?;
    Ok(())
}

pub(super) fn api_token(tx: &SqlTx<'_>, token_hash: &str) -> Result<Option<ApiTokenRow>> {
    tx.first(
        &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ?1"),
        &[token_hash.into()],
        token_row,
    )
}

pub(super) fn api_tokens(tx: &SqlTx<'_>, username: Option<&str>) -> Result<Vec<ApiTokenRow>> {
    tx.all(
        &format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens
             WHERE (CAST(?1 AS TEXT) IS NULL OR username = ?1)
             ORDER BY created_at_ms, token_id"
        ),
        &[username.into()],
        token_row,
    )
}

pub(super) fn revoke_api_tokens(
    tx: &SqlTx<'_>,
    username: &str,
    token_id: Option<&str>,
    now_ms: i64,
) -> Result<u64> {
    tx.exec(
        "UPDATE api_tokens SET revoked_at_ms = ?3
         WHERE username = ?1 AND (CAST(?2 AS TEXT) IS NULL OR token_id = ?2)
           AND revoked_at_ms IS NULL",
        &[username.into(), token_id.into(), now_ms.into()],
    )
}

pub(super) fn set_team(tx: &SqlTx<'_>, employee_id: &str, team: Option<&str>) -> Result<bool> {
    let known = tx
        .opt(
            "SELECT 1 FROM employees WHERE employee_id = ?1",
            &[employee_id.into()],
        )?
        .is_some();
    if !known {
        return Ok(false);
    }
    match team {
        Some(team) => tx.exec(
            "INSERT INTO employee_teams (employee_id, team) VALUES (?1, ?2)
             ON CONFLICT (employee_id) DO UPDATE SET team = excluded.team",
            &[employee_id.into(), team.into()],
        )?,
        None => tx.exec(
            "DELETE FROM employee_teams WHERE employee_id = ?1",
            &[employee_id.into()],
        )?,
    };
    Ok(true)
}

pub(super) fn team_of(tx: &SqlTx<'_>, employee_id: &str) -> Result<Option<String>> {
    tx.first(
        "SELECT team FROM employee_teams WHERE employee_id = ?1",
        &[employee_id.into()],
        |mut r| r.text(),
    )
}

fn person_row(mut r: Row) -> Result<PersonRow> {
    Ok(PersonRow {
        employee_id: r.text()?,
        name: r.text()?,
        team: r.opt_text()?,
    })
}

pub(super) fn people_page(
    tx: &SqlTx<'_>,
    after: Option<&str>,
    team: Option<&str>,
    limit: usize,
) -> Result<Vec<PersonRow>> {
    tx.all(
        "SELECT e.employee_id, e.name, t.team FROM employees e
         LEFT JOIN employee_teams t ON t.employee_id = e.employee_id
         WHERE e.employee_id > ?1 AND (CAST(?2 AS TEXT) IS NULL OR t.team = ?2)
         ORDER BY e.employee_id LIMIT ?3",
        &[after.unwrap_or("").into(), team.into(), db::limit(limit)],
        person_row,
    )
}

/// Every employee: for CLI commands and exports, never a request path.
pub(super) fn people(tx: &SqlTx<'_>) -> Result<Vec<PersonRow>> {
    tx.all(
        "SELECT e.employee_id, e.name, t.team FROM employees e
         LEFT JOIN employee_teams t ON t.employee_id = e.employee_id
         ORDER BY e.employee_id",
        &[],
        person_row,
    )
}

const REVIEW_COLUMNS: &str = "device_id, seq, verdict, comment, reviewer, at_ms";

fn review_row(mut r: Row) -> Result<PunchReviewRow> {
    Ok(PunchReviewRow {
        device_id: r.text()?,
        seq: r.u64()?,
        verdict: r.text()?,
        comment: r.text()?,
        reviewer: r.text()?,
        at_ms: r.int()?,
    })
}

pub(super) fn set_punch_review(tx: &SqlTx<'_>, r: &PunchReviewRow) -> Result<()> {
    tx.exec(
        &format!(
            "INSERT INTO punch_reviews ({REVIEW_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (device_id, seq) DO UPDATE SET verdict = excluded.verdict,
               comment = excluded.comment, reviewer = excluded.reviewer, at_ms = excluded.at_ms"
        ),
        &[
            (&r.device_id).into(),
            db::int(r.seq)?,
            (&r.verdict).into(),
            (&r.comment).into(),
            (&r.reviewer).into(),
            r.at_ms.into(),
        ],
    )?;
    Ok(())
}

pub(super) fn punch_review(
    tx: &SqlTx<'_>,
    device_id: &str,
    seq: u64,
) -> Result<Option<PunchReviewRow>> {
    let Some(seq) = db::lookup(seq) else {
        return Ok(None);
    };
    tx.first(
        &format!("SELECT {REVIEW_COLUMNS} FROM punch_reviews WHERE device_id = ?1 AND seq = ?2"),
        &[device_id.into(), seq],
        review_row,
    )
}

/// Every verdict: for CLI commands and exports, never a request path.
pub(super) fn punch_reviews(tx: &SqlTx<'_>) -> Result<Vec<PunchReviewRow>> {
    tx.all(
        &format!("SELECT {REVIEW_COLUMNS} FROM punch_reviews ORDER BY device_id, seq"),
        &[],
        review_row,
    )
}

const ACK_COLUMNS: &str =
    "id, device_id, head_seq, head_hash, reason, acknowledged_by, at_ms, applied_at_ms";

pub(super) fn insert_chain_ack(tx: &SqlTx<'_>, a: &ChainAckRow) -> Result<i64> {
    tx.first(
        "INSERT INTO chain_acks (device_id, head_seq, head_hash, reason, acknowledged_by,
                                 at_ms, applied_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        &[
            (&a.device_id).into(),
            db::int(a.head_seq)?,
            (&a.head_hash).into(),
            (&a.reason).into(),
            (&a.acknowledged_by).into(),
            a.at_ms.into(),
            a.applied_at_ms.into(),
        ],
        |mut r| r.int(),
    )?
    .ok_or_else(|| ServerError::Corrupt("insert returned no id".into()))
}

fn ack_row(mut r: Row) -> Result<ChainAckRow> {
    Ok(ChainAckRow {
        id: r.int()?,
        device_id: r.text()?,
        head_seq: r.u64()?,
        head_hash: r.text()?,
        reason: r.text()?,
        acknowledged_by: r.text()?,
        at_ms: r.int()?,
        applied_at_ms: r.opt_int()?,
    })
}

pub(super) fn latest_chain_ack(tx: &SqlTx<'_>, device_id: &str) -> Result<Option<ChainAckRow>> {
    tx.first(
        &format!(
            "SELECT {ACK_COLUMNS} FROM chain_acks WHERE device_id = ?1 ORDER BY id DESC LIMIT 1"
        ),
        &[device_id.into()],
        ack_row,
    )
}

/// Every acknowledgement of the device, oldest first (the chain audit).
pub(super) fn chain_acks(tx: &SqlTx<'_>, device_id: &str) -> Result<Vec<ChainAckRow>> {
    tx.all(
        &format!("SELECT {ACK_COLUMNS} FROM chain_acks WHERE device_id = ?1 ORDER BY id"),
        &[device_id.into()],
        ack_row,
    )
}

pub(super) fn mark_chain_ack_applied(tx: &SqlTx<'_>, id: i64, now_ms: i64) -> Result<()> {
    tx.exec(
        "UPDATE chain_acks SET applied_at_ms = ?2 WHERE id = ?1 AND applied_at_ms IS NULL",
        &[id.into(), now_ms.into()],
    )?;
    Ok(())
}

/// The audit head, locked until the transaction ends so appends from
/// several servers take turns.
pub(super) fn lock_audit_head(tx: &SqlTx<'_>) -> Result<Option<(u64, String)>> {
    tx.lock(Lock::AuditHead)?;
    tx.first(
        "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
        &[],
        |mut r| Ok((r.u64()?, r.text()?)),
    )
}

const AUDIT_COLUMNS: &str =
    "seq, at_ms, actor, role, action, target, reason, detail, prev_hash, hash";

pub(super) fn append_audit(tx: &SqlTx<'_>, a: &AuditRow) -> Result<()> {
    tx.exec(
        &format!(
            "INSERT INTO audit_log ({AUDIT_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        &[
            db::int(a.seq)?,
            a.at_ms.into(),
            (&a.actor).into(),
            (&a.role).into(),
            (&a.action).into(),
            (&a.target).into(),
            (&a.reason).into(),
            (&a.detail).into(),
            (&a.prev_hash).into(),
            (&a.hash).into(),
        ],
    )?;
    Ok(())
}

pub(super) fn audit_rows(tx: &SqlTx<'_>, after_seq: u64, limit: u32) -> Result<Vec<AuditRow>> {
    tx.all(
        &format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
        &[db::after(after_seq), limit.into()],
        |mut r| {
            Ok(AuditRow {
                seq: r.u64()?,
                at_ms: r.int()?,
                actor: r.text()?,
                role: r.text()?,
                action: r.text()?,
                target: r.text()?,
                reason: r.text()?,
                detail: r.text()?,
                prev_hash: r.text()?,
                hash: r.text()?,
            })
        },
    )
}
