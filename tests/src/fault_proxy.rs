//! A real HTTP/1.1 proxy on 127.0.0.1 between the device and the real
//! server, which misbehaves on cue: errors, Retry-After, slowness, a
//! response lost after the server acted, a dead port.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the proxy does with the next request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Forward and relay the answer.
    Pass,
    /// Answer with this status without forwarding.
    Status(u16),
    /// Answer 429 with this Retry-After value, without forwarding.
    TooMany { retry_after: String },
    /// Wait, then forward (a slow server or network).
    Delay(Duration),
    /// Forward, let the server act, then close without answering.
    DropResponse,
    /// Close the connection at once without forwarding.
    Reset,
    /// Answer with these raw HTTP response bytes (e.g. a stale policy).
    Respond(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub fault: Fault,
    /// The request exactly as received (head and body).
    pub raw: Vec<u8>,
    /// The upstream's raw answer, when forwarded.
    pub answer: Option<Vec<u8>>,
}

struct Shared {
    script: Mutex<VecDeque<Fault>>,
    seen: Mutex<Vec<Seen>>,
    upstream: Mutex<SocketAddr>,
    stop: AtomicBool,
}

pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    pub fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let shared = Arc::new(Shared {
            script: Mutex::new(VecDeque::new()),
            seen: Mutex::new(Vec::new()),
            upstream: Mutex::new(upstream),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || handle(conn, &s));
            }
        });
        FaultProxy {
            addr,
            shared,
            thread: Some(thread),
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues faults for the next requests, in order; then requests pass.
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared.script.lock().expect("script").extend(faults);
    }

    /// Points the proxy at a (restarted) server.
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *self.shared.upstream.lock().expect("upstream") = upstream;
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().expect("seen").clone()
    }

    pub fn clear_seen(&self) {
        self.shared.seen.lock().expect("seen").clear();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one HTTP/1.1 request: the head (as text) and the body.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let end = line == "\r\n";
        head.push_str(&line);
        if end {
            break;
        }
    }
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some((head, body))
}

fn respond(mut conn: &TcpStream, status: u16, extra: &str, body: &str) {
    let _ = write!(
        conn,
        "HTTP/1.1 {status} Injected\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
}

fn handle(conn: TcpStream, shared: &Shared) {
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    // One request per connection: we always answer "connection: close".
    let Some((head, body)) = read_request(&mut reader) else {
        return;
    };
    let mut parts = head.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let fault = shared
        .script
        .lock()
        .expect("script")
        .pop_front()
        .unwrap_or(Fault::Pass);
    let mut raw = head.as_bytes().to_vec();
    raw.extend_from_slice(&body);
    // Upstream first, then recorded, then answered: a client that has its
    // answer must find its request in `seen` already.
    let answer = match &fault {
        Fault::Delay(d) => {
            std::thread::sleep(*d);
            forward(shared, &head, &body)
        }
        Fault::Pass | Fault::DropResponse => forward(shared, &head, &body),
        Fault::Status(_) | Fault::TooMany { .. } | Fault::Reset | Fault::Respond(_) => None,
    };
    shared.seen.lock().expect("seen").push(Seen {
        method,
        path,
        fault: fault.clone(),
        raw,
        answer: answer.clone(),
    });
    match fault {
        Fault::Status(code) => respond(&conn, code, "", r#"{"injected":true}"#),
        Fault::TooMany { retry_after } => respond(
            &conn,
            429,
            &format!("retry-after: {retry_after}\r\n"),
            r#"{"injected":true}"#,
        ),
        Fault::Respond(bytes) => {
            let _ = (&conn).write_all(&bytes);
        }
        Fault::Delay(_) | Fault::Pass => {
            if let Some(a) = &answer {
                let _ = (&conn).write_all(a);
            }
        }
        Fault::Reset | Fault::DropResponse => {}
    }
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

/// Sends raw request bytes straight to `addr` and returns the raw answer.
pub fn send_raw(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let split = request
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(request.len(), |p| p + 4);
    let head = String::from_utf8_lossy(&request[..split]).to_string();
    let upstream = Shared {
        script: Mutex::new(VecDeque::new()),
        seen: Mutex::new(Vec::new()),
        upstream: Mutex::new(addr),
        stop: AtomicBool::new(false),
    };
    forward(&upstream, &head, &request[split..]).unwrap_or_default()
}

/// Sends the request upstream with `connection: close` and returns the raw answer.
fn forward(shared: &Shared, head: &str, body: &[u8]) -> Option<Vec<u8>> {
    let upstream = *shared.upstream.lock().ok()?;
    let mut up = TcpStream::connect_timeout(&upstream, Duration::from_secs(5)).ok()?;
    let mut lines: Vec<&str> = head
        .split("\r\n")
        .filter(|l| !l.is_empty() && !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("connection: close");
    let rewritten = format!("{}\r\n\r\n", lines.join("\r\n"));
    up.write_all(rewritten.as_bytes()).ok()?;
    up.write_all(body).ok()?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).ok()?;
    Some(answer)
}
