//! How the async API runs over a blocking core. The engine blocks (SQLite
//! commits, signer and HTTP waits), so each exported async call runs its
//! body on a worker thread of this library and its future only waits for
//! the answer: no Kotlin or Swift thread ever blocks in the library.
//!
//! Dropping a call's future (a cancelled coroutine or Task) cancels the
//! call: a wait on a platform signer or transport inside it ends at once,
//! and dropping the foreign future cancels the coroutine or Task behind it
//! (a biometric prompt closes). A body already committing to disk finishes;
//! only its answer is dropped.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

use crate::error::{PunchError, guard};

type Job = Box<dyn FnOnce() + Send>;

/// How long an idle worker waits for work before its thread ends.
const KEEP_ALIVE: Duration = Duration::from_secs(30);

/// Worker threads, started on demand (a call waiting on a prompt holds one,
/// so others must not queue behind it) and ended after `KEEP_ALIVE` idle.
struct Pool {
    state: Mutex<PoolState>,
    work: Condvar,
}

struct PoolState {
    queue: VecDeque<Job>,
    /// Workers waiting for work: a job beyond them gets a new thread.
    waiting: usize,
}

static POOL: Pool = Pool {
    state: Mutex::new(PoolState {
        queue: VecDeque::new(),
        waiting: 0,
    }),
    work: Condvar::new(),
};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Jobs run outside the lock and catch their panics: poison is harmless.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn spawn(job: Job) -> Result<(), PunchError> {
    let mut state = lock(&POOL.state);
    if state.queue.len() >= state.waiting {
        // Started under the lock: it takes the job once we let go.
        std::thread::Builder::new()
            .name("punch-worker".into())
            .spawn(worker)
            .map_err(|e| PunchError::Internal {
                detail: format!("cannot start a worker thread: {e}"),
            })?;
    } else {
        POOL.work.notify_one();
    }
    state.queue.push_back(job);
    Ok(())
}

fn worker() {
    let mut state = lock(&POOL.state);
    loop {
        if let Some(job) = state.queue.pop_front() {
            drop(state);
            job();
            state = lock(&POOL.state);
            continue;
        }
        state.waiting += 1;
        let (relocked, wait) = POOL
            .work
            .wait_timeout(state, KEEP_ALIVE)
            .unwrap_or_else(|e| e.into_inner());
        state = relocked;
        state.waiting -= 1;
        if wait.timed_out() && state.queue.is_empty() {
            return;
        }
    }
}

type Hook = Box<dyn FnOnce() + Send>;

/// Set when the caller of an async call gave up on it.
#[derive(Default)]
pub(crate) struct Cancel {
    cancelled: AtomicBool,
    /// The worker waiting on a foreign future for this call, to wake it.
    waiter: Mutex<Option<Thread>>,
    /// Run once at cancellation (the call's worker may still be finishing).
    hooks: Mutex<Vec<Hook>>,
}

impl Cancel {
    fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        if let Some(thread) = lock(&self.waiter).as_ref() {
            thread.unpark();
        }
        let hooks = std::mem::take(&mut *lock(&self.hooks));
        for hook in hooks {
            hook();
        }
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

/// Runs `hook` when the async call this worker runs is cancelled (at once
/// if it already is). Outside an async call it never runs.
pub(crate) fn on_cancel(hook: impl FnOnce() + Send + 'static) {
    let Some(cancel) = CURRENT.with(|c| c.borrow().clone()) else {
        return;
    };
    lock(&cancel.hooks).push(Box::new(hook));
    // A cancel between the registration and now ran nothing: run them here.
    if cancel.is_cancelled() {
        let hooks = std::mem::take(&mut *lock(&cancel.hooks));
        for hook in hooks {
            hook();
        }
    }
}

thread_local! {
    /// The call a worker is running, for foreign waits inside it.
    static CURRENT: RefCell<Option<Arc<Cancel>>> = const { RefCell::new(None) };
}

/// Cancels the call when its future is dropped before the answer came.
struct CancelOnDrop(Arc<Cancel>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Runs `body` on a worker inside the panic guard and waits for its answer
/// without blocking the polling thread.
pub(crate) async fn off_thread<T: Send + 'static>(
    body: impl FnOnce() -> Result<T, PunchError> + Send + 'static,
) -> Result<T, PunchError> {
    let cancel = Arc::new(Cancel::default());
    let (tx, rx) = futures_channel::oneshot::channel();
    let token = cancel.clone();
    spawn(Box::new(move || {
        CURRENT.with(|c| *c.borrow_mut() = Some(token));
        let result = guard(body);
        CURRENT.with(|c| *c.borrow_mut() = None);
        // The caller may be gone (cancelled): nobody to answer then.
        let _ = tx.send(result);
    }))?;
    let _cancel_on_drop = CancelOnDrop(cancel);
    rx.await.unwrap_or_else(|_| {
        Err(PunchError::Internal {
            detail: "a worker thread ended without an answer".into(),
        })
    })
}

/// Calls running on their caller's thread (`on_this_thread`), by the id
/// their caller gave them: a cancel reaches one by id, so a call that is
/// never cancelled costs no object across the FFI (a token object per call
/// was three more FFI calls and a Kotlin cleaner registration).
struct ThisThreadCalls {
    running: Vec<(i64, Arc<Cancel>)>,
    /// Cancels that came before their call started (the coroutine was
    /// cancelled while the call was on its way); the oldest are dropped
    /// (a cancel that came after its call ended is never claimed).
    early: VecDeque<i64>,
}

/// How many unclaimed early cancels are kept.
const EARLY_CANCELS: usize = 64;

static THIS_THREAD_CALLS: Mutex<ThisThreadCalls> = Mutex::new(ThisThreadCalls {
    running: Vec::new(),
    early: VecDeque::new(),
});

/// Cancels the blocking call `call` (`on_this_thread`): a wait inside it
/// ends at once; a call that has not started yet starts cancelled; an
/// ended or unknown call is left alone. For Kotlin's coroutine layer only
/// (`internalCancelCall`; Swift has none).
/// @suppress
#[uniffi::export]
pub fn cancel_call(call: i64) {
    let mut calls = lock(&THIS_THREAD_CALLS);
    let running = calls
        .running
        .iter()
        .find(|(id, _)| *id == call)
        .map(|(_, cancel)| cancel.clone());
    match running {
        Some(cancel) => {
            drop(calls);
            cancel.cancel();
        }
        None => {
            if calls.early.len() == EARLY_CANCELS {
                calls.early.pop_front();
            }
            calls.early.push_back(call);
        }
    }
}

/// Runs `body` on the calling thread inside the panic guard, as the call
/// `call` (an id unique among the caller's calls) that `cancel_call`
/// cancels: for a caller that already is on a thread of its own (the Kotlin
/// coroutine layer's dispatcher), where a worker hand-off would only add
/// two thread switches.
pub(crate) fn on_this_thread<T>(
    call: i64,
    body: impl FnOnce() -> Result<T, PunchError>,
) -> Result<T, PunchError> {
    let cancel = Arc::new(Cancel::default());
    {
        let mut calls = lock(&THIS_THREAD_CALLS);
        if let Some(at) = calls.early.iter().position(|id| *id == call) {
            calls.early.remove(at);
            cancel.cancelled.store(true, Ordering::SeqCst);
        }
        calls.running.push((call, cancel.clone()));
    }
    // Restored after: a foreign callback may nest a call on this thread.
    let outer = CURRENT.with(|c| c.replace(Some(cancel)));
    let result = guard(body);
    CURRENT.with(|c| *c.borrow_mut() = outer);
    let mut calls = lock(&THIS_THREAD_CALLS);
    if let Some(at) = calls.running.iter().position(|(id, _)| *id == call) {
        calls.running.swap_remove(at);
    }
    result
}

/// Why a foreign future gave no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitEnd {
    TimedOut,
    Cancelled,
}

struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Waits on this (worker or background) thread for a foreign future, at most
/// `timeout`, and no longer than the async call it serves is wanted. The
/// future is dropped on return, which cancels the foreign side's work.
pub(crate) fn wait_foreign<F: Future>(future: F, timeout: Duration) -> Result<F::Output, WaitEnd> {
    let cancel = CURRENT.with(|c| c.borrow().clone());
    let me = std::thread::current();
    if let Some(c) = &cancel {
        *lock(&c.waiter) = Some(me.clone());
    }
    let waker = Waker::from(Arc::new(Unpark(me)));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let deadline = Instant::now() + timeout;
    loop {
        if cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
            return Err(WaitEnd::Cancelled);
        }
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return Ok(value);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(WaitEnd::TimedOut);
        }
        // Woken by the future, by a cancel, or at the deadline.
        std::thread::park_timeout(deadline - now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_calls_at_once_each_get_their_answer() {
        let calls: Vec<_> = (0..64u64)
            .map(|i| {
                std::thread::spawn(move || {
                    wait_foreign(off_thread(move || Ok(i * 2)), Duration::from_secs(10))
                })
            })
            .collect();
        for (i, call) in calls.into_iter().enumerate() {
            let answer = call.join().expect("caller thread");
            assert_eq!(answer.expect("answered").expect("ok"), i as u64 * 2);
        }
    }

    #[test]
    fn a_blocked_call_does_not_hold_up_the_next() {
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let first = std::thread::spawn(move || {
            wait_foreign(
                off_thread(move || {
                    let _ = blocked.recv();
                    Ok(1)
                }),
                Duration::from_secs(10),
            )
        });
        let second = wait_foreign(off_thread(|| Ok(2)), Duration::from_secs(5));
        assert_eq!(second.expect("answered").expect("ok"), 2);
        release.send(()).expect("first still waiting");
        assert_eq!(
            first
                .join()
                .expect("thread")
                .expect("answered")
                .expect("ok"),
            1
        );
    }

    #[test]
    fn a_pending_future_times_out() {
        let never = std::future::pending::<()>();
        assert_eq!(
            wait_foreign(never, Duration::from_millis(50)),
            Err(WaitEnd::TimedOut)
        );
    }

    #[test]
    fn cancelling_a_call_by_id_ends_a_foreign_wait_on_this_thread() {
        let (hooked_tx, hooked) = std::sync::mpsc::channel();
        let call = std::thread::spawn(move || {
            let end = on_this_thread(101, move || {
                on_cancel(move || {
                    let _ = hooked_tx.send(());
                });
                Ok(wait_foreign(
                    std::future::pending::<()>(),
                    Duration::from_secs(60),
                ))
            });
            // The thread is its own again afterwards: no call to cancel.
            (end, CURRENT.with(|c| c.borrow().is_none()))
        });
        std::thread::sleep(Duration::from_millis(50));
        cancel_call(101);
        let (end, restored) = call.join().expect("thread");
        assert_eq!(end.expect("ok"), Err(WaitEnd::Cancelled));
        assert!(restored);
        hooked
            .recv_timeout(Duration::from_secs(5))
            .expect("the cancel hook ran");
        assert!(
            lock(&THIS_THREAD_CALLS)
                .running
                .iter()
                .all(|(id, _)| *id != 101)
        );
    }

    #[test]
    fn a_cancel_before_the_call_starts_it_cancelled_and_reaches_no_other() {
        cancel_call(202);
        let waited = |call| {
            on_this_thread(call, || {
                Ok(wait_foreign(
                    std::future::pending::<()>(),
                    Duration::from_millis(200),
                ))
            })
            .expect("ok")
        };
        assert_eq!(waited(202), Err(WaitEnd::Cancelled));
        // Claimed once: the same id again, or another, is not cancelled.
        assert_eq!(waited(202), Err(WaitEnd::TimedOut));
        assert_eq!(waited(203), Err(WaitEnd::TimedOut));
    }

    #[test]
    fn dropping_the_call_ends_a_foreign_wait_inside_it() {
        let (entered_tx, entered) = std::sync::mpsc::channel();
        let (ended_tx, ended) = std::sync::mpsc::channel();
        let call = off_thread(move || {
            let _ = entered_tx.send(());
            let end = wait_foreign(std::future::pending::<()>(), Duration::from_secs(60));
            let _ = ended_tx.send(end);
            Ok(())
        });
        // Poll once (starts the worker), then drop it as a cancelled coroutine would.
        let mut call = Box::pin(call);
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        assert!(
            call.as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        entered
            .recv_timeout(Duration::from_secs(5))
            .expect("body ran");
        drop(call);
        let end = ended
            .recv_timeout(Duration::from_secs(5))
            .expect("wait ended");
        assert_eq!(end, Err(WaitEnd::Cancelled));
    }
}
