//! [`PeopleTx`] on SQLite, and the migration that adds its tables.

use rusqlite::{OptionalExtension, Row, params};

use super::{Sql, int, sql};
use crate::error::{Result, ServerError};
use crate::store::people::{
    ApiTokenRow, AuditRow, ChainAckRow, PeopleTx, PersonRow, PunchReviewRow, SessionRow, StaffRow,
};

/// Staff, sessions, API tokens, teams, punch reviews, chain acknowledgements
/// and the audit log (append-only: triggers refuse UPDATE and DELETE, so an
/// edit needs someone who can also drop triggers — and the hash chain shows it).
pub(super) const MIGRATION_9_PEOPLE: &str = "
CREATE TABLE staff (
    username         TEXT PRIMARY KEY,
    display_name     TEXT NOT NULL,
    role             TEXT NOT NULL,
    team             TEXT,
    password_hash    TEXT NOT NULL,
    totp_secret      BLOB NOT NULL,
    totp_last_step   INTEGER NOT NULL DEFAULT 0,
    failed_signins   INTEGER NOT NULL DEFAULT 0,
    locked_until_ms  INTEGER,
    created_at_ms    INTEGER NOT NULL,
    disabled         INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE staff_sessions (
    id_hash        TEXT PRIMARY KEY,
    username       TEXT NOT NULL REFERENCES staff (username),
    csrf_token     TEXT NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    expires_at_ms  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE api_tokens (
    token_hash     TEXT PRIMARY KEY,
    token_id       TEXT NOT NULL UNIQUE,
    username       TEXT NOT NULL REFERENCES staff (username),
    name           TEXT NOT NULL,
    scopes         TEXT NOT NULL,              -- JSON list of permission names
    created_at_ms  INTEGER NOT NULL,
    expires_at_ms  INTEGER NOT NULL,
    revoked_at_ms  INTEGER
) WITHOUT ROWID;
CREATE TABLE employee_teams (
    employee_id  TEXT PRIMARY KEY REFERENCES employees (employee_id),
    team         TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE punch_reviews (
    device_id  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    verdict    TEXT NOT NULL,
    comment    TEXT NOT NULL,
    reviewer   TEXT NOT NULL,
    at_ms      INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
CREATE TABLE chain_acks (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id        TEXT NOT NULL,
    head_seq         INTEGER NOT NULL,
    head_hash        TEXT NOT NULL,
    reason           TEXT NOT NULL,
    acknowledged_by  TEXT NOT NULL,
    at_ms            INTEGER NOT NULL,
    applied_at_ms    INTEGER
);
CREATE INDEX chain_acks_device ON chain_acks (device_id, id);
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at_ms      INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    role       TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
";

const STAFF_COLUMNS: &str = "username, display_name, role, team, password_hash, totp_secret, \
     totp_last_step, failed_signins, locked_until_ms, created_at_ms, disabled";

fn staff_row(r: &Row<'_>) -> rusqlite::Result<StaffRow> {
    Ok(StaffRow {
        username: r.get(0)?,
        display_name: r.get(1)?,
        role: r.get(2)?,
        team: r.get(3)?,
        password_hash: r.get(4)?,
        totp_secret: r.get(5)?,
        totp_last_step: r.get(6)?,
        failed_signins: r.get(7)?,
        locked_until_ms: r.get(8)?,
        created_at_ms: r.get(9)?,
        disabled: r.get(10)?,
    })
}

const AUDIT_COLUMNS: &str =
    "seq, at_ms, actor, role, action, target, reason, detail, prev_hash, hash";

fn audit_row(r: &Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        seq: int(r.get(0)?),
        at_ms: r.get(1)?,
        actor: r.get(2)?,
        role: r.get(3)?,
        action: r.get(4)?,
        target: r.get(5)?,
        reason: r.get(6)?,
        detail: r.get(7)?,
        prev_hash: r.get(8)?,
        hash: r.get(9)?,
    })
}

const ACK_COLUMNS: &str =
    "id, device_id, head_seq, head_hash, reason, acknowledged_by, at_ms, applied_at_ms";

fn ack_row(r: &Row<'_>) -> rusqlite::Result<ChainAckRow> {
    Ok(ChainAckRow {
        id: r.get(0)?,
        device_id: r.get(1)?,
        head_seq: int(r.get(2)?),
        head_hash: r.get(3)?,
        reason: r.get(4)?,
        acknowledged_by: r.get(5)?,
        at_ms: r.get(6)?,
        applied_at_ms: r.get(7)?,
    })
}

fn scopes_json(scopes: &[String]) -> Result<String> {
    serde_json::to_string(scopes).map_err(|e| ServerError::Corrupt(format!("scopes: {e}")))
}

impl PeopleTx for Sql<'_> {
    fn upsert_staff(&self, s: &StaffRow) -> Result<()> {
        self.0.execute(
            &format!(
                "INSERT INTO staff ({STAFF_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name,
                   role = excluded.role, team = excluded.team,
                   password_hash = excluded.password_hash, totp_secret = excluded.totp_secret,
                   totp_last_step = excluded.totp_last_step,
                   failed_signins = excluded.failed_signins,
                   locked_until_ms = excluded.locked_until_ms, disabled = excluded.disabled"
            ),
            params![
                s.username,
                s.display_name,
                s.role,
                s.team,
                s.password_hash,
                s.totp_secret,
                s.totp_last_step,
                s.failed_signins,
                s.locked_until_ms,
                s.created_at_ms,
                s.disabled
            ],
        )?;
        Ok(())
    }

    fn staff(&self, username: &str) -> Result<Option<StaffRow>> {
        Ok(self
            .0
            .query_row(
                &format!("SELECT {STAFF_COLUMNS} FROM staff WHERE username = ?1"),
                [username],
                staff_row,
            )
            .optional()?)
    }

    fn staff_list(&self) -> Result<Vec<StaffRow>> {
        let mut stmt = self.0.prepare(&format!(
            "SELECT {STAFF_COLUMNS} FROM staff ORDER BY username"
        ))?;
        let rows = stmt.query_map([], staff_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn set_signin_state(
        &self,
        username: &str,
        failed: u32,
        locked_until_ms: Option<i64>,
        totp_last_step: i64,
    ) -> Result<()> {
        self.0.execute(
            "UPDATE staff SET failed_signins = ?2, locked_until_ms = ?3, totp_last_step = ?4
             WHERE username = ?1",
            params![username, failed, locked_until_ms, totp_last_step],
        )?;
        Ok(())
    }

    fn insert_session(&self, s: &SessionRow) -> Result<()> {
        self.0.execute(
            "INSERT INTO staff_sessions (id_hash, username, csrf_token, created_at_ms, expires_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![s.id_hash, s.username, s.csrf_token, s.created_at_ms, s.expires_at_ms],
        )?;
        Ok(())
    }

    fn session(&self, id_hash: &str) -> Result<Option<SessionRow>> {
        Ok(self
            .0
            .query_row(
                "SELECT id_hash, username, csrf_token, created_at_ms, expires_at_ms
                 FROM staff_sessions WHERE id_hash = ?1",
                [id_hash],
                |r| {
                    Ok(SessionRow {
                        id_hash: r.get(0)?,
                        username: r.get(1)?,
                        csrf_token: r.get(2)?,
                        created_at_ms: r.get(3)?,
                        expires_at_ms: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    fn delete_session(&self, id_hash: &str) -> Result<()> {
        self.0
            .execute("DELETE FROM staff_sessions WHERE id_hash = ?1", [id_hash])?;
        Ok(())
    }

    fn delete_sessions_of(&self, username: &str) -> Result<u64> {
        let n = self
            .0
            .execute("DELETE FROM staff_sessions WHERE username = ?1", [username])?;
        Ok(n as u64)
    }

    fn api_tokens(&self, username: Option<&str>) -> Result<Vec<ApiTokenRow>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT token_hash, token_id, username, name, scopes, created_at_ms,
                    expires_at_ms, revoked_at_ms
             FROM api_tokens WHERE (?1 IS NULL OR username = ?1)
             ORDER BY created_at_ms, token_id",
        )?;
        let rows = stmt.query_map([username], |r| {
            Ok((
                ApiTokenRow {
                    token_hash: r.get(0)?,
                    token_id: r.get(1)?,
                    username: r.get(2)?,
                    name: r.get(3)?,
                    scopes: Vec::new(),
                    created_at_ms: r.get(5)?,
                    expires_at_ms: r.get(6)?,
                    revoked_at_ms: r.get(7)?,
                },
                r.get::<_, String>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (mut t, scopes) = row?;
            t.scopes = serde_json::from_str(&scopes)
                .map_err(|e| ServerError::Corrupt(format!("stored scopes: {e}")))?;
            Ok(t)
        })
        .collect()
    }

    fn revoke_api_tokens(
        &self,
        username: &str,
        token_id: Option<&str>,
        now_ms: i64,
    ) -> Result<u64> {
        let n = self.0.execute(
            "UPDATE api_tokens SET revoked_at_ms = ?3
             WHERE username = ?1 AND (?2 IS NULL OR token_id = ?2) AND revoked_at_ms IS NULL",
            params![username, token_id, now_ms],
        )?;
        Ok(n as u64)
    }

    fn insert_api_token(&self, t: &ApiTokenRow) -> Result<()> {
        self.0.execute(
            "INSERT INTO api_tokens (token_hash, token_id, username, name, scopes, created_at_ms,
                                     expires_at_ms, revoked_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                t.token_hash,
                t.token_id,
                t.username,
                t.name,
                scopes_json(&t.scopes)?,
                t.created_at_ms,
                t.expires_at_ms,
                t.revoked_at_ms
            ],
        )?;
        Ok(())
    }

    fn api_token(&self, token_hash: &str) -> Result<Option<ApiTokenRow>> {
        let row = self
            .0
            .query_row(
                "SELECT token_hash, token_id, username, name, scopes, created_at_ms,
                        expires_at_ms, revoked_at_ms
                 FROM api_tokens WHERE token_hash = ?1",
                [token_hash],
                |r| {
                    Ok((
                        ApiTokenRow {
                            token_hash: r.get(0)?,
                            token_id: r.get(1)?,
                            username: r.get(2)?,
                            name: r.get(3)?,
                            scopes: Vec::new(),
                            created_at_ms: r.get(5)?,
                            expires_at_ms: r.get(6)?,
                            revoked_at_ms: r.get(7)?,
                        },
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(mut t, scopes)| {
            t.scopes = serde_json::from_str(&scopes)
                .map_err(|e| ServerError::Corrupt(format!("stored scopes: {e}")))?;
            Ok(t)
        })
        .transpose()
    }

    fn set_team(&self, employee_id: &str, team: Option<&str>) -> Result<bool> {
        let known: bool = self.0.query_row(
            "SELECT EXISTS (SELECT 1 FROM employees WHERE employee_id = ?1)",
            [employee_id],
            |r| r.get(0),
        )?;
        if !known {
            return Ok(false);
        }
        match team {
            Some(team) => self.0.execute(
                "INSERT INTO employee_teams (employee_id, team) VALUES (?1, ?2)
                 ON CONFLICT (employee_id) DO UPDATE SET team = excluded.team",
                params![employee_id, team],
            )?,
            None => self.0.execute(
                "DELETE FROM employee_teams WHERE employee_id = ?1",
                [employee_id],
            )?,
        };
        Ok(true)
    }

    fn team_of(&self, employee_id: &str) -> Result<Option<String>> {
        Ok(self
            .0
            .prepare_cached("SELECT team FROM employee_teams WHERE employee_id = ?1")?
            .query_row([employee_id], |r| r.get(0))
            .optional()?)
    }

    fn people_page(
        &self,
        after: Option<&str>,
        team: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PersonRow>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT e.employee_id, e.name, t.team FROM employees e
             LEFT JOIN employee_teams t ON t.employee_id = e.employee_id
             WHERE e.employee_id > ?1 AND (?2 IS NULL OR t.team = ?2)
             ORDER BY e.employee_id LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![after.unwrap_or(""), team, limit as i64], |r| {
            Ok(PersonRow {
                employee_id: r.get(0)?,
                name: r.get(1)?,
                team: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn people(&self) -> Result<Vec<PersonRow>> {
        let mut stmt = self.0.prepare(
            "SELECT e.employee_id, e.name, t.team FROM employees e
             LEFT JOIN employee_teams t ON t.employee_id = e.employee_id
             ORDER BY e.employee_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(PersonRow {
                employee_id: r.get(0)?,
                name: r.get(1)?,
                team: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn set_punch_review(&self, r: &PunchReviewRow) -> Result<()> {
        self.0.execute(
            "INSERT INTO punch_reviews (device_id, seq, verdict, comment, reviewer, at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (device_id, seq) DO UPDATE SET verdict = excluded.verdict,
               comment = excluded.comment, reviewer = excluded.reviewer, at_ms = excluded.at_ms",
            params![
                r.device_id,
                sql(r.seq),
                r.verdict,
                r.comment,
                r.reviewer,
                r.at_ms
            ],
        )?;
        Ok(())
    }

    fn punch_review(&self, device_id: &str, seq: u64) -> Result<Option<PunchReviewRow>> {
        Ok(self
            .0
            .query_row(
                "SELECT device_id, seq, verdict, comment, reviewer, at_ms FROM punch_reviews
                 WHERE device_id = ?1 AND seq = ?2",
                params![device_id, sql(seq)],
                |r| {
                    Ok(PunchReviewRow {
                        device_id: r.get(0)?,
                        seq: int(r.get(1)?),
                        verdict: r.get(2)?,
                        comment: r.get(3)?,
                        reviewer: r.get(4)?,
                        at_ms: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    fn punch_reviews(&self) -> Result<Vec<PunchReviewRow>> {
        let mut stmt = self.0.prepare(
            "SELECT device_id, seq, verdict, comment, reviewer, at_ms FROM punch_reviews
             ORDER BY device_id, seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(PunchReviewRow {
                device_id: r.get(0)?,
                seq: int(r.get(1)?),
                verdict: r.get(2)?,
                comment: r.get(3)?,
                reviewer: r.get(4)?,
                at_ms: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn insert_chain_ack(&self, a: &ChainAckRow) -> Result<i64> {
        self.0.execute(
            "INSERT INTO chain_acks (device_id, head_seq, head_hash, reason, acknowledged_by,
                                     at_ms, applied_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                a.device_id,
                sql(a.head_seq),
                a.head_hash,
                a.reason,
                a.acknowledged_by,
                a.at_ms,
                a.applied_at_ms
            ],
        )?;
        Ok(self.0.last_insert_rowid())
    }

    fn latest_chain_ack(&self, device_id: &str) -> Result<Option<ChainAckRow>> {
        Ok(self
            .0
            .query_row(
                &format!(
                    "SELECT {ACK_COLUMNS} FROM chain_acks WHERE device_id = ?1
                     ORDER BY id DESC LIMIT 1"
                ),
                [device_id],
                ack_row,
            )
            .optional()?)
    }

    fn chain_acks(&self, device_id: &str) -> Result<Vec<ChainAckRow>> {
        let mut stmt = self.0.prepare(&format!(
            "SELECT {ACK_COLUMNS} FROM chain_acks WHERE device_id = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([device_id], ack_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn mark_chain_ack_applied(&self, id: i64, now_ms: i64) -> Result<()> {
        self.0.execute(
            "UPDATE chain_acks SET applied_at_ms = ?2 WHERE id = ?1 AND applied_at_ms IS NULL",
            params![id, now_ms],
        )?;
        Ok(())
    }

    fn lock_audit_head(&self) -> Result<Option<(u64, String)>> {
        // The write transaction (BEGIN IMMEDIATE) already excludes other writers.
        Ok(self
            .0
            .query_row(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((int(r.get(0)?), r.get(1)?)),
            )
            .optional()?)
    }

    fn append_audit(&self, a: &AuditRow) -> Result<()> {
        self.0.execute(
            &format!(
                "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ),
            params![
                sql(a.seq),
                a.at_ms,
                a.actor,
                a.role,
                a.action,
                a.target,
                a.reason,
                a.detail,
                a.prev_hash,
                a.hash
            ],
        )?;
        Ok(())
    }

    fn audit_rows(&self, after_seq: u64, limit: u32) -> Result<Vec<AuditRow>> {
        let mut stmt = self.0.prepare(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![sql(after_seq), limit], audit_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
