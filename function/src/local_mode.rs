//! Local mode: the same router over plain HTTP on 127.0.0.1:$PORT, with the CORS headers that API Gateway
//! sends in AWS, allowing exactly the origins in CORS_ORIGINS.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::contract::{
    CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, CORS_EXPOSE_HEADERS, CORS_ORIGINS_ENV, PORT_ENV,
};

pub const DEFAULT_PORT: u16 = 3000;

/// A configuration mistake by whoever started the process (exit code 2), not a runtime failure.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

pub fn port_from_env() -> Result<u16, ConfigError> {
    match std::env::var(PORT_ENV) {
        Err(_) => Ok(DEFAULT_PORT),
        Ok(raw) => raw.trim().parse::<u16>().map_err(|_| {
            ConfigError(format!(
                "{PORT_ENV} must be a TCP port number from 0 to 65535; got '{raw}'"
            ))
        }),
    }
}

pub fn cors_origins_from_env() -> Result<Vec<HeaderValue>, ConfigError> {
    parse_cors_origins(&std::env::var(CORS_ORIGINS_ENV).unwrap_or_default())
}

pub fn parse_cors_origins(raw: &str) -> Result<Vec<HeaderValue>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
                && !origin.ends_with('/');
            if !valid {
                return Err(ConfigError(format!(
                    "{CORS_ORIGINS_ENV} entry '{origin}' is not an origin; write scheme://host[:port] without a \
                     trailing slash, e.g. http://127.0.0.1:8080"
                )));
            }
            HeaderValue::from_str(origin)
                .map_err(|_| ConfigError(format!("{CORS_ORIGINS_ENV} entry '{origin}' has invalid characters")))
        })
        .collect()
}

/// The CORS answers API Gateway gives in AWS: the contract's methods and headers, for exactly `origins`.
pub fn cors_layer(origins: Vec<HeaderValue>) -> CorsLayer {
    let header_names = |names: &[&'static str]| -> Vec<HeaderName> {
        names
            .iter()
            .map(|name| HeaderName::from_static(name))
            .collect()
    };
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods(
            CORS_ALLOW_METHODS
                .iter()
                .map(|method| Method::from_bytes(method.as_bytes()).expect("an HTTP method"))
                .collect::<Vec<_>>(),
        )
        .allow_headers(header_names(&CORS_ALLOW_HEADERS))
        .expose_headers(header_names(&CORS_EXPOSE_HEADERS))
}

/// Binds, prints `shopsmart-api listening on http://127.0.0.1:PORT` (other tools wait for that line; with
/// PORT=0 it names the port actually bound) and serves until the process is stopped.
pub async fn serve(app: Router, port: u16, origins: Vec<HeaderValue>) -> anyhow::Result<()> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("binding local API port ({address})"))?;
    let bound = listener.local_addr().context("reading the bound address")?;
    let app = app.layer(cors_layer(origins));
    println!("shopsmart-api listening on http://{bound}");
    std::io::stdout()
        .flush()
        .context("writing the listening line")?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving the local API")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_origin_lists() {
        let origins = parse_cors_origins(" http://127.0.0.1:8080, https://shop.example ,").unwrap();
        assert_eq!(origins.len(), 2);
        assert!(parse_cors_origins("").unwrap().is_empty());
        assert!(parse_cors_origins("127.0.0.1:8080").is_err());
        assert!(parse_cors_origins("http://a.example/").is_err());
    }
}
