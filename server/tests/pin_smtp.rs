//! The SMTP sender for PIN reset codes against a local SMTP
//! sink: a small listener that speaks just enough SMTP and keeps the mail.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use punch_server::internal::pin::sender::{CodeMessage, CodeSender, SmtpConfig, SmtpSender};

/// Accepts one session; returns the DATA it received.
fn sink() -> (u16, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut out = stream.try_clone().unwrap();
        let mut lines = BufReader::new(stream);
        out.write_all(b"220 sink ESMTP\r\n").unwrap();
        let mut data = String::new();
        let mut in_data = false;
        let mut line = String::new();
        while lines.read_line(&mut line).unwrap() > 0 {
            if in_data {
                if line == ".\r\n" {
                    in_data = false;
                    out.write_all(b"250 queued\r\n").unwrap();
                } else {
                    data.push_str(&line);
                }
            } else {
                let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                let answer: &[u8] = match verb.as_str() {
                    "EHLO" | "HELO" => b"250 sink\r\n",
                    "DATA" => {
                        in_data = true;
                        b"354 go ahead\r\n"
                    }
                    "QUIT" => {
                        out.write_all(b"221 bye\r\n").unwrap();
                        break;
                    }
                    _ => b"250 ok\r\n",
                };
                out.write_all(answer).unwrap();
            }
            line.clear();
        }
        data
    });
    (port, handle)
}

#[test]
fn smtp_sender_delivers_the_code_to_a_local_sink() {
    let (port, handle) = sink();
    let sender = SmtpSender(SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        from: "punch@example.com".into(),
    });
    sender
        .send(&CodeMessage {
            employee_id: "e-1".into(),
            channel: "email".into(),
            to: "li.wei@example.com".into(),
            code: "417263".into(),
            expires_at_ms: 0,
        })
        .unwrap();
    let data = handle.join().unwrap();
    assert!(data.contains("To: li.wei@example.com"), "{data}");
    assert!(data.contains("417263"), "{data}");
    // A phone contact is not something SMTP can reach.
    let refused = sender.send(&CodeMessage {
        employee_id: "e-1".into(),
        channel: "phone".into(),
        to: "+8613800138000".into(),
        code: "1".into(),
        expires_at_ms: 0,
    });
    assert!(refused.is_err());
}
