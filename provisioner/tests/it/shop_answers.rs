//! `up` ends when the shop answers: the check asks `GET /products?limit=1` of a local HTTP server standing in
//! for the API (moto cannot run the function), which fails a few times as a cold, not-yet-authorised
//! function would, or keeps failing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::routing::get;

use shopsmart_deploy::error::chain;
use shopsmart_deploy::report::Reporter;
use shopsmart_deploy::resources::Mode;
use shopsmart_deploy::smoke;

use crate::support::resources::log_group;
use crate::support::{ctx, test_config, unique_stage};

/// Answers `failures` times with `status`, then 200; records the URIs it was asked.
#[derive(Clone, Default)]
struct StandIn {
    failures: usize,
    status: u16,
    asked: Arc<AtomicUsize>,
    uris: Arc<Mutex<Vec<String>>>,
}

async fn answer(State(api): State<StandIn>, uri: Uri) -> (StatusCode, &'static str) {
    api.uris.lock().unwrap().push(uri.to_string());
    if api.asked.fetch_add(1, Ordering::SeqCst) < api.failures {
        let status = StatusCode::from_u16(api.status).unwrap();
        (status, r#"{"message":"Internal Server Error"}"#)
    } else {
        (StatusCode::OK, r#"{"products":[]}"#)
    }
}

/// Serves `api` on a free loopback port; returns its base URL (as API Gateway's, without a trailing path).
async fn serve(api: StandIn) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/products", get(answer))
        .with_state(api);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

#[tokio::test]
async fn the_check_waits_through_a_cold_start_and_reports_the_first_200() {
    let api = StandIn {
        failures: 2,
        status: 503,
        ..StandIn::default()
    };
    let base = serve(api.clone()).await;
    let answered = smoke::first_answer(&smoke::products_url(&base), Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(api.asked.load(Ordering::SeqCst), 3);
    assert_eq!(
        *api.uris.lock().unwrap(),
        vec!["/products?limit=1"; 3],
        "one product, the cheapest read"
    );
    assert!(answered.latency <= answered.after);
}

#[tokio::test]
async fn a_shop_that_keeps_failing_fails_up_with_what_it_answered_and_what_to_do() {
    let config = test_config(&unique_stage(), "us-east-1");
    let ctx = ctx(config, Mode::Apply, &[]).await;
    log_group::converge(&ctx).await.unwrap();
    ctx.aws
        .logs
        .create_log_stream()
        .log_group_name(ctx.names.log_group())
        .log_stream_name("2026/11/30/[$LATEST]test")
        .send()
        .await
        .unwrap();
    crate::day2::put_events(
        &ctx,
        "2026/11/30/[$LATEST]test",
        &["AccessDeniedException: not authorized to perform dynamodb:Scan"],
    )
    .await;
    let api = StandIn {
        failures: usize::MAX,
        status: 500,
        ..StandIn::default()
    };
    let base = serve(api.clone()).await;
    let err = smoke::check(&ctx, &base, Duration::from_secs(2), &Reporter::plain())
        .await
        .unwrap_err();
    let text = chain(&err);
    assert!(text.contains("the shop does not work yet"), "{text}");
    assert!(
        text.contains(r#"last answer: HTTP 500 {"message":"Internal Server Error"}"#),
        "{text}"
    );
    assert!(text.contains("timed out after 2 s"), "{text}");
    assert!(api.asked.load(Ordering::SeqCst) >= 2, "asked again");
    log_group::destroy(&ctx).await.unwrap();
}
