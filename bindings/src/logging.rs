//! The log sink: the `log` facade (used by this crate, rustls and reqwest)
//! forwarded to the app's Logcat / os_log. The sink is cloned out of its
//! lock before it is called, so a slow sink holds nothing up but its caller.

use std::sync::{Arc, RwLock};

/// Severity, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// Receives the library's log lines (forward them to Logcat / os_log).
/// Called on any thread; must not call back into the library.
#[uniffi::export(foreign)]
pub trait LogSink: Send + Sync {
    fn log(&self, level: LogLevel, target: String, message: String);
}

static SINK: RwLock<Option<Arc<dyn LogSink>>> = RwLock::new(None);

struct Bridge;

static BRIDGE: Bridge = Bridge;

impl log::Log for Bridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let sink = SINK.read().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(sink) = sink {
            let level = match record.level() {
                log::Level::Error => LogLevel::Error,
                log::Level::Warn => LogLevel::Warn,
                log::Level::Info => LogLevel::Info,
                log::Level::Debug => LogLevel::Debug,
                log::Level::Trace => LogLevel::Trace,
            };
            sink.log(
                level,
                record.target().to_string(),
                record.args().to_string(),
            );
        }
    }

    fn flush(&self) {}
}

/// Sends the library's log lines at `level` and above to `sink`; `None`
/// turns logging off. Call once at start-up; calling again replaces the sink.
#[uniffi::export]
pub fn set_log_sink(sink: Option<Arc<dyn LogSink>>, level: LogLevel) {
    // Fails only when another logger was installed first (a Rust host): keep it.
    let _ = log::set_logger(&BRIDGE);
    let filter = match (&sink, level) {
        (None, _) => log::LevelFilter::Off,
        (_, LogLevel::Error) => log::LevelFilter::Error,
        (_, LogLevel::Warn) => log::LevelFilter::Warn,
        (_, LogLevel::Info) => log::LevelFilter::Info,
        (_, LogLevel::Debug) => log::LevelFilter::Debug,
        (_, LogLevel::Trace) => log::LevelFilter::Trace,
    };
    *SINK.write().unwrap_or_else(|e| e.into_inner()) = sink;
    log::set_max_level(filter);
}
