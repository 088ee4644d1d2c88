//! One answer per question: an HTTP client that sends each distinct AWS
//! request once per run and hands its answer to every later asker.
//!
//! A sweep diagnoses many tasks that share a task definition, roles, images,
//! subnets and a VPC; each task's collection asks for them as if it were
//! alone, and this layer makes those repeats free. Requests that are asked
//! concurrently wait for the first one's answer. Only answers that cannot
//! change within a run are kept: successes and refusals; throttling, server
//! errors and network failures are retried by the next asker.

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// What identifies a request: method, URI, operation (JSON protocols name it
/// in `X-Amz-Target`) and body. Signatures and dates differ per attempt and
/// are left out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    method: String,
    uri: String,
    target: Option<String>,
    body: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Stored {
    status: u16,
    headers: Vec<(String, String)>,
    body: Arc<[u8]>,
}

type Cells = Mutex<HashMap<Key, Arc<OnceCell<Stored>>>>;

/// Requests sent and answers reused (`ECS_DOCTOR_STATS=1` prints them).
#[derive(Debug, Default)]
pub struct Counts {
    pub reused: AtomicUsize,
    /// Requests sent, by operation.
    pub by_operation: Mutex<std::collections::BTreeMap<String, usize>>,
}

impl Counts {
    fn sent(&self, operation: String) {
        *self
            .by_operation
            .lock()
            .expect("counts lock")
            .entry(operation)
            .or_default() += 1;
    }
}

/// The operation a request asks for: `X-Amz-Target` (JSON protocols), the
/// `Action` parameter (query protocols), or the method and path (REST).
fn operation(request: &HttpRequest) -> String {
    if let Some(target) = request.headers().get("x-amz-target") {
        return target.to_string();
    }
    if let Some(body) = request.body().bytes() {
        let text = String::from_utf8_lossy(body);
        if let Some(action) = text.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
            return action.to_string();
        }
    }
    let uri = request.uri();
    let path = uri.split('?').next().unwrap_or(uri);
    format!(
        "{} {}",
        request.method(),
        path.splitn(4, '/').take(3).collect::<Vec<_>>().join("/")
    )
}

/// The deduplicating client around the SDK's default HTTPS client.
#[derive(Debug, Clone)]
pub struct Memo {
    inner: SharedHttpClient,
    cells: Arc<Cells>,
    pub counts: Arc<Counts>,
}

impl Memo {
    pub fn new() -> Self {
        Memo {
            inner: default_https_client(),
            cells: Arc::default(),
            counts: Arc::default(),
        }
    }
}

/// The SDK's default client (hyper 1, rustls with aws-lc, proxy settings
/// from the environment), as `aws-config` builds it.
fn default_https_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::{tls, Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(move |settings, components| {
        let mut conn = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ));
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    })
}

impl HttpClient for Memo {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(MemoConnector {
            inner: self.inner.http_connector(settings, components),
            cells: self.cells.clone(),
            counts: self.counts.clone(),
        })
    }
}

#[derive(Debug)]
struct MemoConnector {
    inner: SharedHttpConnector,
    cells: Arc<Cells>,
    counts: Arc<Counts>,
}

/// Why an answer was not kept: it is passed on to its asker only.
enum NotKept {
    Failed(ConnectorError),
    Passing(HttpResponse),
}

impl HttpConnector for MemoConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = operation(&request);
        let Some(body) = request.body().bytes() else {
            // A streaming body cannot be compared: send it as it is.
            self.counts.sent(operation);
            return self.inner.call(request);
        };
        let key = Key {
            method: request.method().to_string(),
            uri: request.uri().to_string(),
            target: request.headers().get("x-amz-target").map(str::to_string),
            body: body.to_vec(),
        };
        let cell = self
            .cells
            .lock()
            .expect("memo lock")
            .entry(key)
            .or_default()
            .clone();
        let inner = self.inner.clone();
        let counts = self.counts.clone();
        HttpConnectorFuture::new(async move {
            let mut asked = false;
            let got = cell
                .get_or_try_init(|| async {
                    asked = true;
                    counts.sent(operation);
                    let response = inner.call(request).await.map_err(NotKept::Failed)?;
                    keep(response).await
                })
                .await;
            match got {
                Ok(stored) => {
                    if !asked {
                        counts.reused.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(replay(stored))
                }
                Err(NotKept::Failed(e)) => Err(e),
                Err(NotKept::Passing(response)) => Ok(response),
            }
        })
    }
}

/// Read a response whole; keep it when its answer cannot change in a run.
async fn keep(response: HttpResponse) -> Result<Stored, NotKept> {
    let status = response.status();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let body = ByteStream::new(response.into_body())
        .collect()
        .await
        .map_err(|e| NotKept::Failed(ConnectorError::io(e.into())))?
        .into_bytes();
    let stored = Stored {
        status: status.as_u16(),
        headers,
        body: Arc::from(body.as_ref()),
    };
    if lasting(status, &stored.body) {
        Ok(stored)
    } else {
        Err(NotKept::Passing(replay(&stored)))
    }
}

/// Successes and client errors other than throttling stay true for a run.
fn lasting(status: StatusCode, body: &[u8]) -> bool {
    if status.is_success() {
        return true;
    }
    if !status.is_client_error() || status.as_u16() == 429 {
        return false;
    }
    let text = String::from_utf8_lossy(body);
    ![
        "Throttl",
        "RequestLimitExceeded",
        "TooManyRequests",
        "SlowDown",
    ]
    .iter()
    .any(|t| text.contains(t))
}

fn replay(stored: &Stored) -> HttpResponse {
    let status = StatusCode::try_from(stored.status).expect("a status that was received");
    let mut response = HttpResponse::new(status, SdkBody::from(stored.body.to_vec()));
    for (k, v) in &stored.headers {
        response.headers_mut().append(k.clone(), v.clone());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_server_errors_are_not_kept() {
        let ok = StatusCode::try_from(200).unwrap();
        let bad = StatusCode::try_from(400).unwrap();
        let busy = StatusCode::try_from(503).unwrap();
        assert!(lasting(ok, b"{}"));
        assert!(lasting(bad, br#"{"__type":"AccessDeniedException"}"#));
        assert!(!lasting(bad, br#"{"__type":"ThrottlingException"}"#));
        assert!(!lasting(bad, b"<Code>RequestLimitExceeded</Code>"));
        assert!(!lasting(busy, b""));
        assert!(!lasting(StatusCode::try_from(429).unwrap(), b""));
    }
}
