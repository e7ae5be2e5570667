//! `serve`: the HTTP server until Ctrl-C / SIGTERM.

use punch_server::{LogFormat, Overrides, load_config};
use punch_server::{ServerConfig, ServerHandle};

use super::CmdResult;

pub(crate) fn run(flags: Overrides) -> CmdResult {
    let settings = load_config(&flags, &|k| std::env::var(k).ok())?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match settings.log_format {
        // Spans (the request id) flattened into each line.
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    // The database URL is redacted by DbUrl's Display.
    tracing::info!(db = %settings.db, listen = %settings.listen, limits = ?settings.limits, "starting");
    tracing::info!(pin_sender = %settings.pin_codes.describe(), "PIN reset codes");
    let handle = ServerHandle::start(ServerConfig {
        db: settings.db,
        listen: settings.listen,
        limits: settings.limits,
        pin_codes: settings.pin_codes,
        metrics_token: settings.metrics_token,
        public_origin: settings.public_origin,
        at_rest: settings.at_rest,
        sqlite_busy_timeout: None,
    })?;
    eprintln!("punch-server listening on {}", handle.base_url());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(shutdown_signal())?;
    tracing::info!("shutting down");
    handle.stop();
    Ok(())
}

async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
