//! How a reset code reaches the employee. No SMS or mail gateway here: the
//! development senders write to the server log or a file (JSON lines); the
//! SMTP sender (feature `smtp`) hands the mail to a relay the operator runs.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::Serialize;

/// One code to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeMessage {
    pub employee_id: String,
    /// "email" or "phone".
    pub channel: String,
    pub to: String,
    pub code: String,
    pub expires_at_ms: i64,
}

pub trait CodeSender: Send + Sync {
    fn send(&self, message: &CodeMessage) -> Result<(), String>;
}

/// Which sender a server uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CodeDelivery {
    /// The server log (development).
    #[default]
    Log,
    /// Appends one JSON line per code to this file (development, tests).
    File(PathBuf),
    /// An SMTP relay (e-mail contacts only).
    #[cfg(feature = "smtp")]
    Smtp(SmtpConfig),
}

impl CodeDelivery {
    pub fn sender(&self) -> std::sync::Arc<dyn CodeSender> {
        match self {
            CodeDelivery::Log => std::sync::Arc::new(LogSender),
            CodeDelivery::File(path) => std::sync::Arc::new(FileSender {
                path: path.clone(),
                lock: Mutex::new(()),
            }),
            #[cfg(feature = "smtp")]
            CodeDelivery::Smtp(config) => std::sync::Arc::new(SmtpSender(config.clone())),
        }
    }
}

pub struct LogSender;

impl CodeSender for LogSender {
    fn send(&self, m: &CodeMessage) -> Result<(), String> {
        // Development only: a real deployment delivers codes, never logs them.
        tracing::warn!(employee_id = %m.employee_id, channel = %m.channel, to = %m.to,
            code = %m.code, "PIN reset code (development sender)");
        Ok(())
    }
}

pub struct FileSender {
    path: PathBuf,
    lock: Mutex<()>,
}

impl CodeSender for FileSender {
    fn send(&self, m: &CodeMessage) -> Result<(), String> {
        let line = serde_json::to_string(m).map_err(|e| e.to_string())?;
        let _one = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        writeln!(f, "{line}").map_err(|e| e.to_string())
    }
}

/// An SMTP relay without authentication or TLS (a local relay or sink).
#[cfg(feature = "smtp")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub from: String,
}

#[cfg(feature = "smtp")]
pub struct SmtpSender(pub SmtpConfig);

#[cfg(feature = "smtp")]
impl CodeSender for SmtpSender {
    fn send(&self, m: &CodeMessage) -> Result<(), String> {
        use lettre::{Message, SmtpTransport, Transport};
        if m.channel != "email" {
            return Err(format!("SMTP cannot deliver to a {} contact", m.channel));
        }
        let mail = Message::builder()
            .from(self.0.from.parse().map_err(|e| format!("from: {e}"))?)
            .to(m.to.parse().map_err(|e| format!("to: {e}"))?)
            .subject("Your punch PIN reset code")
            .body(format!(
                "Your PIN reset code is {}. It expires in 10 minutes and works once.\n",
                m.code
            ))
            .map_err(|e| e.to_string())?;
        SmtpTransport::builder_dangerous(&self.0.host)
            .port(self.0.port)
            .build()
            .send(&mail)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
