//! Connection admission: a cap per process and per client IP, so idle or
//! slow connections cannot exhaust file descriptors; a refused connection
//! gets the contract's JSON error (503) before it is closed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Counts open connections (a per-process resource: nothing to share).
#[derive(Clone)]
pub struct ConnLimiter {
    total: Arc<Semaphore>,
    per_ip: Arc<Mutex<HashMap<IpAddr, usize>>>,
    max_per_ip: usize,
}

/// Held while a connection is open.
pub struct ConnGuard {
    _permit: OwnedSemaphorePermit,
    per_ip: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        // A poisoned map only means a panic elsewhere; counts stay usable.
        let mut map = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

impl ConnLimiter {
    pub fn new(max_total: usize, max_per_ip: usize) -> ConnLimiter {
        ConnLimiter {
            total: Arc::new(Semaphore::new(max_total.max(1))),
            per_ip: Arc::new(Mutex::new(HashMap::new())),
            max_per_ip: max_per_ip.max(1),
        }
    }

    /// None: over a cap; refuse the connection. `per_ip` false: only the
    /// total cap applies (a trusted proxy).
    pub fn admit(&self, ip: IpAddr, per_ip: bool) -> Option<ConnGuard> {
        let permit = self.total.clone().try_acquire_owned().ok()?;
        let mut map = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(ip).or_insert(0);
        if per_ip && *n >= self.max_per_ip {
            return None;
        }
        *n += 1;
        drop(map);
        Some(ConnGuard {
            _permit: permit,
            per_ip: self.per_ip.clone(),
            ip,
        })
    }
}

/// The whole answer to a connection over a cap: JSON error, server time in
/// header and body, then close.
pub fn refusal(now_ms: i64) -> Vec<u8> {
    let body = format!(
        "{{\"error\":\"unavailable\",\"message\":\"too many open connections; retry shortly\",\"server_time_ms\":{now_ms}}}"
    );
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nx-punch-server-time: {now_ms}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
