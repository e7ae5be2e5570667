//! The staff TOTP seeds sealed at rest: [`SealedTx`] is also the
//! [`PeopleTx`] of its transaction, sealing `staff.totp_secret` on the way
//! in and opening it on the way out; the rest passes through.

use crate::error::Result;
use crate::store::people::{
    ApiTokenRow, AuditRow, ChainAckRow, PeopleTx, PersonRow, PunchReviewRow, SessionRow, StaffRow,
};

use super::tx::SealedTx;
use super::value::Slot;

impl SealedTx<'_> {
    fn opened_staff(&self, mut row: StaffRow) -> Result<StaffRow> {
        let stored = std::mem::take(&mut row.totp_secret);
        row.totp_secret = self.open(
            &Slot::StaffTotp {
                username: &row.username,
            },
            stored,
        )?;
        Ok(row)
    }
}

impl PeopleTx for SealedTx<'_> {
    fn upsert_staff(&self, staff: &StaffRow) -> Result<()> {
        let mut sealed = staff.clone();
        sealed.totp_secret = self.seal(
            &Slot::StaffTotp {
                username: &staff.username,
            },
            &staff.totp_secret,
        )?;
        self.inner.people().upsert_staff(&sealed)
    }

    fn staff(&self, username: &str) -> Result<Option<StaffRow>> {
        self.inner
            .people()
            .staff(username)?
            .map(|row| self.opened_staff(row))
            .transpose()
    }

    fn staff_list(&self) -> Result<Vec<StaffRow>> {
        self.inner
            .people()
            .staff_list()?
            .into_iter()
            .map(|row| self.opened_staff(row))
            .collect()
    }

    fn set_signin_state(
        &self,
        username: &str,
        failed: u32,
        locked_until_ms: Option<i64>,
        totp_last_step: i64,
    ) -> Result<()> {
        self.inner
            .people()
            .set_signin_state(username, failed, locked_until_ms, totp_last_step)
    }

    fn insert_session(&self, session: &SessionRow) -> Result<()> {
        self.inner.people().insert_session(session)
    }

    fn session(&self, id_hash: &str) -> Result<Option<SessionRow>> {
        self.inner.people().session(id_hash)
    }

    fn delete_session(&self, id_hash: &str) -> Result<()> {
        self.inner.people().delete_session(id_hash)
    }

    fn delete_sessions_of(&self, username: &str) -> Result<u64> {
        self.inner.people().delete_sessions_of(username)
    }

    fn insert_api_token(&self, token: &ApiTokenRow) -> Result<()> {
        self.inner.people().insert_api_token(token)
    }

    fn api_token(&self, token_hash: &str) -> Result<Option<ApiTokenRow>> {
        self.inner.people().api_token(token_hash)
    }

    fn api_tokens(&self, username: Option<&str>) -> Result<Vec<ApiTokenRow>> {
        self.inner.people().api_tokens(username)
    }

    fn revoke_api_tokens(
        &self,
        username: &str,
        token_id: Option<&str>,
        now_ms: i64,
    ) -> Result<u64> {
        self.inner
            .people()
            .revoke_api_tokens(username, token_id, now_ms)
    }

    fn set_team(&self, employee_id: &str, team: Option<&str>) -> Result<bool> {
        self.inner.people().set_team(employee_id, team)
    }

    fn people(&self) -> Result<Vec<PersonRow>> {
        self.inner.people().people()
    }

    fn people_page(
        &self,
        after: Option<&str>,
        team: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PersonRow>> {
        self.inner.people().people_page(after, team, limit)
    }

    fn team_of(&self, employee_id: &str) -> Result<Option<String>> {
        self.inner.people().team_of(employee_id)
    }

    fn set_punch_review(&self, review: &PunchReviewRow) -> Result<()> {
        self.inner.people().set_punch_review(review)
    }

    fn punch_review(&self, device_id: &str, seq: u64) -> Result<Option<PunchReviewRow>> {
        self.inner.people().punch_review(device_id, seq)
    }

    fn punch_reviews(&self) -> Result<Vec<PunchReviewRow>> {
        self.inner.people().punch_reviews()
    }

    fn insert_chain_ack(&self, ack: &ChainAckRow) -> Result<i64> {
        self.inner.people().insert_chain_ack(ack)
    }

    fn latest_chain_ack(&self, device_id: &str) -> Result<Option<ChainAckRow>> {
        self.inner.people().latest_chain_ack(device_id)
    }

    fn chain_acks(&self, device_id: &str) -> Result<Vec<ChainAckRow>> {
        self.inner.people().chain_acks(device_id)
    }

    fn mark_chain_ack_applied(&self, id: i64, now_ms: i64) -> Result<()> {
        self.inner.people().mark_chain_ack_applied(id, now_ms)
    }

    fn lock_audit_head(&self) -> Result<Option<(u64, String)>> {
        self.inner.people().lock_audit_head()
    }

    fn append_audit(&self, row: &AuditRow) -> Result<()> {
        self.inner.people().append_audit(row)
    }

    fn audit_rows(&self, after_seq: u64, limit: u32) -> Result<Vec<AuditRow>> {
        self.inner.people().audit_rows(after_seq, limit)
    }
}
