//! A thread that syncs while punches are pending, for processes that live
//! long (desktop, kiosk, tests). Phones use WorkManager / BGTaskScheduler
//! calling `sync()` instead.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::syncer::Syncer;

/// The shortest sleep after a failed round.
const MIN_WAIT: Duration = Duration::from_millis(100);

/// Handle to the running thread; `stop()` (or drop) ends it cleanly.
pub struct BackgroundSync {
    stop: Arc<Mutex<bool>>,
    syncer: Arc<Syncer>,
    thread: Option<JoinHandle<()>>,
}

impl BackgroundSync {
    /// Wakes the thread now (e.g. the app regained connectivity).
    pub fn wake(&self) {
        self.syncer.wakeup.wake();
    }

    /// Stops the thread, waiting for an upload in flight to finish.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        *self.stop.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.syncer.wakeup.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for BackgroundSync {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts a thread that syncs at once when punches are pending, every
/// `idle` otherwise (anchor and policy refresh), and backs off after
/// failures. `stop()` waits for a request in flight (at most the request
/// timeout): call it off the main thread.
pub(crate) fn start(syncer: Arc<Syncer>, idle: Duration) -> BackgroundSync {
    let stop = Arc::new(Mutex::new(false));
    let thread_stop = stop.clone();
    let thread_syncer = syncer.clone();
    let thread = std::thread::Builder::new()
        .name("punch-sync".into())
        .spawn(move || background_loop(&thread_syncer, &thread_stop, idle))
        .ok();
    BackgroundSync {
        stop,
        syncer,
        thread,
    }
}

fn background_loop(syncer: &Syncer, stop: &Mutex<bool>, idle: Duration) {
    loop {
        if *stop.lock().unwrap_or_else(|e| e.into_inner()) {
            return;
        }
        // Every round syncs: uploads if anything is pending, otherwise just
        // refreshes the time anchor and picks up a newer policy.
        let wait = match syncer.sync(false) {
            Ok(report) => match report.next_retry_ms {
                Some(next) => {
                    let now = syncer.device.now().wall_time_ms;
                    // Never a busy loop, whatever the clock says.
                    Duration::from_millis(u64::try_from(next.saturating_sub(now)).unwrap_or(0))
                        .max(MIN_WAIT)
                }
                // What waits for HR's approval of a new key does not go
                // up by trying again at once.
                None if report.remaining > 0 && report.key_rotation_pending.is_none() => {
                    Duration::ZERO
                }
                None => idle,
            },
            // Local trouble (not enrolled yet, database busy): try again later.
            Err(_) => idle,
        };
        if !wait.is_zero() {
            syncer.wakeup.wait(wait);
        }
    }
}
