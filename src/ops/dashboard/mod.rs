//! `data-tasks dashboard [--listen 127.0.0.1:8080] [--base-path /ops]`: a read-only web app over
//! the syncs' tables — server-rendered HTML (axum + maud), inline CSS and SVG, no script, nothing
//! fetched from elsewhere, so it works offline.
//!
//! Pages, under the base path: `/` (every sync/scope: status badge, last run, last success age
//! against its threshold; the sync tables found), `/runs?sync=…&scope=…[&kind=fix-sync]` (a
//! scope's run history, paged, with SVG charts of counts and durations), `/copies` (completeness
//! and lag of every copy, as `status` judges them), and the pages each sync
//! registers in its `ops.rs` ([`crate::syncs::ops_panels`]): `/gn2pg/<schema>` (imports per
//! source, filterable, and the latest errors — what the GN2PG dashboard showed),
//! `/gn2pg/<schema>/errors` (every `error_log` row, filtered and paged, with its whole item),
//! `/visionature/<schema>` (failed downloads, filtered by site and controller), `/fix-sync` (the monitoring counts of each reconciliation). `/healthz`
//! (the process answers) and `/readyz` (the database answers) need no credentials and say nothing
//! else.
//!
//! Basic auth from `DASHBOARD_USER`/`DASHBOARD_PASSWORD` (compared in constant time); without
//! them the server only listens on a loopback address. Every request reads in one read-only
//! transaction with a statement timeout, through a small pool, off the async threads. Pages carry
//! a strict Content-Security-Policy and never show a database message (logged instead) or any
//! secret (every page goes through `secrets::scrub`, so a log row quoting one shows `***`). Fails at start: bad `--base-path`, credentials missing or half set, database
//! unreachable, address in use.

mod html;
mod pages;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use subtle::ConstantTimeEq;

use super::stale::{StaleAfter, Thresholds};
use super::OpsError;
use crate::outcome::Summary;
use crate::pg::{PgError, Pool};
use crate::secrets::{Env, Secret};

/// What `data-tasks dashboard` was asked to do (the binary parses it from the command line).
#[derive(Debug, Clone)]
pub struct Options {
    /// Address to listen on; a non-loopback address requires DASHBOARD_USER and
    /// DASHBOARD_PASSWORD.
    pub listen: SocketAddr,
    /// Path prefix of every page, as the reverse proxy forwards it (`/` for none).
    pub base_path: String,
    /// Staleness thresholds, as for `status`.
    pub stale_after: Vec<StaleAfter>,
}

/// Basic-auth credentials.
struct Credentials {
    user: Secret,
    password: Secret,
}

impl Credentials {
    fn from_env(env: &Env) -> Result<Option<Credentials>, OpsError> {
        match (
            env.secret("DASHBOARD_USER"),
            env.secret("DASHBOARD_PASSWORD"),
        ) {
            (Some(user), Some(password)) => Ok(Some(Credentials { user, password })),
            (None, None) => Ok(None),
            (Some(_), None) => Err(OpsError::HalfCredentials {
                set: "DASHBOARD_USER",
                missing: "DASHBOARD_PASSWORD",
            }),
            (None, Some(_)) => Err(OpsError::HalfCredentials {
                set: "DASHBOARD_PASSWORD",
                missing: "DASHBOARD_USER",
            }),
        }
    }

    /// Whether an `Authorization` header carries these credentials.
    fn accept(&self, header: Option<&HeaderValue>) -> bool {
        let Some(value) = header.and_then(|h| h.to_str().ok()) else {
            return false;
        };
        let Some((scheme, token)) = value.trim().split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(token.trim()) else {
            return false;
        };
        let Some(colon) = decoded.iter().position(|&b| b == b':') else {
            return false;
        };
        let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
        let user_ok = user.ct_eq(self.user.expose().as_bytes());
        let password_ok = password.ct_eq(self.password.expose().as_bytes());
        bool::from(user_ok & password_ok)
    }
}

/// What every handler shares.
pub(crate) struct AppState {
    pool: Pool,
    /// The base path without its trailing `/` (`""` at the root).
    pub(crate) base: String,
    pub(crate) thresholds: Thresholds,
    credentials: Option<Credentials>,
}

/// `--base-path` normalised: `""` or `/a/b` (no trailing `/`).
pub fn base_path(raw: &str) -> Result<String, OpsError> {
    let bad = |reason| OpsError::BasePath {
        path: raw.to_string(),
        reason,
    };
    let t = raw.trim();
    if t.is_empty() || t == "/" {
        return Ok(String::new());
    }
    if !t.starts_with('/') {
        return Err(bad("must start with /"));
    }
    let t = t.trim_end_matches('/');
    if t.contains("//") || t.split('/').any(|seg| seg == "." || seg == "..") {
        return Err(bad("empty, . or .. segments are not allowed"));
    }
    if !t
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._~/".contains(c))
    {
        return Err(bad("only letters, digits, -, ., _, ~ and / are allowed"));
    }
    Ok(t.to_string())
}

/// A dashboard bound to its address, ready to serve.
pub struct Server {
    listener: std::net::TcpListener,
    state: Arc<AppState>,
}

impl Server {
    /// Checks the settings, opens the pool (one connection first: a wrong URL fails here) and
    /// binds the address.
    pub fn bind(env: &Env, args: &Options) -> Result<Server, OpsError> {
        let base = base_path(&args.base_path)?;
        let credentials = Credentials::from_env(env)?;
        if credentials.is_none() && !args.listen.ip().is_loopback() {
            return Err(OpsError::NoCredentials {
                addr: args.listen.to_string(),
            });
        }
        let db = super::database(env)?;
        let pool = db.pool(4)?;
        let listener =
            std::net::TcpListener::bind(args.listen).map_err(|source| OpsError::Listen {
                addr: args.listen.to_string(),
                source,
            })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| OpsError::Listen {
                addr: args.listen.to_string(),
                source,
            })?;
        Ok(Server {
            listener,
            state: Arc::new(AppState {
                pool,
                base,
                thresholds: Thresholds::new(&args.stale_after),
                credentials,
            }),
        })
    }

    /// The bound address (the port chosen for `:0`).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves until SIGINT or SIGTERM, then finishes the requests in flight.
    pub fn serve(self) -> Result<Summary, OpsError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(OpsError::Runtime)?;
        let addr = self.local_addr();
        let auth = if self.state.credentials.is_some() {
            "basic auth"
        } else {
            "no auth (loopback)"
        };
        if let Some(addr) = addr {
            tracing::info!(
                "dashboard listening on http://{addr}{}/ ({auth})",
                self.state.base
            );
        }
        // The pool's connections close by blocking: the last reference to it must go away
        // outside the runtime, after the router and its tasks.
        let keep = self.state.clone();
        let app = router(self.state);
        let served = runtime.block_on(async move {
            let listener =
                tokio::net::TcpListener::from_std(self.listener).map_err(OpsError::Serve)?;
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await
                .map_err(OpsError::Serve)
        });
        drop(runtime);
        drop(keep);
        served?;
        let mut summary = Summary::new("dashboard");
        summary.headline = "dashboard: stopped".into();
        Ok(summary)
    }
}

/// Runs the command.
pub fn run(env: &Env, args: &Options) -> Result<Summary, OpsError> {
    Server::bind(env, args)?.serve()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("dashboard: shutting down");
}

fn router(state: Arc<AppState>) -> Router {
    let b = state.base.clone();
    let mut pages = Router::new()
        .route(&format!("{b}/"), get(pages::overview))
        .route(&format!("{b}/runs"), get(pages::runs))
        .route(&format!("{b}/copies"), get(pages::copies));
    for p in crate::syncs::ops_panels().iter().flat_map(|s| s.pages) {
        let route = format!("{b}{}", p.route);
        pages = if p.route.contains('{') {
            pages.route(
                &route,
                get(move |State(st), Path(capture): Path<String>, RawQuery(q)| {
                    pages::sync_page(st, p, capture, q)
                }),
            )
        } else {
            pages.route(
                &route,
                get(move |State(st), RawQuery(q)| pages::sync_page(st, p, String::new(), q)),
            )
        };
    }
    if !b.is_empty() {
        pages = pages.route(&b, get(pages::overview));
    }
    let pages = pages
        .fallback(pages::not_found)
        .route_layer(middleware::from_fn_with_state(state.clone(), require_auth));
    let mut open = Router::new()
        .route(&format!("{b}/healthz"), get(|| async { "ok\n" }))
        .route(&format!("{b}/readyz"), get(ready));
    if !b.is_empty() {
        let home = format!("{b}/");
        open = open.route("/", get(move || async move { Redirect::to(&home) }));
    }
    open.merge(pages)
        .layer(middleware::map_response(security_headers))
        .with_state(state)
}

async fn require_auth(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if let Some(creds) = &st.credentials {
        if !creds.accept(req.headers().get(header::AUTHORIZATION)) {
            return (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    "Basic realm=\"data-tasks\", charset=\"UTF-8\"",
                )],
                "authentication required\n",
            )
                .into_response();
        }
    }
    next.run(req).await
}

async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    resp
}

async fn ready(State(st): State<Arc<AppState>>) -> Response {
    let pool = st.pool.clone();
    let probe = tokio::task::spawn_blocking(move || -> Result<(), PgError> {
        let mut c = pool.get()?;
        c.simple_query("SELECT 1")
            .map_err(|e| PgError::query("readiness probe", e))?;
        Ok(())
    })
    .await;
    match probe {
        Ok(Ok(())) => (StatusCode::OK, "ready\n").into_response(),
        Ok(Err(e)) => {
            tracing::warn!("readiness: {}", crate::outcome::error_chain(&e));
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "probe failed\n").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_paths() {
        assert_eq!(base_path("/").unwrap(), "");
        assert_eq!(base_path("").unwrap(), "");
        assert_eq!(base_path("/ops").unwrap(), "/ops");
        assert_eq!(base_path("/ops/").unwrap(), "/ops");
        assert_eq!(base_path("/a/b-c_d.e~").unwrap(), "/a/b-c_d.e~");
        for bad in ["ops", "/a//b", "/a/../b", "/a b", "/a?x", "/<s>"] {
            assert!(base_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn basic_auth() {
        let c = Credentials {
            user: Secret::new("ops"),
            password: Secret::new("pa:ss-wörd"),
        };
        let header = |user: &str, pw: &str| {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"));
            HeaderValue::from_str(&format!("Basic {token}")).unwrap()
        };
        assert!(c.accept(Some(&header("ops", "pa:ss-wörd"))));
        assert!(!c.accept(Some(&header("ops", "pa:ss"))));
        assert!(!c.accept(Some(&header("op", "pa:ss-wörd"))));
        assert!(!c.accept(Some(&HeaderValue::from_static("Bearer abc"))));
        assert!(!c.accept(Some(&HeaderValue::from_static("Basic !!!"))));
        assert!(!c.accept(None));
    }
}
