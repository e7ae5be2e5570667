//! Status subscribers: any number, each with its own handle, so a second
//! screen's Flow or AsyncStream never disconnects the first. The engine has
//! one listener slot; the client fills it once with the fan-out here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use punch_core::SyncListener;

use crate::platform::StatusListener;

type Entry = (u64, Arc<dyn StatusListener>);

/// Everyone listening to one client.
#[derive(Default)]
pub(crate) struct Subscribers {
    next_id: AtomicU64,
    list: Mutex<Vec<Entry>>,
}

impl Subscribers {
    fn list(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        // Only pushes and retains happen under it: poison is harmless.
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn add(self: &Arc<Self>, listener: Arc<dyn StatusListener>) -> StatusSubscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.list().push((id, listener));
        StatusSubscription {
            id,
            subscribers: Arc::downgrade(self),
        }
    }

    fn remove(&self, id: u64) {
        self.list().retain(|(i, _)| *i != id);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.list().len()
    }
}

impl SyncListener for Subscribers {
    fn on_status(&self, status: &punch_core::SyncStatus) {
        // Called outside the lock: a listener may subscribe or cancel.
        let listeners: Vec<Entry> = self.list().clone();
        for (_, listener) in listeners {
            // A failing listener must not fail the punch or sync that notified it.
            if let Err(e) = listener.on_status(status.clone().into()) {
                log::warn!(target: "punchcore", "status listener failed: {e}");
            }
        }
    }
}

/// One subscriber's handle: it hears every status change until `cancel`
/// (or until the handle is closed or collected).
#[derive(uniffi::Object)]
pub struct StatusSubscription {
    id: u64,
    subscribers: Weak<Subscribers>,
}

#[uniffi::export]
impl StatusSubscription {
    /// Stops this subscriber (others keep listening); calling it again does nothing.
    pub fn cancel(&self) {
        if let Some(subscribers) = self.subscribers.upgrade() {
            subscribers.remove(self.id);
        }
    }
}

impl Drop for StatusSubscription {
    fn drop(&mut self) {
        self.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::PlatformError;
    use crate::types::SyncStatus;

    #[derive(Default)]
    struct Counter(AtomicU64);

    impl StatusListener for Counter {
        fn on_status(&self, _status: SyncStatus) -> Result<(), PlatformError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[test]
    fn each_subscriber_hears_until_its_own_cancel() {
        let subscribers = Arc::new(Subscribers::default());
        let (a, b) = (Arc::new(Counter::default()), Arc::new(Counter::default()));
        let sub_a = subscribers.add(a.clone());
        let sub_b = subscribers.add(b.clone());
        let status = punch_core::SyncStatus {
            pending: 0,
            uploaded: 0,
            rejected: 0,
            last_success_ms: None,
            last_error: None,
            next_attempt_ms: None,
            consecutive_failures: 0,
            policy_version: None,
            anchored: false,
            server_head_mismatch: None,
        };
        subscribers.on_status(&status);
        sub_a.cancel();
        subscribers.on_status(&status);
        assert_eq!(a.0.load(Ordering::SeqCst), 1);
        assert_eq!(b.0.load(Ordering::SeqCst), 2);
        drop(sub_b);
        assert_eq!(subscribers.len(), 0);
    }
}
