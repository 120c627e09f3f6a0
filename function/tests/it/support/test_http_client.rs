//! An HTTP client for the SDK that wraps the default one to (a) serialize requests to moto and
//! (b) run a hook just before a chosen DynamoDB operation goes out.
//!
//! Why: moto applies TransactWriteItems item by item without a lock, so two concurrent transactions can both
//! pass a condition that real DynamoDB would let only one pass. Holding one mutex per request makes moto
//! behave like DynamoDB for the concurrency tests. This is test-only; the product code never serializes.
//! The hook lets a test change data between the checkout's read and its transaction (a race moto cannot
//! be made to produce on demand).
//! (c) answer chosen DynamoDB operations as DynamoDB does when it throttles ([`Throttle`]): moto has no
//! capacity and never throttles, so these answers come from here, in the shapes DynamoDB documents.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;

pub type Hook = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

#[derive(Clone)]
pub struct TestHttpClient {
    inner: SharedHttpClient,
    lock: Option<Arc<tokio::sync::Mutex<()>>>,
    /// (X-Amz-Target suffix such as "TransactWriteItems", hook)
    before: Option<(&'static str, Hook)>,
    throttle: Throttle,
    recorder: Option<Recorder>,
}

/// Every DynamoDB exchange that went to moto: (operation, request JSON, response JSON), for measuring what a
/// route consumes (capacity.rs).
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<(String, serde_json::Value, serde_json::Value)>>>);

impl Recorder {
    pub fn take(&self) -> Vec<(String, serde_json::Value, serde_json::Value)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// How DynamoDB answers a throttled request (botocore's dynamodb service-2.json and the DynamoDB API
/// reference): HTTP 400, `application/x-amz-json-1.0`, `{"__type":"com.amazonaws.dynamodb.v20120810#CODE",
/// "message":...}`; a transaction cancelled for want of capacity is `TransactionCanceledException` whose
/// `CancellationReasons` (one per action, in order) hold `{"Code":"ThrottlingError"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    ProvisionedThroughputExceeded,
    ThrottlingException,
    RequestLimitExceeded,
    /// TransactWriteItems only: cancelled, the first stock Update's reason `ThrottlingError`, the rest `None`.
    TransactionThrottled,
    /// BatchGetItem only: 200 with every requested key back in `UnprocessedKeys` (DynamoDB's answer when
    /// the table's read capacity is used up).
    AllKeysUnprocessed,
    /// Not a throttle: a `ValidationException` (the SDK does not retry it), for a plain 500.
    Validation,
}

/// Which operations the double answers instead of moto, and how many such answers it gave.
#[derive(Clone, Default)]
pub struct Throttle(Arc<Mutex<ThrottleState>>);

#[derive(Default)]
struct ThrottleState {
    rules: Vec<(&'static str, Shape)>,
    answered: Vec<&'static str>,
}

impl Throttle {
    /// From now on `operation` (e.g. "Scan") is answered with `shape` (replacing an earlier rule for it).
    pub fn on(&self, operation: &'static str, shape: Shape) {
        let mut state = self.0.lock().unwrap();
        state.rules.retain(|(op, _)| *op != operation);
        state.rules.push((operation, shape));
    }

    /// The throttle lifts: every request goes to moto again.
    pub fn off(&self) {
        self.0.lock().unwrap().rules.clear();
    }

    /// The operations answered by the double so far (one per attempt), emptied.
    pub fn take_answered(&self) -> Vec<&'static str> {
        std::mem::take(&mut self.0.lock().unwrap().answered)
    }

    fn answer(&self, request: &HttpRequest) -> Option<HttpResponse> {
        let target = request.headers().get("x-amz-target")?;
        let mut state = self.0.lock().unwrap();
        let (operation, shape) = *state
            .rules
            .iter()
            .find(|(op, _)| target.ends_with(&format!(".{op}")))?;
        state.answered.push(operation);
        let body = json_of(request.body().bytes());
        let error = |code: &str, message: &str| {
            serde_json::json!({
                "__type": format!("com.amazonaws.dynamodb.v20120810#{code}"),
                "message": message,
            })
        };
        let (status, json) = match shape {
            Shape::ProvisionedThroughputExceeded => (400, error(
                "ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
            )),
            Shape::ThrottlingException => (400, error("ThrottlingException", "Rate of requests exceeds the allowed throughput.")),
            Shape::RequestLimitExceeded => (400, error(
                "RequestLimitExceeded",
                "Throughput exceeds the current throughput limit for your account. Please contact AWS Support at https://aws.amazon.com/support request a limit increase",
            )),
            Shape::Validation => (400, error("ValidationException", "One or more parameter values were invalid")),
            Shape::TransactionThrottled => {
                let actions = body["TransactItems"].as_array().map_or(1, Vec::len);
                let reasons: Vec<serde_json::Value> = (0..actions)
                    .map(|i| match i {
                        1 => serde_json::json!({"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly."}),
                        _ => serde_json::json!({"Code": "None"}),
                    })
                    .collect();
                let codes: Vec<&str> = reasons.iter().map(|r| r["Code"].as_str().unwrap()).collect();
                (400, serde_json::json!({
                    "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                    "Message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", codes.join(", ")),
                    "CancellationReasons": reasons,
                }))
            }
            Shape::AllKeysUnprocessed => (200, serde_json::json!({
                "Responses": {},
                "UnprocessedKeys": body["RequestItems"].clone(),
            })),
        };
        let mut response = Response::new(
            StatusCode::try_from(status).unwrap(),
            SdkBody::from(json.to_string()),
        );
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        Some(response)
    }
}

impl fmt::Debug for TestHttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestHttpClient")
            .field("serialized", &self.lock.is_some())
            .finish()
    }
}

impl TestHttpClient {
    fn plain() -> Self {
        TestHttpClient {
            inner: aws_smithy_http_client::Builder::new().build_http(),
            lock: None,
            before: None,
            throttle: Throttle::default(),
            recorder: None,
        }
    }

    /// Records every exchange with moto in `recorder`.
    pub fn recording(recorder: Recorder) -> Self {
        TestHttpClient {
            recorder: Some(recorder),
            ..Self::plain()
        }
    }

    /// Requests go to moto except those `throttle` answers itself (see [`Throttle`]).
    pub fn throttled_by(throttle: Throttle) -> Self {
        TestHttpClient {
            throttle,
            ..Self::plain()
        }
    }

    /// One request at a time to moto.
    pub fn serialized() -> Self {
        TestHttpClient {
            lock: Some(Arc::new(tokio::sync::Mutex::new(()))),
            ..Self::plain()
        }
    }

    /// Runs `hook` (to completion) before every request of `operation` is sent.
    pub fn with_hook_before(operation: &'static str, hook: Hook) -> Self {
        TestHttpClient {
            before: Some((operation, hook)),
            ..Self::plain()
        }
    }
}

impl HttpClient for TestHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(TestConnector {
            inner: self.inner.http_connector(settings, components),
            client: self.clone(),
        })
    }
}

fn json_of(bytes: Option<&[u8]>) -> serde_json::Value {
    bytes
        .and_then(|bytes| serde_json::from_slice(bytes).ok())
        .unwrap_or_default()
}

#[derive(Debug)]
struct TestConnector {
    inner: SharedHttpConnector,
    client: TestHttpClient,
}

impl HttpConnector for TestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let lock = self.client.lock.clone();
        let recorder = self.client.recorder.clone();
        let hook = self.client.before.clone().filter(|(operation, _)| {
            request
                .headers()
                .get("x-amz-target")
                .is_some_and(|target| target.ends_with(&format!(".{operation}")))
        });
        if let Some(response) = self.client.throttle.answer(&request) {
            return HttpConnectorFuture::ready(Ok(response));
        }
        HttpConnectorFuture::new(async move {
            if let Some((_, hook)) = hook {
                hook().await;
            }
            // moto answers only after it has fully applied the request, so holding the lock until the
            // response head arrives is enough to serialize the writes.
            let _guard = match &lock {
                Some(lock) => Some(lock.lock().await),
                None => None,
            };
            let Some(recorder) = recorder else {
                return inner.call(request).await;
            };
            let operation = request
                .headers()
                .get("x-amz-target")
                .and_then(|target| target.rsplit('.').next())
                .unwrap_or("unknown")
                .to_owned();
            let sent = json_of(request.body().bytes());
            let mut response = inner.call(request).await?;
            let body = std::mem::replace(response.body_mut(), SdkBody::taken());
            let bytes = http_body_util::BodyExt::collect(body)
                .await
                .map_err(|e| ConnectorError::other(e, None))?
                .to_bytes();
            recorder
                .0
                .lock()
                .unwrap()
                .push((operation, sent, json_of(Some(&bytes))));
            *response.body_mut() = SdkBody::from(bytes);
            Ok(response)
        })
    }
}
