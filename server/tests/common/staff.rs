//! Staff helpers: accounts made through `Admin`, sign-in over HTTP with a
//! real TOTP code, and requests carrying the session cookie and CSRF token.

use std::net::SocketAddr;

use punch_server::NewStaff;
use punch_server::Role;
use serde_json::Value;

use super::{Http, TestServer, now_ms, request};

pub const PASSWORD: &str = "correct horse battery staple";

/// A staff member who can sign in.
pub struct Staff {
    pub username: String,
    pub role: Role,
    pub totp_secret: String,
}

/// A signed-in browser session.
pub struct Session {
    pub addr: SocketAddr,
    pub cookie: String,
    pub csrf: String,
    pub role: Role,
}

pub fn add_staff(ts: &TestServer, username: &str, role: Role, team: Option<&str>) -> Staff {
    let created = ts
        .admin
        .add_staff(&NewStaff {
            username: username.into(),
            display_name: username.into(),
            role,
            team: team.map(str::to_string),
            password: PASSWORD.into(),
        })
        .unwrap();
    Staff {
        username: username.into(),
        role,
        totp_secret: created.totp_secret.expect("enrolled at creation"),
    }
}

impl Staff {
    pub fn code(&self) -> String {
        punch_server::internal::staff::totp::code_from_base32(&self.totp_secret, now_ms()).unwrap()
    }

    pub fn try_sign_in(&self, addr: SocketAddr, password: &str, code: &str) -> Http {
        let body =
            serde_json::json!({"username": self.username, "password": password, "totp": code});
        request(
            addr,
            "POST",
            "/admin/v1/session",
            &[("content-type", "application/json".into())],
            body.to_string().as_bytes(),
        )
    }

    pub fn sign_in(&self, addr: SocketAddr) -> Session {
        let resp = self.try_sign_in(addr, PASSWORD, &self.code());
        assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
        let set_cookie = resp.header("set-cookie").expect("set-cookie").to_string();
        for attr in ["HttpOnly", "Secure", "SameSite=Strict"] {
            assert!(set_cookie.contains(attr), "{set_cookie}");
        }
        let cookie = set_cookie.split(';').next().unwrap().to_string();
        let csrf = resp.json()["csrf_token"].as_str().unwrap().to_string();
        Session {
            addr,
            cookie,
            csrf,
            role: self.role,
        }
    }
}

impl Session {
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Http {
        let mut headers = vec![
            ("cookie", self.cookie.clone()),
            ("x-csrf-token", self.csrf.clone()),
        ];
        if body.is_some() {
            headers.push(("content-type", "application/json".into()));
        }
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        request(self.addr, method, path, &headers, &bytes)
    }

    pub fn get(&self, path: &str) -> Http {
        self.call("GET", path, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Http {
        self.call("POST", path, Some(body))
    }
}

/// The body as JSON, asserting the status first.
pub fn ok(resp: Http) -> Value {
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    resp.json()
}
