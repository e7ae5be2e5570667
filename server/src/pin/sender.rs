//! How a reset code reaches the employee: a configured choice, never the
//! log. SMTP for e-mail contacts (a relay the operator runs), an HTTP
//! webhook for an SMS gateway, or (development, tests) a file of JSON
//! lines. With none configured, codes are refused before one is made.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

/// One code to deliver.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct CodeMessage {
    pub employee_id: String,
    /// "email" or "phone".
    pub channel: String,
    pub to: String,
    pub code: String,
    pub expires_at_ms: i64,
}

/// Never the code, and the contact masked: a message may end up in a log.
impl std::fmt::Debug for CodeMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeMessage")
            .field("employee_id", &self.employee_id)
            .field("channel", &self.channel)
            .field("to", &mask(&self.channel, &self.to))
            .field("code", &"******")
            .field("expires_at_ms", &self.expires_at_ms)
            .finish()
    }
}

pub trait CodeSender: Send + Sync {
    fn send(&self, message: &CodeMessage) -> Result<(), String>;
    /// False when no sender is configured: no code is made at all.
    fn ready(&self) -> bool {
        true
    }
}

/// Which sender a server uses (`serve`: `pin_sender` in the config file or
/// `PUNCH_PIN_SENDER`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CodeDelivery {
    /// None configured: `POST /v1/pin/code` answers 503 `no_code_sender`.
    #[default]
    None,
    /// Appends one JSON line per code to this file (development, tests).
    File(PathBuf),
    /// An SMTP relay (e-mail contacts only).
    Smtp(SmtpConfig),
    /// An HTTP POST of the message as JSON (an SMS gateway).
    Webhook(WebhookConfig),
}

impl CodeDelivery {
    pub fn sender(&self) -> std::sync::Arc<dyn CodeSender> {
        match self {
            CodeDelivery::None => std::sync::Arc::new(NoSender),
            CodeDelivery::File(path) => std::sync::Arc::new(FileSender {
                path: path.clone(),
                lock: Mutex::new(()),
            }),
            CodeDelivery::Smtp(config) => std::sync::Arc::new(SmtpSender(config.clone())),
            CodeDelivery::Webhook(config) => std::sync::Arc::new(WebhookSender(config.clone())),
        }
    }

    /// The sender named by a URL: `smtp://HOST:PORT?from=ADDRESS`,
    /// `http://HOST:PORT/PATH` (a webhook; `bearer` sent as its
    /// Authorization) or `file:PATH`.
    pub fn parse(text: &str, bearer: Option<String>) -> Result<CodeDelivery, String> {
        let text = text.trim();
        if let Some(path) = text.strip_prefix("file:") {
            return Ok(CodeDelivery::File(PathBuf::from(path)));
        }
        let url = url::Url::parse(text).map_err(|e| format!("pin sender {text:?}: {e}"))?;
        let host = url
            .host_str()
            .ok_or_else(|| format!("pin sender {text:?}: no host"))?
            .to_string();
        match url.scheme() {
            "smtp" => {
                let from = url
                    .query_pairs()
                    .find(|(k, _)| k == "from")
                    .map(|(_, v)| v.into_owned())
                    .filter(|f| f.contains('@'))
                    .ok_or("an smtp pin sender needs ?from=ADDRESS")?;
                Ok(CodeDelivery::Smtp(SmtpConfig {
                    host,
                    port: url.port().unwrap_or(25),
                    from,
                }))
            }
            "http" => Ok(CodeDelivery::Webhook(WebhookConfig {
                host,
                port: url.port().unwrap_or(80),
                path: match url.query() {
                    Some(q) => format!("{}?{q}", url.path()),
                    None => url.path().to_string(),
                },
                bearer,
            })),
            other => Err(format!(
                "pin sender scheme {other:?}: use smtp://, http:// (a webhook) or file:"
            )),
        }
    }

    /// For the start-up log: the kind and where, never a token.
    pub fn describe(&self) -> String {
        match self {
            CodeDelivery::None => "none (PIN reset codes are refused)".into(),
            CodeDelivery::File(p) => format!("file {} (development)", p.display()),
            CodeDelivery::Smtp(c) => format!("smtp {}:{}", c.host, c.port),
            CodeDelivery::Webhook(c) => format!("webhook http://{}:{}{}", c.host, c.port, c.path),
        }
    }
}

struct NoSender;

impl CodeSender for NoSender {
    fn send(&self, _: &CodeMessage) -> Result<(), String> {
        Err("no sender for PIN reset codes is configured".into())
    }

    fn ready(&self) -> bool {
        false
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

/// An SMTP relay without authentication or TLS (a relay on the host or
/// its network, which does the onward TLS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub from: String,
}

pub struct SmtpSender(pub SmtpConfig);

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

/// A webhook without TLS: a gateway on the host or its network (or a
/// TLS-terminating relay), like the SMTP relay.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    pub host: String,
    pub port: u16,
    /// Path and query.
    pub path: String,
    /// Sent as `Authorization: Bearer …`.
    pub bearer: Option<String>,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path", &self.path)
            .field("bearer", &self.bearer.as_ref().map(|_| "***"))
            .finish()
    }
}

/// How long the gateway gets to connect and to answer.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

pub struct WebhookSender(pub WebhookConfig);

impl WebhookSender {
    async fn post(&self, m: &CodeMessage) -> Result<(), String> {
        use axum::http::{Request, header};
        use http_body_util::Full;
        let c = &self.0;
        let stream = tokio::time::timeout(
            WEBHOOK_TIMEOUT,
            tokio::net::TcpStream::connect((c.host.as_str(), c.port)),
        )
        .await
        .map_err(|_| "webhook: connect timed out".to_string())?
        .map_err(|e| format!("webhook: {e}"))?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| format!("webhook: {e}"))?;
        tokio::spawn(conn);
        let body = serde_json::to_vec(m).map_err(|e| e.to_string())?;
        let mut req = Request::post(c.path.as_str())
            .header(header::HOST, format!("{}:{}", c.host, c.port))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = &c.bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = req
            .body(Full::new(axum::body::Bytes::from(body)))
            .map_err(|e| format!("webhook: {e}"))?;
        let resp = tokio::time::timeout(WEBHOOK_TIMEOUT, sender.send_request(req))
            .await
            .map_err(|_| "webhook: no answer in time".to_string())?
            .map_err(|e| format!("webhook: {e}"))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("webhook answered {}", resp.status()))
        }
    }
}

impl CodeSender for WebhookSender {
    /// Called on the blocking pool (store work): waits on the runtime.
    fn send(&self, m: &CodeMessage) -> Result<(), String> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| "webhook: no runtime to send on".to_string())?;
        runtime.block_on(self.post(m))
    }
}

/// The contact as shown to the device and written to logs: `a***@example.com`, `***89`.
pub fn mask(channel: &str, to: &str) -> String {
    match (channel, to.split_once('@')) {
        ("email", Some((user, domain))) => {
            let first: String = user.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        _ => {
            let tail: String = to
                .chars()
                .rev()
                .take(2)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("***{tail}")
        }
    }
}
