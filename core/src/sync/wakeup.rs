//! Wakes the background thread early (new punch, network back, stop).

use std::sync::{Condvar, Mutex};
use std::time::Duration;

#[derive(Default)]
pub(crate) struct Wakeup {
    pending: Mutex<bool>,
    cv: Condvar,
}

impl Wakeup {
    pub fn wake(&self) {
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cv.notify_all();
    }

    /// Sleeps up to `timeout` or until woken; clears the wake flag.
    pub fn wait(&self, timeout: Duration) {
        let guard = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let (mut guard, _) = self
            .cv
            .wait_timeout_while(guard, timeout, |woken| !*woken)
            .unwrap_or_else(|e| e.into_inner());
        *guard = false;
    }
}
