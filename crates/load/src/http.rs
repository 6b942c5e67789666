//! A small HTTP/1.1 client for the load driver: plain `http://` only, one kept-alive
//! connection per worker (so `--concurrency 16` means 16 connections), reconnecting after a
//! failure.

use anyhow::{Context, anyhow, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

/// The API's path under the base URL.
pub const API_PREFIX: &str = "/api/v1";

/// Where the server is and how to authenticate.
#[derive(Debug, Clone)]
pub struct Target {
    addr: SocketAddr,
    /// The `Host` header: the base URL's authority.
    host: String,
    /// Prepended to every request path: the base URL's path, then `/api/v1`.
    prefix: String,
    /// `Bearer <token>`.
    authorization: String,
    timeout: Duration,
}

/// The authority (`host:port`, port 80 when absent) and path prefix of a base URL such as
/// `http://127.0.0.1:8080` or `http://localhost:8080/steward/`.
pub fn parse_base_url(url: &str) -> anyhow::Result<(String, String)> {
    let trimmed = url.trim();
    let scheme_end = trimmed
        .find("://")
        .ok_or_else(|| anyhow!("base URL `{url}` must start with http://"))?;
    let scheme = &trimmed[..scheme_end];
    if !scheme.eq_ignore_ascii_case("http") {
        bail!("base URL `{url}`: only plain http:// is supported, not {scheme}://");
    }
    let rest = &trimmed[scheme_end + 3..];
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    if authority.is_empty() || authority.contains('@') {
        bail!("base URL `{url}` needs a host such as 127.0.0.1:8080 (and no user info)");
    }
    if path.contains(['?', '#']) {
        bail!("base URL `{url}` must not carry a query or fragment");
    }
    let has_port = match authority.rfind(':') {
        // `[::1]` has colons but no port; `[::1]:8080` has one after the bracket.
        Some(at) => !authority[at..].contains(']'),
        None => false,
    };
    let authority = if has_port {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    Ok((authority, path.trim_end_matches('/').to_owned()))
}

impl Target {
    /// Resolves the base URL's host (the first address it resolves to is used).
    pub async fn new(base_url: &str, token: &str, timeout: Duration) -> anyhow::Result<Target> {
        let (authority, path) = parse_base_url(base_url)?;
        let addr = tokio::net::lookup_host(&authority)
            .await
            .with_context(|| format!("resolving {authority}"))?
            .next()
            .ok_or_else(|| anyhow!("{authority} resolves to no address"))?;
        let token = token.trim();
        if token.is_empty() {
            bail!("the API token is empty");
        }
        Ok(Target {
            addr,
            host: authority,
            prefix: format!("{path}{API_PREFIX}"),
            authorization: format!("Bearer {token}"),
            timeout,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// One request of a scenario; `path` is under `/api/v1` and includes any query string.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: Method,
    pub path: String,
    /// The body, sent with `content_type`.
    pub body: Option<Bytes>,
    pub content_type: &'static str,
}

impl Request {
    pub fn get(path: impl Into<String>) -> Request {
        Request {
            method: Method::GET,
            path: path.into(),
            body: None,
            content_type: "",
        }
    }

    pub fn post_json(path: impl Into<String>, body: &Value) -> Request {
        Request::post(path, "application/json", body.to_string())
    }

    /// A POST whose body is of another type, such as a CSV file.
    pub fn post(
        path: impl Into<String>,
        content_type: &'static str,
        body: impl Into<Bytes>,
    ) -> Request {
        Request {
            method: Method::POST,
            path: path.into(),
            body: Some(body.into()),
            content_type,
        }
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Bytes,
}

/// One connection to the server, opened on first use and again after any failure.
pub struct Conn {
    target: Arc<Target>,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Conn {
    pub fn new(target: Arc<Target>) -> Conn {
        Conn {
            target,
            sender: None,
        }
    }

    /// Opens the connection unless it is open already.
    pub async fn connect(&mut self) -> anyhow::Result<()> {
        if self.sender.as_ref().is_some_and(|s| !s.is_closed()) {
            return Ok(());
        }
        self.sender = None;
        let addr = self.target.addr;
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP handshake")?;
        // The connection task ends when the sender is dropped or the server closes.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        self.sender = Some(sender);
        Ok(())
    }

    /// Sends one request and reads the whole response, within the target's timeout. Any
    /// failure (but not an error status) closes the connection, so the next call reconnects.
    pub async fn send(&mut self, request: &Request) -> anyhow::Result<Reply> {
        let timeout = self.target.timeout;
        match tokio::time::timeout(timeout, self.exchange(request)).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(e)) => {
                self.sender = None;
                Err(e)
            }
            Err(_) => {
                self.sender = None;
                bail!("no answer within {} s", timeout.as_secs_f64())
            }
        }
    }

    async fn exchange(&mut self, request: &Request) -> anyhow::Result<Reply> {
        self.connect().await?;
        let target = Arc::clone(&self.target);
        let sender = self
            .sender
            .as_mut()
            .ok_or_else(|| anyhow!("not connected"))?;
        sender.ready().await.context("connection closed")?;
        let mut builder = hyper::Request::builder()
            .method(request.method.clone())
            .uri(format!("{}{}", target.prefix, request.path))
            .header(header::HOST, &target.host)
            .header(header::AUTHORIZATION, &target.authorization)
            .header(header::ACCEPT, "application/json");
        if request.body.is_some() {
            builder = builder.header(header::CONTENT_TYPE, request.content_type);
        }
        let body = Full::new(request.body.clone().unwrap_or_default());
        let response = sender
            .send_request(builder.body(body)?)
            .await
            .context("sending the request")?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .context("reading the response")?
            .to_bytes();
        Ok(Reply { status, body })
    }

    /// GET that must succeed, for scenario setup: the body as JSON.
    pub async fn get_json(&mut self, path: &str) -> anyhow::Result<Value> {
        let reply = self.send(&Request::get(path)).await?;
        if !reply.status.is_success() {
            bail!("GET {API_PREFIX}{path}: {}", describe(&reply));
        }
        serde_json::from_slice(&reply.body)
            .with_context(|| format!("GET {API_PREFIX}{path}: the body is not JSON"))
    }
}

/// A failed reply in a line: status and the start of the body.
pub fn describe(reply: &Reply) -> String {
    let text = String::from_utf8_lossy(&reply.body);
    let text: String = text.chars().take(200).collect();
    format!("HTTP {} {}", reply.status.as_u16(), text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(url: &str) -> (String, String) {
        parse_base_url(url).expect("a valid base URL")
    }

    #[test]
    fn base_urls_give_authority_and_prefix() {
        assert_eq!(
            parsed("http://127.0.0.1:8080"),
            ("127.0.0.1:8080".into(), String::new())
        );
        assert_eq!(
            parsed("http://127.0.0.1:8080/"),
            ("127.0.0.1:8080".into(), String::new())
        );
        assert_eq!(
            parsed("HTTP://localhost/steward/"),
            ("localhost:80".into(), "/steward".into())
        );
        assert_eq!(parsed("http://[::1]"), ("[::1]:80".into(), String::new()));
        assert_eq!(
            parsed("http://[::1]:9000"),
            ("[::1]:9000".into(), String::new())
        );
    }

    #[test]
    fn base_urls_other_than_plain_http_are_refused() {
        for bad in [
            "https://127.0.0.1:8080",
            "127.0.0.1:8080",
            "http://",
            "http:///api",
            "http://user@127.0.0.1",
            "http://127.0.0.1/?x=1",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn requests_carry_json_bodies() {
        let r = Request::post_json("/incidents", &serde_json::json!({"title": "x"}));
        assert_eq!(r.method, Method::POST);
        assert_eq!(r.body.as_deref(), Some(&b"{\"title\":\"x\"}"[..]));
        assert_eq!(r.content_type, "application/json");
        assert_eq!(Request::get("/services").body, None);
        let csv = Request::post("/imports/incidents", "text/csv", "external_id\n");
        assert_eq!(
            (csv.content_type, csv.body.as_deref()),
            ("text/csv", Some(&b"external_id\n"[..]))
        );
    }
}
