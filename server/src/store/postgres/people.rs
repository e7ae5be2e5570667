//! [`PeopleTx`] on PostgreSQL (migration `0006_people.sql`).

use tokio_postgres::Row;

use super::{PgTx, int, sql};
use crate::error::{Result, ServerError};
use crate::store::people::{
    ApiTokenRow, AuditRow, ChainAckRow, PeopleTx, PersonRow, PunchReviewRow, SessionRow, StaffRow,
};

/// Any constant: audit appends from several servers take turns.
const AUDIT_LOCK: i64 = 0x7075_6e63_685f_6175; // "punch_au"

const STAFF_COLUMNS: &str = "username, display_name, role, team, password_hash, totp_secret, \
     totp_last_step, failed_signins, locked_until_ms, created_at_ms, disabled";

fn staff_row(r: &Row) -> Result<StaffRow> {
    let failed: i64 = r.try_get(7)?;
    Ok(StaffRow {
        username: r.try_get(0)?,
        display_name: r.try_get(1)?,
        role: r.try_get(2)?,
        team: r.try_get(3)?,
        password_hash: r.try_get(4)?,
        totp_secret: r.try_get(5)?,
        totp_last_step: r.try_get(6)?,
        failed_signins: u32::try_from(failed).unwrap_or(u32::MAX),
        locked_until_ms: r.try_get(8)?,
        created_at_ms: r.try_get(9)?,
        disabled: r.try_get(10)?,
    })
}

fn token_row(r: &Row) -> Result<ApiTokenRow> {
    let scopes: String = r.try_get(4)?;
    Ok(ApiTokenRow {
        token_hash: r.try_get(0)?,
        token_id: r.try_get(1)?,
        username: r.try_get(2)?,
        name: r.try_get(3)?,
        scopes: serde_json::from_str(&scopes)
            .map_err(|e| ServerError::Corrupt(format!("stored scopes: {e}")))?,
        created_at_ms: r.try_get(5)?,
        expires_at_ms: r.try_get(6)?,
        revoked_at_ms: r.try_get(7)?,
    })
}

const AUDIT_COLUMNS: &str =
    "seq, at_ms, actor, role, action, target, reason, detail, prev_hash, hash";

fn audit_row(r: &Row) -> Result<AuditRow> {
    Ok(AuditRow {
        seq: int(r.try_get(0)?),
        at_ms: r.try_get(1)?,
        actor: r.try_get(2)?,
        role: r.try_get(3)?,
        action: r.try_get(4)?,
        target: r.try_get(5)?,
        reason: r.try_get(6)?,
        detail: r.try_get(7)?,
        prev_hash: r.try_get(8)?,
        hash: r.try_get(9)?,
    })
}

const ACK_COLUMNS: &str =
    "id, device_id, head_seq, head_hash, reason, acknowledged_by, at_ms, applied_at_ms";

fn ack_row(r: &Row) -> Result<ChainAckRow> {
    Ok(ChainAckRow {
        id: r.try_get(0)?,
        device_id: r.try_get(1)?,
        head_seq: int(r.try_get(2)?),
        head_hash: r.try_get(3)?,
        reason: r.try_get(4)?,
        acknowledged_by: r.try_get(5)?,
        at_ms: r.try_get(6)?,
        applied_at_ms: r.try_get(7)?,
    })
}

impl PeopleTx for PgTx<'_, '_> {
    fn upsert_staff(&self, s: &StaffRow) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO staff ({STAFF_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name,
                   role = excluded.role, team = excluded.team,
                   password_hash = excluded.password_hash, totp_secret = excluded.totp_secret,
                   totp_last_step = excluded.totp_last_step,
                   failed_signins = excluded.failed_signins,
                   locked_until_ms = excluded.locked_until_ms, disabled = excluded.disabled"
            ),
            &[
                &s.username,
                &s.display_name,
                &s.role,
                &s.team,
                &s.password_hash,
                &s.totp_secret,
                &s.totp_last_step,
                &i64::from(s.failed_signins),
                &s.locked_until_ms,
                &s.created_at_ms,
                &s.disabled,
            ],
        )?;
        Ok(())
    }

    fn staff(&self, username: &str) -> Result<Option<StaffRow>> {
        // In a write transaction the row is locked: sign-in counts its
        // failures (and account changes apply) one at a time.
        let lock = if self.write { " FOR UPDATE" } else { "" };
        self.opt(
            &format!("SELECT {STAFF_COLUMNS} FROM staff WHERE username = $1{lock}"),
            &[&username],
        )?
        .as_ref()
        .map(staff_row)
        .transpose()
    }

    fn staff_list(&self) -> Result<Vec<StaffRow>> {
        self.query(
            &format!("SELECT {STAFF_COLUMNS} FROM staff ORDER BY username"),
            &[],
        )?
        .iter()
        .map(staff_row)
        .collect()
    }

    fn set_signin_state(
        &self,
        username: &str,
        failed: u32,
        locked_until_ms: Option<i64>,
        totp_last_step: i64,
    ) -> Result<()> {
        self.exec(
            "UPDATE staff SET failed_signins = $2, locked_until_ms = $3, totp_last_step = $4
             WHERE username = $1",
            &[
                &username,
                &i64::from(failed),
                &locked_until_ms,
                &totp_last_step,
            ],
        )?;
        Ok(())
    }

    fn insert_session(&self, s: &SessionRow) -> Result<()> {
        self.exec(
            "INSERT INTO staff_sessions (id_hash, username, csrf_token, created_at_ms, expires_at_ms)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &s.id_hash,
                &s.username,
                &s.csrf_token,
                &s.created_at_ms,
                &s.expires_at_ms,
            ],
        )?;
        Ok(())
    }

    fn session(&self, id_hash: &str) -> Result<Option<SessionRow>> {
        self.opt(
            "SELECT id_hash, username, csrf_token, created_at_ms, expires_at_ms
             FROM staff_sessions WHERE id_hash = $1",
            &[&id_hash],
        )?
        .map(|r| {
            Ok(SessionRow {
                id_hash: r.try_get(0)?,
                username: r.try_get(1)?,
                csrf_token: r.try_get(2)?,
                created_at_ms: r.try_get(3)?,
                expires_at_ms: r.try_get(4)?,
            })
        })
        .transpose()
    }

    fn delete_session(&self, id_hash: &str) -> Result<()> {
        self.exec("DELETE FROM staff_sessions WHERE id_hash = $1", &[&id_hash])?;
        Ok(())
    }

    fn delete_sessions_of(&self, username: &str) -> Result<u64> {
        self.exec(
            "DELETE FROM staff_sessions WHERE username = $1",
            &[&username],
        )
    }

    fn api_tokens(&self, username: Option<&str>) -> Result<Vec<ApiTokenRow>> {
        self.query(
            "SELECT token_hash, token_id, username, name, scopes, created_at_ms,
                    expires_at_ms, revoked_at_ms
             FROM api_tokens WHERE ($1::text IS NULL OR username = $1)
             ORDER BY created_at_ms, token_id",
            &[&username],
        )?
        .iter()
        .map(token_row)
        .collect()
    }

    fn revoke_api_tokens(
        &self,
        username: &str,
        token_id: Option<&str>,
        now_ms: i64,
    ) -> Result<u64> {
        self.exec(
            "UPDATE api_tokens SET revoked_at_ms = $3
             WHERE username = $1 AND ($2::text IS NULL OR token_id = $2)
               AND revoked_at_ms IS NULL",
            &[&username, &token_id, &now_ms],
        )
    }

    fn insert_api_token(&self, t: &ApiTokenRow) -> Result<()> {
        let scopes = serde_json::to_string(&t.scopes)
            .map_err(|e| ServerError::Corrupt(format!("scopes: {e}")))?;
        self.exec(
            "INSERT INTO api_tokens (token_hash, token_id, username, name, scopes, created_at_ms,
                                     expires_at_ms, revoked_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &t.token_hash,
                &t.token_id,
                &t.username,
                &t.name,
                &scopes,
                &t.created_at_ms,
                &t.expires_at_ms,
                &t.revoked_at_ms,
            ],
        )?;
        Ok(())
    }

    fn api_token(&self, token_hash: &str) -> Result<Option<ApiTokenRow>> {
        self.opt(
            "SELECT token_hash, token_id, username, name, scopes, created_at_ms,
                    expires_at_ms, revoked_at_ms
             FROM api_tokens WHERE token_hash = $1",
            &[&token_hash],
        )?
        .as_ref()
        .map(token_row)
        .transpose()
    }

    fn set_team(&self, employee_id: &str, team: Option<&str>) -> Result<bool> {
        let known = self
            .opt(
                "SELECT 1 FROM employees WHERE employee_id = $1",
                &[&employee_id],
            )?
            .is_some();
        if !known {
            return Ok(false);
        }
        match team {
            Some(team) => self.exec(
                "INSERT INTO employee_teams (employee_id, team) VALUES ($1, $2)
                 ON CONFLICT (employee_id) DO UPDATE SET team = excluded.team",
                &[&employee_id, &team],
            )?,
            None => self.exec(
                "DELETE FROM employee_teams WHERE employee_id = $1",
                &[&employee_id],
            )?,
        };
        Ok(true)
    }

    fn team_of(&self, employee_id: &str) -> Result<Option<String>> {
        self.opt(
            "SELECT team FROM employee_teams WHERE employee_id = $1",
            &[&employee_id],
        )?
        .map(|r| Ok(r.try_get(0)?))
        .transpose()
    }

    fn people_page(
        &self,
        after: Option<&str>,
        team: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PersonRow>> {
        self.query(
            "SELECT e.employee_id, e.name, t.team FROM employees e
             LEFT JOIN employee_teams t ON t.employee_id = e.employee_id
             WHERE e.employee_id > $1 AND ($2::TEXT IS NULL OR t.team = $2)
             ORDER BY e.employee_id LIMIT $3",
            &[&after.unwrap_or(""), &team, &(limit as i64)],
        )?
        .iter()
        .map(|r| {
            Ok(PersonRow {
                employee_id: r.try_get(0)?,
                name: r.try_get(1)?,
                team: r.try_get(2)?,
            })
        })
        .collect()
    }

    fn people(&self) -> Result<Vec<PersonRow>> {
        self.query(
            "SELECT e.employee_id, e.name, t.team FROM employees e
             LEFT JOIN employee_teams t ON t.employee_id = e.employee_id
             ORDER BY e.employee_id",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(PersonRow {
                employee_id: r.try_get(0)?,
                name: r.try_get(1)?,
                team: r.try_get(2)?,
            })
        })
        .collect()
    }

    fn set_punch_review(&self, r: &PunchReviewRow) -> Result<()> {
        self.exec(
            "INSERT INTO punch_reviews (device_id, seq, verdict, comment, reviewer, at_ms)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (device_id, seq) DO UPDATE SET verdict = excluded.verdict,
               comment = excluded.comment, reviewer = excluded.reviewer, at_ms = excluded.at_ms",
            &[
                &r.device_id,
                &sql(r.seq),
                &r.verdict,
                &r.comment,
                &r.reviewer,
                &r.at_ms,
            ],
        )?;
        Ok(())
    }

    fn punch_review(&self, device_id: &str, seq: u64) -> Result<Option<PunchReviewRow>> {
        self.opt(
            "SELECT device_id, seq, verdict, comment, reviewer, at_ms FROM punch_reviews
             WHERE device_id = $1 AND seq = $2",
            &[&device_id, &sql(seq)],
        )?
        .map(|r| {
            Ok(PunchReviewRow {
                device_id: r.try_get(0)?,
                seq: int(r.try_get(1)?),
                verdict: r.try_get(2)?,
                comment: r.try_get(3)?,
                reviewer: r.try_get(4)?,
                at_ms: r.try_get(5)?,
            })
        })
        .transpose()
    }

    fn punch_reviews(&self) -> Result<Vec<PunchReviewRow>> {
        self.query(
            "SELECT device_id, seq, verdict, comment, reviewer, at_ms FROM punch_reviews
             ORDER BY device_id, seq",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(PunchReviewRow {
                device_id: r.try_get(0)?,
                seq: int(r.try_get(1)?),
                verdict: r.try_get(2)?,
                comment: r.try_get(3)?,
                reviewer: r.try_get(4)?,
                at_ms: r.try_get(5)?,
            })
        })
        .collect()
    }

    fn insert_chain_ack(&self, a: &ChainAckRow) -> Result<i64> {
        let row = self.one(
            "INSERT INTO chain_acks (device_id, head_seq, head_hash, reason, acknowledged_by,
                                     at_ms, applied_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[
                &a.device_id,
                &sql(a.head_seq),
                &a.head_hash,
                &a.reason,
                &a.acknowledged_by,
                &a.at_ms,
                &a.applied_at_ms,
            ],
        )?;
        Ok(row.try_get(0)?)
    }

    fn latest_chain_ack(&self, device_id: &str) -> Result<Option<ChainAckRow>> {
        self.opt(
            &format!(
                "SELECT {ACK_COLUMNS} FROM chain_acks WHERE device_id = $1
                 ORDER BY id DESC LIMIT 1"
            ),
            &[&device_id],
        )?
        .as_ref()
        .map(ack_row)
        .transpose()
    }

    fn chain_acks(&self, device_id: &str) -> Result<Vec<ChainAckRow>> {
        self.query(
            &format!("SELECT {ACK_COLUMNS} FROM chain_acks WHERE device_id = $1 ORDER BY id"),
            &[&device_id],
        )?
        .iter()
        .map(ack_row)
        .collect()
    }

    fn mark_chain_ack_applied(&self, id: i64, now_ms: i64) -> Result<()> {
        self.exec(
            "UPDATE chain_acks SET applied_at_ms = $2 WHERE id = $1 AND applied_at_ms IS NULL",
            &[&id, &now_ms],
        )?;
        Ok(())
    }

    fn lock_audit_head(&self) -> Result<Option<(u64, String)>> {
        if self.write {
            self.exec("SELECT pg_advisory_xact_lock($1)", &[&AUDIT_LOCK])?;
        }
        self.opt(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            &[],
        )?
        .map(|r| Ok((int(r.try_get(0)?), r.try_get(1)?)))
        .transpose()
    }

    fn append_audit(&self, a: &AuditRow) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ),
            &[
                &sql(a.seq),
                &a.at_ms,
                &a.actor,
                &a.role,
                &a.action,
                &a.target,
                &a.reason,
                &a.detail,
                &a.prev_hash,
                &a.hash,
            ],
        )?;
        Ok(())
    }

    fn audit_rows(&self, after_seq: u64, limit: u32) -> Result<Vec<AuditRow>> {
        self.query(
            &format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"),
            &[&sql(after_seq), &i64::from(limit)],
        )?
        .iter()
        .map(audit_row)
        .collect()
    }
}
