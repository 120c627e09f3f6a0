//! An HTTP client for the SDK that wraps the default one to (a) serialize requests to moto and
//! (b) run a hook just before a chosen DynamoDB operation goes out.
//!
//! Why: moto applies TransactWriteItems item by item without a lock, so two concurrent transactions can both
//! pass a condition that real DynamoDB would let only one pass. Holding one mutex per request makes moto
//! behave like DynamoDB for the concurrency tests. This is test-only; the product code never serializes.
//! The hook lets a test change data between the checkout's read and its transaction (a race moto cannot
//! be made to produce on demand).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

pub type Hook = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

#[derive(Clone)]
pub struct TestHttpClient {
    inner: SharedHttpClient,
    lock: Option<Arc<tokio::sync::Mutex<()>>>,
    /// (X-Amz-Target suffix such as "TransactWriteItems", hook)
    before: Option<(&'static str, Hook)>,
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

#[derive(Debug)]
struct TestConnector {
    inner: SharedHttpConnector,
    client: TestHttpClient,
}

impl HttpConnector for TestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let lock = self.client.lock.clone();
        let hook = self.client.before.clone().filter(|(operation, _)| {
            request
                .headers()
                .get("x-amz-target")
                .is_some_and(|target| target.ends_with(&format!(".{operation}")))
        });
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
            inner.call(request).await
        })
    }
}
