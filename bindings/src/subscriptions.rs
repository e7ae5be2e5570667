//! Standing subscribers: any number, each with its own handle, so a second
//! screen's Flow or AsyncStream never disconnects the first. The engine has
//! one listener slot; the client fills it once with the fan-out here, which
//! reads the new `Standing` once per change and only when someone listens.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use punch_core::{PunchEngine, SyncListener};

use crate::platform::StandingListener;
use crate::standing::Standing;

type Entry = (u64, Arc<dyn StandingListener>);

/// Everyone listening to one client.
pub(crate) struct Subscribers {
    /// Weak: the engine holds these subscribers as its listener.
    engine: Weak<PunchEngine>,
    next_id: AtomicU64,
    list: Mutex<Vec<Entry>>,
}

impl Subscribers {
    pub(crate) fn new(engine: Weak<PunchEngine>) -> Subscribers {
        Subscribers {
            engine,
            next_id: AtomicU64::new(0),
            list: Mutex::new(Vec::new()),
        }
    }

    fn list(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        // Only pushes and retains happen under it: poison is harmless.
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn add(self: &Arc<Self>, listener: Arc<dyn StandingListener>) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.list().push((id, listener));
        Subscription {
            id,
            subscribers: Arc::downgrade(self),
        }
    }

    fn remove(&self, id: u64) {
        self.list().retain(|(i, _)| *i != id);
    }

    /// Tells every subscriber (outside the lock: a listener may subscribe or cancel).
    fn tell(&self, standing: &Standing) {
        let listeners: Vec<Entry> = self.list().clone();
        for (_, listener) in listeners {
            // A failing listener must not fail the punch or sync that notified it.
            if let Err(e) = listener.on_change(standing.clone()) {
                log::warn!(target: "punchcore", "standing listener failed: {e}");
            }
        }
    }
}

impl SyncListener for Subscribers {
    fn on_status(&self, _status: &punch_core::SyncStatus) {
        if self.list().is_empty() {
            return;
        }
        let Some(engine) = self.engine.upgrade() else {
            return;
        };
        match engine.standing() {
            Ok(standing) => self.tell(&standing.into()),
            Err(e) => log::warn!(target: "punchcore", "cannot read the standing to notify: {e}"),
        }
    }
}

/// One subscriber's handle: it hears every change until `cancel` (or until
/// the handle is closed or collected).
#[derive(uniffi::Object)]
pub struct Subscription {
    id: u64,
    subscribers: Weak<Subscribers>,
}

#[uniffi::export]
impl Subscription {
    /// Stops this subscriber (others keep listening); calling it again does nothing.
    pub fn cancel(&self) {
        if let Some(subscribers) = self.subscribers.upgrade() {
            subscribers.remove(self.id);
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.cancel();
    }
}
