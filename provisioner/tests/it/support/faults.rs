//! Fault injection at the SDK's HTTP layer, for real-AWS behaviours moto does not reproduce (IAM propagation
//! delay, Lambda's Pending/InProgress states, S3's Block Public Access refusal, ...). The SDK's own HTTP client
//! is wrapped: a request that matches a rule gets the rule's canned AWS response (right status, headers and
//! body, so the SDK parses the TYPED error or output); every other request goes to moto unchanged.
//! Rules see the history of requests sent so far, so they can model AWS state ("refused until X was sent").

use std::sync::{Arc, Mutex};

use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

use shopsmart_deploy::aws::{load_sdk_config, AwsSettings, Clients};
use shopsmart_deploy::config::model::Config;
use shopsmart_deploy::resources::{Ctx, Mode};

/// One request as a rule sees it: `PUT /bucket?policy` (path without a trailing slash), the X-Amz-Target header (JSON-RPC services) and the
/// body when it is in memory.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub target: Option<String>,
    pub body: String,
    /// The region the request was signed for (from its SigV4 credential scope): every region reaches moto
    /// at the same endpoint.
    pub region: String,
}

impl SeenRequest {
    pub fn is(&self, method: &str, path: &str) -> bool {
        self.method == method && self.path == path
    }

    /// True for an S3-style sub-resource request such as `PUT /bucket?policy`.
    pub fn has_query_key(&self, key: &str) -> bool {
        self.query
            .split('&')
            .any(|pair| pair.split('=').next() == Some(key))
    }
}

/// A canned AWS answer.
#[derive(Debug, Clone)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Canned {
    /// A restJson1 error (Lambda, API Gateway v2): the type in `x-amzn-errortype`, the message in the body.
    pub fn rest_json_error(status: u16, error_type: &str, message: &str) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("x-amzn-errortype".into(), error_type.into()),
                ("x-amzn-requestid".into(), "fault-injected".into()),
            ],
            body: serde_json::json!({ "Type": "User", "message": message }).to_string(),
        }
    }

    /// An awsJson1_0 error (DynamoDB): the type in `__type` (and the header the SDK reads first).
    pub fn aws_json_error(status: u16, error_type: &str, message: &str) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type".into(), "application/x-amz-json-1.0".into()),
                ("x-amzn-errortype".into(), error_type.into()),
                ("x-amzn-requestid".into(), "fault-injected".into()),
            ],
            body: serde_json::json!({
                "__type": format!("com.amazonaws.dynamodb.v20120810#{error_type}"),
                "message": message
            })
            .to_string(),
        }
    }

    /// An awsQuery error (IAM, STS): code and message in an XML ErrorResponse.
    pub fn query_error(status: u16, code: &str, message: &str) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type".into(), "text/xml".into()),
                ("x-amzn-requestid".into(), "fault-injected".into()),
            ],
            body: format!(
                "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>\
                 <Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault-injected</RequestId>\
                 </ErrorResponse>"
            ),
        }
    }

    /// An awsJson1_0 success (DynamoDB) with a JSON body.
    pub fn dynamodb_ok(body: serde_json::Value) -> Self {
        Self {
            status: 200,
            headers: vec![
                ("content-type".into(), "application/x-amz-json-1.0".into()),
                ("x-amzn-requestid".into(), "fault-injected".into()),
            ],
            body: body.to_string(),
        }
    }

    /// An awsJson1_1 success (AWS Budgets) with a JSON body.
    pub fn aws_json_ok(body: serde_json::Value) -> Self {
        Self {
            status: 200,
            headers: vec![
                ("content-type".into(), "application/x-amz-json-1.1".into()),
                ("x-amzn-requestid".into(), "fault-injected".into()),
            ],
            body: body.to_string(),
        }
    }

    /// A restJson1 success with a JSON body.
    pub fn rest_json_ok(body: serde_json::Value) -> Self {
        Self {
            status: 200,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("x-amzn-requestid".into(), "fault-injected".into()),
            ],
            body: body.to_string(),
        }
    }

    /// An S3 (restXml) error document.
    pub fn s3_error(status: u16, code: &str, message: &str) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type".into(), "application/xml".into()),
                ("x-amz-request-id".into(), "fault-injected".into()),
            ],
            body: format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>\
                 <RequestId>fault-injected</RequestId></Error>"
            ),
        }
    }

    fn to_response(&self) -> HttpResponse {
        let mut response = HttpResponse::new(
            StatusCode::try_from(self.status).expect("valid status"),
            SdkBody::from(self.body.clone()),
        );
        for (name, value) in &self.headers {
            response.headers_mut().insert(name.clone(), value.clone());
        }
        response
    }
}

type Predicate = dyn Fn(&SeenRequest, &[SeenRequest]) -> bool + Send + Sync;
type Responder = dyn Fn(&SeenRequest, &[SeenRequest]) -> Canned + Send + Sync;

struct Rule {
    /// `(request, history before it) -> inject?`
    matches: Box<Predicate>,
    /// How many more times this rule answers; `usize::MAX` for always.
    remaining: usize,
    /// `(request, history before it) -> answer`: a fixed answer, or one computed from earlier requests.
    response: Box<Responder>,
    /// The request is sent on (AWS carries it out) and the answer replaces AWS's: a lost answer.
    forward: bool,
    hits: Arc<Mutex<usize>>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    history: Vec<SeenRequest>,
}

/// The HTTP client to put into the SdkConfig; clone it to add rules after the clients are built.
#[derive(Clone)]
pub struct Faults {
    inner: SharedHttpClient,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Faults")
    }
}

/// How often a rule fired, readable after the test ran.
#[derive(Clone, Debug)]
pub struct Hits(Arc<Mutex<usize>>);

impl Hits {
    pub fn count(&self) -> usize {
        *self.0.lock().unwrap()
    }
}

impl Faults {
    /// Wraps the SDK's default HTTP client (rustls, as `default-https-client` builds it).
    pub fn new() -> Self {
        let inner = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
            .build_https();
        Self {
            inner,
            state: Arc::default(),
        }
    }

    /// Answers the first `times` requests matching `matches` with `response` instead of sending them.
    pub fn inject(
        &self,
        times: usize,
        matches: impl Fn(&SeenRequest, &[SeenRequest]) -> bool + Send + Sync + 'static,
        response: Canned,
    ) -> Hits {
        self.inject_with(times, matches, move |_, _| response.clone())
    }

    /// Like `inject`, but the answer is computed from the request and the history before it: emulates the
    /// state of an API the emulator lacks (e.g. tags set by an earlier create).
    pub fn inject_with(
        &self,
        times: usize,
        matches: impl Fn(&SeenRequest, &[SeenRequest]) -> bool + Send + Sync + 'static,
        respond: impl Fn(&SeenRequest, &[SeenRequest]) -> Canned + Send + Sync + 'static,
    ) -> Hits {
        self.add_rule(times, Box::new(matches), Box::new(respond), false)
    }

    /// Sends the first `times` requests matching `matches` on, so AWS (moto) carries them out, and answers
    /// `response` in place of AWS's answer: a call that succeeded but whose answer was lost on the way back
    /// (the SDK then sends it again).
    pub fn lose_answer(
        &self,
        times: usize,
        matches: impl Fn(&SeenRequest, &[SeenRequest]) -> bool + Send + Sync + 'static,
        response: Canned,
    ) -> Hits {
        let respond = move |_: &SeenRequest, _: &[SeenRequest]| response.clone();
        self.add_rule(times, Box::new(matches), Box::new(respond), true)
    }

    fn add_rule(
        &self,
        times: usize,
        matches: Box<Predicate>,
        response: Box<Responder>,
        forward: bool,
    ) -> Hits {
        let hits = Arc::new(Mutex::new(0));
        self.state.lock().unwrap().rules.push(Rule {
            matches,
            remaining: times,
            response,
            forward,
            hits: hits.clone(),
        });
        Hits(hits)
    }

    /// Every request seen so far (injected or forwarded), oldest first.
    pub fn history(&self) -> Vec<SeenRequest> {
        self.state.lock().unwrap().history.clone()
    }

    /// The requests seen so far (injected or forwarded) that `matches` picks, oldest first.
    pub fn seen(&self, matches: impl Fn(&SeenRequest, &[SeenRequest]) -> bool) -> Vec<SeenRequest> {
        self.history()
            .into_iter()
            .filter(|request| matches(request, &[]))
            .collect()
    }

    /// The canned answer for `request`, if a rule takes it, and whether the request goes on to AWS first.
    fn answer(&self, request: &HttpRequest) -> Option<(HttpResponse, bool)> {
        let uri: http::Uri = request.uri().parse().expect("the SDK sends valid URIs");
        let seen = SeenRequest {
            method: request.method().to_owned(),
            path: normalize(&percent_decode(uri.path())),
            query: uri.query().unwrap_or_default().to_owned(),
            target: request.headers().get("x-amz-target").map(str::to_owned),
            body: request
                .body()
                .bytes()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default(),
            region: signed_region(request.headers().get("authorization").unwrap_or_default()),
        };
        let mut state = self.state.lock().unwrap();
        let State { rules, history } = &mut *state;
        let response = rules
            .iter_mut()
            .find(|rule| rule.remaining > 0 && (rule.matches)(&seen, history))
            .map(|rule| {
                rule.remaining = rule.remaining.saturating_sub(1);
                *rule.hits.lock().unwrap() += 1;
                ((rule.response)(&seen, history).to_response(), rule.forward)
            });
        history.push(seen);
        response
    }
}

/// `AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ...` → `REGION`.
fn signed_region(authorization: &str) -> String {
    authorization
        .split("Credential=")
        .nth(1)
        .and_then(|scope| scope.split('/').nth(2))
        .unwrap_or_default()
        .to_owned()
}

/// S3 path-style requests end bucket paths with `/`; rules name `/bucket`.
fn normalize(path: &str) -> String {
    match path.trim_end_matches('/') {
        "" => "/".to_owned(),
        trimmed => trimmed.to_owned(),
    }
}

fn percent_decode(path: &str) -> String {
    percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned()
}

impl HttpClient for Faults {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(FaultyConnector {
            faults: self.clone(),
            inner: self.inner.http_connector(settings, components),
        })
    }
}

#[derive(Debug)]
struct FaultyConnector {
    faults: Faults,
    inner: SharedHttpConnector,
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        match self.faults.answer(&request) {
            Some((response, false)) => HttpConnectorFuture::ready(Ok(response)),
            Some((response, true)) => {
                let sent = self.inner.call(request);
                HttpConnectorFuture::new(async move {
                    sent.await?;
                    Ok(response)
                })
            }
            None => self.inner.call(request),
        }
    }
}

/// A read-only context for a fresh stage in `region` (moto's default account) whose traffic passes through
/// `faults`.
pub async fn plan_ctx(faults: &Faults, region: &str) -> Ctx {
    let config = super::test_config(&super::unique_stage(), region);
    ctx_with_faults(config, Mode::Plan, &[], faults).await
}

/// A stack context against moto whose HTTP traffic passes through `faults`.
pub async fn ctx_with_faults(
    config: Config,
    mode: Mode,
    interceptors: &[SharedInterceptor],
    faults: &Faults,
) -> Ctx {
    let settings = AwsSettings {
        region: config.region.clone(),
        profile: None,
        endpoint_url: Some(super::endpoint()),
        emulator_credentials: false,
        single_attempt: false,
    };
    let sdk = load_sdk_config(&settings)
        .await
        .into_builder()
        .http_client(faults.clone())
        .build();
    Ctx {
        aws: Clients::new(&sdk, interceptors),
        names: config.names(),
        account_id: super::MOTO_ACCOUNT_ID.into(),
        region: config.region.clone(),
        config,
        mode,
        notes: Default::default(),
        guard_reads: Default::default(),
        buckets: Default::default(),
    }
}
