//! A tiny HTTP/1.1 server for tests (std only): routes map a path to a sequence of
//! canned [`Response`]s (the last one repeats), with injectable faults — error statuses, a body
//! shorter than its `Content-Length` (truncation), a delay before answering — and every request
//! received is recorded (method, path, body) for assertions. One thread per connection,
//! `Connection: close`. Stops when dropped.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One canned answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    pub content_type: String,
    /// Sleep this long before answering (timeouts).
    pub delay: Duration,
    /// Announce `body.len() + n` bytes in `Content-Length` but send only the body (truncation).
    pub truncate_by: usize,
    /// Extra response headers (`Retry-After`, `Location`, `Set-Cookie`…).
    pub headers: Vec<(String, String)>,
    /// Send the body one byte at a time, this long apart (a server that trickles).
    pub trickle: Option<Duration>,
    /// After the body, this many filler bytes (`x`), then this suffix (a huge answer streamed
    /// without being held in memory).
    pub filler: Option<(usize, Vec<u8>)>,
}

impl Response {
    pub fn ok(body: impl Into<Vec<u8>>) -> Response {
        Response::status(200, body)
    }

    pub fn status(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            body: body.into(),
            content_type: "application/octet-stream".into(),
            delay: Duration::ZERO,
            truncate_by: 0,
            headers: Vec::new(),
            trickle: None,
            filler: None,
        }
    }

    /// A JSON answer (`application/json`).
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response::status(status, body).content_type("application/json")
    }

    pub fn content_type(mut self, content_type: &str) -> Response {
        self.content_type = content_type.into();
        self
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn not_found() -> Response {
        Response::status(404, "not found")
    }

    pub fn delayed(mut self, delay: Duration) -> Response {
        self.delay = delay;
        self
    }

    pub fn truncated(mut self, missing_bytes: usize) -> Response {
        self.truncate_by = missing_bytes;
        self
    }

    /// Headers announcing `announced` bytes, then the body one byte every `every`: a body that
    /// never ends for a client (the connection stays open until the client gives up).
    pub fn trickling(mut self, announced: usize, every: Duration) -> Response {
        self.truncate_by = announced.saturating_sub(self.body.len());
        self.trickle = Some(every);
        self
    }

    /// The body, then `n` bytes of `x`, then `suffix`: e.g. a JSON page holding one huge string.
    pub fn with_filler(mut self, n: usize, suffix: &str) -> Response {
        self.filler = Some((n, suffix.as_bytes().to_vec()));
        self
    }

    /// `n` copies of `self` (e.g. `Response::status(500, "").times(2)`).
    pub fn times(self, n: usize) -> Vec<Response> {
        vec![self; n]
    }
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query string, as sent.
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    routes: HashMap<String, (Vec<Response>, usize)>,
    requests: Vec<Request>,
}

/// The running server.
pub struct Server {
    pub addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &st);
                });
            }
        });
        Server { addr, state, stop }
    }

    /// Sets the responses of `path` (answered in order; the last one repeats).
    pub fn route(&self, path: &str, responses: Vec<Response>) {
        assert!(!responses.is_empty(), "a route needs at least one response");
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_string(), (responses, 0));
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Requests received so far for `path` (with or without their query string).
    pub fn hits(&self, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.path == path || r.path.split('?').next() == Some(path))
            .count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(conn: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut length = 0usize;
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let response = {
        let mut st = state.lock().unwrap();
        st.requests.push(Request {
            method,
            path: path.clone(),
            headers,
            body,
        });
        // A route matches the path with or without its query string.
        let key = if st.routes.contains_key(&path) {
            path.clone()
        } else {
            path.split('?').next().unwrap_or("").to_string()
        };
        match st.routes.get_mut(&key) {
            Some((list, next)) => {
                let r = list[(*next).min(list.len() - 1)].clone();
                *next += 1;
                r
            }
            None => Response::not_found(),
        }
    };
    std::thread::sleep(response.delay);
    let mut out = conn;
    let filler = response
        .filler
        .as_ref()
        .map(|(n, suffix)| n + suffix.len())
        .unwrap_or(0);
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        response.status,
        response.content_type,
        response.body.len() + response.truncate_by + filler
    );
    for (k, v) in &response.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    match response.trickle {
        Some(every) => {
            for b in &response.body {
                out.write_all(std::slice::from_ref(b))?;
                out.flush()?;
                std::thread::sleep(every);
            }
            // Then silence until the client gives up (bounded: a test never waits this long).
            for _ in 0..600 {
                std::thread::sleep(every.max(Duration::from_millis(100)));
                if out.write_all(b" ").and_then(|_| out.flush()).is_err() {
                    break;
                }
            }
        }
        None => out.write_all(&response.body)?,
    }
    if let Some((n, suffix)) = &response.filler {
        let chunk = vec![b'x'; 1 << 20];
        let mut left = *n;
        while left > 0 {
            let k = left.min(chunk.len());
            out.write_all(&chunk[..k])?;
            left -= k;
        }
        out.write_all(suffix)?;
    }
    out.flush()?;
    out.shutdown(std::net::Shutdown::Both)
}
