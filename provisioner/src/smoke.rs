//! `up` ends when the shop answers: `GET {api}/products?limit=1` until it answers 200, bounded. Right after
//! `up` the first request pays the function's cold start, and a freshly put role policy can take seconds to
//! reach the function (its DynamoDB calls answer AccessDenied meanwhile, the API 500). On a time-out the
//! function's log lines of the last minutes show why.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt, Empty};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::logs;
use crate::report::Reporter;
use crate::resources::Ctx;
use crate::wait;

/// How long `up` waits for the shop's first 200.
pub const DEADLINE: Duration = Duration::from_secs(60);
/// One request's limit: a cold start of a small Rust function takes well under a second, but a slow network
/// should not count as a failure.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The shop's first good answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    pub url: String,
    /// From the first request sent to the 200, retries included.
    pub after: Duration,
    /// The request that answered 200.
    pub latency: Duration,
}

/// The URL the check asks: one product, the cheapest read the API has.
pub fn products_url(api_url: &str) -> String {
    format!("{}/products?limit=1", api_url.trim_end_matches('/'))
}

/// Asks `url` until it answers 200 or `deadline` passes; the error says what it answered last.
pub async fn first_answer(url: &str, deadline: Duration) -> anyhow::Result<Answered> {
    // One client for every attempt (its connection is reused), and the URL parsed once: a bad one is an
    // error now, not a minute of retries.
    let client = &client()?;
    let uri = &url.parse().with_context(|| format!("not a URL: {url}"))?;
    let started = Instant::now();
    let last = &Mutex::new(String::from("no answer yet"));
    let answered = wait::until(&format!("{url} to answer 200"), deadline, || async move {
        let sent = Instant::now();
        let answer = match get(client, uri).await {
            Ok((200, _)) => return Ok(Some(sent.elapsed())),
            Ok((status, body)) => format!("HTTP {status} {}", body.trim()),
            Err(err) => format!("{err:#}"),
        };
        *last.lock().expect("last answer") = answer;
        Ok(None)
    })
    .await;
    match answered {
        Ok(latency) => Ok(Answered {
            url: url.to_owned(),
            after: started.elapsed(),
            latency,
        }),
        Err(err) => {
            let last = last.lock().expect("last answer").clone();
            Err(err)
                .with_context(|| format!("the shop's API did not answer 200; last answer: {last}"))
        }
    }
}

type HttpsClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// An HTTP(S) client trusting the system's root certificates.
fn client() -> anyhow::Result<HttpsClient> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        .context("loading the system's TLS root certificates")?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// One GET: the status and the start of the body.
async fn get(client: &HttpsClient, uri: &Uri) -> anyhow::Result<(u16, String)> {
    let exchange = async {
        let response = client.get(uri.clone()).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        let start = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        anyhow::Ok((status, start))
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .with_context(|| format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()))?
}

/// `up`'s last step: waits for the shop's first 200 and says how fast it came; when it does not come, prints
/// the function's log lines of the last minute and fails (exit 1) with what to do.
pub async fn check(
    ctx: &Ctx,
    api_url: &str,
    deadline: Duration,
    progress: &Reporter,
) -> anyhow::Result<Answered> {
    let url = products_url(api_url);
    let asked_from_ms = logs::now_ms();
    match first_answer(&url, deadline).await {
        Ok(answered) => {
            progress.note(&format!(
                "The shop answers: GET {url} → 200 in {:.2} s ({:.1} s after the last change, cold start included)",
                answered.latency.as_secs_f64(),
                answered.after.as_secs_f64()
            ));
            Ok(answered)
        }
        Err(err) => {
            progress.note(&format!(
                "The function's log lines of the last minute ({}):",
                ctx.names.log_group()
            ));
            let mut cursor = logs::Cursor::default();
            cursor.newest_ms = asked_from_ms - 60_000;
            if let Err(log_err) = logs::print_new_events(ctx, &mut cursor, progress).await {
                progress.note(&format!(
                    "  (could not read them: {})",
                    crate::error::chain(&log_err)
                ));
            }
            Err(err.context(
                "every resource is in place, but the shop does not work yet. Read the log lines above (more with \
                 `shopsmart-deploy logs --since 10m`), fix the cause, and run `shopsmart-deploy up` again",
            ))
        }
    }
}
