//! Running the server: on its own thread and tokio runtime (`ServerHandle`,
//! for tests, the demo and the binary alike), with graceful shutdown.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use ring::rand::{SecureRandom, SystemRandom};
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::api::{AppState, PeerAddr};
use crate::clock::now_ms;
use crate::error::{Result, ServerError};
use crate::limits::Limits;
use crate::limits::conn::{self, ConnLimiter};
use crate::limits::{client, deadline};
use crate::store::{DbUrl, ServerStore, StoreExt};
use crate::time_token::TimeTokens;

/// 127.0.0.1:8787.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8787);
/// How long in-flight requests get once shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
const META_TIME_SECRET: &str = "time_token_secret";

#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// The database: a SQLite file (created on first start) or PostgreSQL.
    pub db: DbUrl,
    /// `127.0.0.1:0` picks a free port (see [`ServerHandle::addr`]).
    pub listen: SocketAddr,
    pub limits: Limits,
    /// How PIN reset codes reach employees (none by default: refused).
    pub pin_codes: crate::pin::CodeDelivery,
    /// Keys that seal evidence at rest (`crate::at_rest`); None: clear.
    pub at_rest: Option<Arc<crate::at_rest::AtRestKeys>>,
    /// `/metrics` answers only `Authorization: Bearer <this>`; None: off.
    pub metrics_token: Option<String>,
    /// SQLite: how long one attempt at a write waits for another
    /// connection's lock (`store::sqlite::DEFAULT_BUSY_TIMEOUT` when None).
    /// A write is attempted `error::STORE_ATTEMPTS` times, then answered 503.
    pub sqlite_busy_timeout: Option<std::time::Duration>,
    /// The origin of the browser punch page (`crate::browser`); None:
    /// `http://localhost:<port>` (a secure context for WebAuthn).
    pub public_origin: Option<url::Url>,
}

impl ServerConfig {
    /// On the default address, with default limits.
    pub fn new(db: impl Into<DbUrl>) -> ServerConfig {
        ServerConfig {
            db: db.into(),
            listen: DEFAULT_LISTEN,
            limits: Limits::default(),
            pin_codes: crate::pin::CodeDelivery::default(),
            at_rest: None,
            metrics_token: None,
            sqlite_busy_timeout: None,
            public_origin: None,
        }
    }
}

impl From<std::path::PathBuf> for DbUrl {
    fn from(path: std::path::PathBuf) -> DbUrl {
        DbUrl::Sqlite(path)
    }
}

impl From<&std::path::PathBuf> for DbUrl {
    fn from(path: &std::path::PathBuf) -> DbUrl {
        DbUrl::Sqlite(path.clone())
    }
}

/// The MAC key for time tokens: generated once, kept in the database, so
/// anchors stay valid across restarts.
fn load_time_tokens(store: &dyn ServerStore) -> Result<TimeTokens> {
    let secret = store.write(|tx| match tx.meta().get(META_TIME_SECRET)? {
        Some(secret) => Ok(secret),
        None => {
            let mut secret = vec![0u8; 32];
            SystemRandom::new()
                .fill(&mut secret)
                .map_err(|_| ServerError::Crypto("system random failed".into()))?;
            tx.meta().get_or_insert(META_TIME_SECRET, &secret)
        }
    })?;
    Ok(TimeTokens::new(&secret))
}

/// Opens the database (SQLite file or PostgreSQL) and prepares what
/// handlers share.
pub fn app_state(db: impl Into<DbUrl>) -> Result<AppState> {
    app_state_with(&db.into(), Limits::default())
}

pub fn app_state_with(db: &DbUrl, limits: Limits) -> Result<AppState> {
    state_over(crate::at_rest::open(db, None)?, limits)
}

/// Over a store already open (tests, other embeddings).
pub fn state_over(store: Arc<dyn ServerStore>, limits: Limits) -> Result<AppState> {
    let tokens = load_time_tokens(store.as_ref())?;
    Ok(AppState::new(store, tokens, limits))
}

/// Serves until `shutdown` completes, then drains in-flight requests for
/// at most five seconds; the port is closed when this returns.
///
/// Our own accept loop (not `axum::serve`) so the limits hold before a
/// request exists: a connection cap per process and per IP (a refused
/// connection gets a JSON 503), and hyper's header read timeout, which also
/// closes idle keep-alive connections.
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
    if let Some(handle) = state.prometheus.clone() {
        // Histograms are kept bounded between scrapes.
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(5)) => handle.run_upkeep(),
                    _ = stop.wait_for(|s| *s) => break,
                }
            }
        });
    }
    crate::forgotten::spawn_sweeps(state.store.clone(), state.policies.clone(), stop_rx.clone());
    let limits = state.limits.clone();
    let conns = ConnLimiter::new(limits.max_connections, limits.max_connections_per_ip);
    let app = crate::app::router(state);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped(stop_rx.clone()) => break,
        };
        // A trusted proxy carries many clients: only the total cap holds it.
        let proxy = client::is_trusted_proxy(peer.ip(), &limits.trusted_proxies);
        let Some(guard) = conns.admit(peer.ip(), !proxy) else {
            metrics::counter!(crate::metrics::CONNECTIONS_REFUSED).increment(1);
            tokio::spawn(async move {
                let mut stream = stream;
                let _ = tokio::time::timeout(
                    Duration::from_secs(1),
                    stream.write_all(&conn::refusal(now_ms())),
                )
                .await;
                let _ = stream.shutdown().await;
            });
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let request_limits = limits.clone();
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                let client_ip =
                    client::client_ip(peer.ip(), req.headers(), &request_limits.trusted_proxies);
                req.extensions_mut()
                    .insert(PeerAddr(SocketAddr::new(client_ip, peer.port())));
                let app = app.clone();
                let limits = request_limits.clone();
                async move {
                    if let Some(refused) =
                        deadline::refuse_declared(req.uri().path(), req.headers(), &limits)
                    {
                        return Ok::<_, std::convert::Infallible>(refused);
                    }
                    let answer = app.oneshot(req.map(axum::body::Body::new));
                    Ok(deadline::within(limits.request_timeout(), async move {
                        match answer.await {
                            Ok(resp) => resp,
                            Err(never) => match never {},
                        }
                    })
                    .await)
                }
            });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout())
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(guard);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("shutdown grace period over; dropping open connections")
        }
    }
    tracing::info!("server stopped");
    Ok(())
}

/// A running server. Stops on [`ServerHandle::stop`] or when dropped.
pub struct ServerHandle {
    addr: SocketAddr,
    store: Arc<dyn ServerStore>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// Opens the database, binds, and serves on a dedicated thread; returns
    /// once the socket is listening.
    pub fn start(config: ServerConfig) -> Result<ServerHandle> {
        let store = match (&config.db, config.sqlite_busy_timeout) {
            (DbUrl::Sqlite(path), Some(wait)) => crate::at_rest::over(
                Arc::new(crate::store::sqlite::SqliteStore::open_waiting(path, wait)?),
                config.at_rest.as_ref(),
            )?,
            _ => crate::at_rest::open(&config.db, config.at_rest.as_ref())?,
        };
        let mut state = state_over(store.clone(), config.limits.clone())?;
        state.pin_sender = config.pin_codes.sender();
        state.metrics_token = config
            .metrics_token
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(Arc::from);
        let listener =
            std::net::TcpListener::bind(config.listen).map_err(|source| ServerError::Bind {
                addr: config.listen,
                source,
            })?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        state.public_origin = Some(Arc::new(crate::browser::origin_or_localhost(
            config.public_origin.clone(),
            addr.port(),
        )?));
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
        tracing::info!(%addr, db = %config.db, "punch server listening");
        Ok(ServerHandle {
            addr,
            store,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Punch rows the server has read since it started (tests of bounded work).
    pub fn rows_read(&self) -> u64 {
        self.store.rows_read()
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
