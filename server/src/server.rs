//! Running the server: on its own thread and tokio runtime (`ServerHandle`,
//! for tests, the demo and the binary alike), with graceful shutdown.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};
use tokio::sync::watch;

use crate::api::{self, AppState};
use crate::error::{Result, ServerError};
use crate::sqlite_store::SqliteStore;
use crate::store::{ServerStore, StoreExt};
use crate::time_token::TimeTokens;

/// 127.0.0.1:8787.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8787);
/// How long in-flight requests get once shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
const META_TIME_SECRET: &str = "time_token_secret";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The SQLite file (created on first start).
    pub db_path: PathBuf,
    /// `127.0.0.1:0` picks a free port (see [`ServerHandle::addr`]).
    pub listen: SocketAddr,
}

impl ServerConfig {
    /// On the default address.
    pub fn new(db_path: impl Into<PathBuf>) -> ServerConfig {
        ServerConfig {
            db_path: db_path.into(),
            listen: DEFAULT_LISTEN,
        }
    }
}

/// The MAC key for time tokens: generated once, kept in the database, so
/// anchors stay valid across restarts.
fn load_time_tokens(store: &dyn ServerStore) -> Result<TimeTokens> {
    let secret = store.write(|tx| match tx.meta(META_TIME_SECRET)? {
        Some(secret) => Ok(secret),
        None => {
            let mut secret = vec![0u8; 32];
            SystemRandom::new()
                .fill(&mut secret)
                .map_err(|_| ServerError::Crypto("system random failed".into()))?;
            tx.meta_or_insert(META_TIME_SECRET, &secret)
        }
    })?;
    Ok(TimeTokens::new(&secret))
}

/// Opens the database and prepares what handlers share.
pub fn app_state(db_path: &Path) -> Result<AppState> {
    let store: Arc<dyn ServerStore> = Arc::new(SqliteStore::open(db_path)?);
    let tokens = load_time_tokens(store.as_ref())?;
    Ok(AppState { store, tokens })
}

/// Serves until `shutdown` completes, then drains in-flight requests for
/// at most five seconds; the port is closed when this returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        // An error means the sender is gone: treat as a stop request.
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let server =
        axum::serve(listener, api::router(state)).with_graceful_shutdown(stopped(stop_rx.clone()));
    tokio::select! {
        served = server => served?,
        _ = async {
            stopped(stop_rx).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => tracing::warn!("shutdown grace period over; dropping open connections"),
    }
    tracing::info!("server stopped");
    Ok(())
}

/// A running server. Stops on [`ServerHandle::stop`] or when dropped.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// Opens the database, binds, and serves on a dedicated thread; returns
    /// once the socket is listening.
    pub fn start(config: ServerConfig) -> Result<ServerHandle> {
        let state = app_state(&config.db_path)?;
        let listener =
            std::net::TcpListener::bind(config.listen).map_err(|source| ServerError::Bind {
                addr: config.listen,
                source,
            })?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("punch-server-worker")
            .enable_all()
            .build()?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<()>>();
        let thread = std::thread::Builder::new()
            .name("punch-server".into())
            .spawn(move || {
                let outcome = runtime.block_on(async move {
                    // Registering with the reactor needs the runtime.
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.into()));
                            return Ok(());
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    serve(listener, state, async {
                        // A dropped sender also means stop.
                        let _ = stop_rx.await;
                    })
                    .await
                });
                if let Err(e) = outcome {
                    tracing::error!(error = %e, "server failed");
                }
                runtime.shutdown_timeout(SHUTDOWN_GRACE);
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(ServerError::Runtime(
                    "server thread ended during start".into(),
                ));
            }
        }
        tracing::info!(%addr, db = %config.db_path.display(), "punch server listening");
        Ok(ServerHandle {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// e.g. "http://127.0.0.1:41234".
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Graceful stop; returns once the port is closed.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("server thread panicked");
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}
