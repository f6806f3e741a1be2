//! `serve`: runs clusto-server on the opened database.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clusto_core::{Error, Result};
use clusto_server::{Config, DEFAULT_LISTEN, Server};

use super::Ctx;
use crate::config::ApiServerConf;
use crate::output::Output;

/// The options of `clusto serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address and port to listen on. Default: `host` and `port` in `[apiserver]` of the
    /// config file (as the original clusto-apiserver read them), else 127.0.0.1:9664.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Refuse every write.
    #[arg(long)]
    read_only: bool,
    /// File of `NAME TOKEN` lines: a request with `Authorization: Bearer TOKEN` may write,
    /// and NAME is recorded as the user of its versions. Without it, writes are refused.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// The largest request body accepted, in KiB.
    #[arg(long, default_value_t = 1024)]
    max_body_kib: usize,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// A header added to every response, `NAME: VALUE` (repeatable), e.g.
    /// `Access-Control-Allow-Origin: *`.
    #[arg(long = "header")]
    headers: Vec<String>,
    /// No access log on stderr.
    #[arg(long)]
    quiet: bool,
}

/// Serves until SIGTERM or SIGINT; `conf` is the config file's `[apiserver]` section.
pub fn run(ctx: &Ctx, args: &ServeArgs, conf: ApiServerConf) -> Result<Output> {
    let default: SocketAddr = DEFAULT_LISTEN.parse().expect("the default address parses");
    let listen = match args.listen {
        Some(listen) => listen,
        None => {
            let host = conf.host.as_deref().unwrap_or("127.0.0.1");
            let port = conf.port.unwrap_or(default.port());
            format!("{host}:{port}").parse().map_err(|_| {
                Error::InvalidValue(format!(
                    "[apiserver] host '{host}' and port {port} are not an address to listen on"
                ))
            })?
        }
    };
    let mut response_headers = conf.response_headers;
    for h in &args.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| Error::InvalidValue(format!("--header '{h}' is not NAME: VALUE")))?;
        response_headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut config = Config {
        listen,
        read_only: args.read_only,
        max_body: args.max_body_kib.saturating_mul(1024),
        request_timeout: Duration::from_secs(args.timeout),
        response_headers,
        access_log: !args.quiet,
        ..Config::default()
    };
    if let Some(file) = &args.token_file {
        config = config.with_token_file(file)?;
    }
    let writes = match (&config.tokens, config.read_only) {
        (_, true) => "read-only".to_owned(),
        (None, false) => "read-only: no --token-file".to_owned(),
        (Some(_), false) => "writes with a token".to_owned(),
    };
    let server = Server::bind(ctx.db.clone(), config)?;
    eprintln!(
        "clusto serve: listening on http://{} ({writes})",
        server.local_addr()?
    );
    server.run_until_signal()?;
    eprintln!("clusto serve: stopped");
    Ok(Output::Nothing)
}
