//! The forgotten clock-outs the server last told this device of
//! (`sync::requests_fetch`), kept as the server's list in one `meta` value:
//! each answer replaces it whole, so nothing here needs a schema.

use punch_model::rules::forgotten::ForgottenClockOut;

use super::{Db, meta};
use crate::error::Result;

const KEY: &str = "forgotten_clock_outs";

impl Db {
    pub(crate) fn forgotten_clock_outs(&self) -> Result<Vec<ForgottenClockOut>> {
        self.with_store(|s| Ok(meta::get_json(&s.conn, KEY)?.unwrap_or_default()))
    }

    pub(crate) fn save_forgotten_clock_outs(&self, list: &[ForgottenClockOut]) -> Result<()> {
        self.with_store(|s| meta::set_json(&s.conn, KEY, &list))
    }
}
