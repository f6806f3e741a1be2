//! # clusto-server
//!
//! The HTTP API of clusto, run by `clusto serve`: the URL scheme of the original
//! clusto-apiserver (`/by-name/NAME`, `/entity/…`, `/attribute/…`,
//! `/resourcemanager/…`, with its headers `Clusto-Mode`, `Clusto-Page`,
//! `Clusto-Per-Page` and `Clusto-Minify`), and beyond it the JSON protocol
//! (`POST /api`), `GET /history`, `GET /diff`, a streamed change feed (`GET /watch`,
//! Server-Sent Events) and rack pictures (`GET /rack/NAME.svg`).
//!
//! Every request runs on clusto-core in a blocking thread; the server holds no state of
//! its own, so several servers (on PostgreSQL, on several hosts) serve one inventory.
//! Reads are open to anyone who can connect; writes need a bearer token from the token
//! file, whose name is recorded as the user of the version.

mod auth;
mod log;
mod params;
mod reply;
mod routes;
mod show;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use clusto_core::{Clusto, Error, Result};
use tokio::sync::watch;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::timeout::TimeoutLayer;

pub use auth::Tokens;

/// The address `clusto serve` listens on by default: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9664";

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Refuse every write, whatever token is given.
    pub read_only: bool,
    /// The tokens that may write; `None`: nobody may write.
    pub tokens: Option<Tokens>,
    /// The largest request body accepted, in bytes.
    pub max_body: usize,
    /// How long a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// Headers added to every response (`response_headers` of the original), e.g.
    /// `Access-Control-Allow-Origin: *`.
    pub response_headers: Vec<(String, String)>,
    /// Write one access-log line per request to stderr.
    pub access_log: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: DEFAULT_LISTEN.parse().expect("the default address parses"),
            read_only: false,
            tokens: None,
            max_body: 1 << 20,
            request_timeout: Duration::from_secs(30),
            response_headers: Vec::new(),
            access_log: true,
        }
    }
}

impl Config {
    /// Reads the token file `path` into [`Config::tokens`].
    pub fn with_token_file(mut self, path: impl Into<PathBuf>) -> Result<Self> {
        self.tokens = Some(Tokens::load(&path.into())?);
        Ok(self)
    }
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) db: Clusto,
    pub(crate) config: Arc<Config>,
    /// Turns true when the server shuts down, so that change-feed streams end.
    pub(crate) stopping: watch::Receiver<bool>,
}

/// A bound server, ready to run.
pub struct Server {
    listener: tokio::net::TcpListener,
    state: AppState,
    stop: watch::Sender<bool>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    /// Binds `config.listen` for `db`, with a runtime of its own (for
    /// [`Server::run_until_signal`] and [`Server::run_until`] from blocking code).
    pub fn bind(db: Clusto, config: Config) -> Result<Server> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::os("cannot start the server's runtime", &e))?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(config.listen))
            .map_err(|e| Error::os(format_args!("cannot listen on {}", config.listen), &e))?;
        let (stop, stopping) = watch::channel(false);
        Ok(Server {
            listener,
            state: AppState {
                db,
                config: Arc::new(config),
                stopping,
            },
            stop,
            runtime: Some(runtime),
        })
    }

    /// The address it listens on (with the port the system chose for port 0).
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.listener
            .local_addr()
            .map_err(|e| Error::os("cannot read the listening address", &e))
    }

    /// Serves until SIGTERM or SIGINT, then finishes the requests in flight and returns.
    pub fn run_until_signal(self) -> Result<()> {
        self.run_until(async {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(term) => term,
                    Err(_) => return std::future::pending().await,
                };
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        })
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight (change
    /// feed streams end) and returns.
    pub fn run_until(mut self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let runtime = self.runtime.take().expect("a bound server has its runtime");
        runtime.block_on(self.serve(shutdown))
    }

    async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let app = NormalizePathLayer::trim_trailing_slash().layer(router(self.state.clone()));
        let stop = self.stop;
        let signal = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        axum::serve(
            self.listener,
            axum::ServiceExt::<axum::extract::Request>::into_make_service(app),
        )
        .with_graceful_shutdown(signal)
        .await
        .map_err(|e| Error::os("the server stopped", &e))
    }
}

/// The routes with their limits, authorization and access log.
fn router(state: AppState) -> Router {
    let config = state.config.clone();
    routes::all()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            log::access_log,
        ))
        .layer(DefaultBodyLimit::max(config.max_body))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .with_state(state)
}
