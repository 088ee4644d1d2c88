//! One answer per question: an HTTP client that sends each distinct AWS
//! request once per run and hands its answer to every later asker.
//!
//! A sweep diagnoses many tasks that share a task definition, roles, images,
//! subnets and a VPC; each task's collection asks for them as if it were
//! alone, and this layer makes those repeats free. Askers of a request that
//! is already in flight share its answer, whatever it is: they asked at the
//! same moment, so a throttle or a server error is their answer too, and
//! each retries on its own schedule. Only answers that cannot change within
//! a run are kept for later askers: successes and refusals; throttling,
//! server errors and network failures are asked again.

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::retries::ErrorKind;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use aws_smithy_types::error::display::DisplayErrorContext;
use futures::future::{BoxFuture, FutureExt, Shared};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::call_log;

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

/// How a request ended, in a form every asker of it can be handed.
#[derive(Debug, Clone)]
enum Outcome {
    Answered(Stored),
    /// The connection failed: its kind (the SDK retries timeouts and I/O
    /// errors as transient) and its text.
    Failed(FailureKind, Arc<str>),
}

#[derive(Debug, Clone, Copy)]
enum FailureKind {
    Timeout,
    Io,
    User,
    Other(Option<ErrorKind>),
}

impl Outcome {
    fn failed(e: &ConnectorError) -> Outcome {
        let kind = if e.is_timeout() {
            FailureKind::Timeout
        } else if e.is_io() {
            FailureKind::Io
        } else if e.is_user() {
            FailureKind::User
        } else {
            FailureKind::Other(e.as_other())
        };
        Outcome::Failed(kind, Arc::from(DisplayErrorContext(e).to_string()))
    }

    /// What `--debug` says of it: the HTTP status and AWS's error code, or
    /// the kind of connection failure (never a body).
    fn describe(&self) -> String {
        match self {
            Outcome::Answered(stored) => {
                match call_log::error_code(stored.status, &stored.headers, &stored.body) {
                    Some(code) => format!("{} {code}", stored.status),
                    None => stored.status.to_string(),
                }
            }
            Outcome::Failed(kind, _) => format!(
                "connection failed ({})",
                match kind {
                    FailureKind::Timeout => "timeout",
                    FailureKind::Io => "I/O error",
                    FailureKind::User => "request error",
                    FailureKind::Other(_) => "other",
                }
            ),
        }
    }

    fn into_result(self) -> Result<HttpResponse, ConnectorError> {
        match self {
            Outcome::Answered(stored) => Ok(replay(&stored)),
            Outcome::Failed(kind, text) => {
                let source = text.to_string().into();
                Err(match kind {
                    FailureKind::Timeout => ConnectorError::timeout(source),
                    FailureKind::Io => ConnectorError::io(source),
                    FailureKind::User => ConnectorError::user(source),
                    FailureKind::Other(kind) => ConnectorError::other(source, kind),
                })
            }
        }
    }
}

type Flight = Shared<BoxFuture<'static, Outcome>>;

/// A request's place in the run: answered for good, or being asked now.
enum Slot {
    Kept(Stored),
    InFlight(Flight),
}

type Slots = Mutex<HashMap<Key, Slot>>;

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

/// The deduplicating client around the HTTPS client every request uses.
#[derive(Clone)]
pub struct Memo {
    inner: SharedHttpClient,
    slots: Arc<Slots>,
    pub counts: Arc<Counts>,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo")
            .field("counts", &self.counts)
            .finish()
    }
}

impl Memo {
    pub fn new() -> Self {
        Memo {
            inner: https_client(),
            slots: Arc::default(),
            counts: Arc::default(),
        }
    }
}

/// The client `aws-config` would build (hyper 1, rustls, proxy settings
/// from the environment), with ring as rustls' cryptography: it builds
/// without a C toolchain, where the default (aws-lc) is a long C build.
pub(super) fn https_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::{tls, Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(move |settings, components| {
        let mut conn = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
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
            slots: self.slots.clone(),
            counts: self.counts.clone(),
        })
    }
}

struct MemoConnector {
    inner: SharedHttpConnector,
    slots: Arc<Slots>,
    counts: Arc<Counts>,
}

impl std::fmt::Debug for MemoConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoConnector").finish_non_exhaustive()
    }
}

impl HttpConnector for MemoConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = operation(&request);
        // `--debug`: each request sent is named on stderr when it completes.
        let logged = call_log::enabled().then(|| call_log::name(&request));
        let Some(body) = request.body().bytes() else {
            // A streaming body cannot be compared: send it as it is.
            self.counts.sent(operation);
            let sent = self.inner.call(request);
            let Some(name) = logged else { return sent };
            let started = Instant::now();
            return HttpConnectorFuture::new(async move {
                let answer = sent.await;
                let outcome = match &answer {
                    Ok(response) => response.status().as_u16().to_string(),
                    Err(e) => Outcome::failed(e).describe(),
                };
                call_log::print(&name, &outcome, started.elapsed());
                answer
            });
        };
        let key = Key {
            method: request.method().to_string(),
            uri: request.uri().to_string(),
            target: request.headers().get("x-amz-target").map(str::to_string),
            body: body.to_vec(),
        };
        let mut slots = self.slots.lock().expect("memo lock");
        let flight = match slots.get(&key) {
            Some(Slot::Kept(stored)) => {
                self.counts.reused.fetch_add(1, Ordering::Relaxed);
                return HttpConnectorFuture::ready(Ok(replay(stored)));
            }
            Some(Slot::InFlight(flight)) => {
                self.counts.reused.fetch_add(1, Ordering::Relaxed);
                flight.clone()
            }
            None => {
                self.counts.sent(operation);
                let flight = ask(
                    self.inner.clone(),
                    request,
                    self.slots.clone(),
                    key.clone(),
                    logged,
                );
                slots.insert(key, Slot::InFlight(flight.clone()));
                flight
            }
        };
        drop(slots);
        HttpConnectorFuture::new(async move { flight.await.into_result() })
    }
}

/// Send one request; whoever drives it to the end records whether its
/// answer is kept for later askers or asked again.
/// `logged`: the call's name, to print when it completes (`--debug`).
fn ask(
    inner: SharedHttpConnector,
    request: HttpRequest,
    slots: Arc<Slots>,
    key: Key,
    logged: Option<String>,
) -> Flight {
    async move {
        let started = Instant::now();
        let outcome = match inner.call(request).await {
            Ok(response) => read(response).await,
            Err(e) => Outcome::failed(&e),
        };
        if let Some(name) = &logged {
            call_log::print(name, &outcome.describe(), started.elapsed());
        }
        let mut slots = slots.lock().expect("memo lock");
        match &outcome {
            Outcome::Answered(stored) if lasting(stored) => {
                slots.insert(key, Slot::Kept(stored.clone()));
            }
            _ => {
                slots.remove(&key);
            }
        }
        outcome
    }
    .boxed()
    .shared()
}

/// Read a response whole.
async fn read(response: HttpResponse) -> Outcome {
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    match ByteStream::new(response.into_body()).collect().await {
        Ok(body) => Outcome::Answered(Stored {
            status,
            headers,
            body: Arc::from(body.into_bytes().as_ref()),
        }),
        Err(e) => Outcome::failed(&ConnectorError::io(e.into())),
    }
}

/// Successes and client errors other than throttling stay true for a run.
fn lasting(stored: &Stored) -> bool {
    let Ok(status) = StatusCode::try_from(stored.status) else {
        return false;
    };
    if status.is_success() {
        return true;
    }
    if !status.is_client_error() || status.as_u16() == 429 {
        return false;
    }
    let text = String::from_utf8_lossy(&stored.body);
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
    use std::time::Duration;

    fn stored(status: u16, body: &str) -> Stored {
        Stored {
            status,
            headers: Vec::new(),
            body: Arc::from(body.as_bytes()),
        }
    }

    #[test]
    fn throttling_and_server_errors_are_not_kept() {
        assert!(lasting(&stored(200, "{}")));
        assert!(lasting(&stored(
            400,
            r#"{"__type":"AccessDeniedException"}"#
        )));
        assert!(!lasting(&stored(
            400,
            r#"{"__type":"ThrottlingException"}"#
        )));
        assert!(!lasting(&stored(400, "<Code>RequestLimitExceeded</Code>")));
        assert!(!lasting(&stored(503, "")));
        assert!(!lasting(&stored(429, "")));
    }

    /// Answers every request with `status` after a pause, counting them.
    #[derive(Debug)]
    struct Slow {
        status: u16,
        sent: Arc<AtomicUsize>,
    }

    impl HttpConnector for Slow {
        fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
            self.sent.fetch_add(1, Ordering::SeqCst);
            let status = self.status;
            HttpConnectorFuture::new(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(HttpResponse::new(
                    StatusCode::try_from(status).expect("status"),
                    SdkBody::from("answer"),
                ))
            })
        }
    }

    fn connector(status: u16) -> (MemoConnector, Arc<AtomicUsize>) {
        let sent = Arc::new(AtomicUsize::new(0));
        let memo = MemoConnector {
            inner: SharedHttpConnector::new(Slow {
                status,
                sent: sent.clone(),
            }),
            slots: Arc::default(),
            counts: Arc::default(),
        };
        (memo, sent)
    }

    fn request() -> HttpRequest {
        let mut request = HttpRequest::new(SdkBody::from("Action=DescribeSubnets"));
        request
            .set_uri("https://ec2.eu-west-1.amazonaws.com/")
            .expect("uri");
        request
    }

    async fn statuses(memo: &MemoConnector, askers: usize) -> Vec<u16> {
        futures::future::join_all((0..askers).map(|_| memo.call(request())))
            .await
            .into_iter()
            .map(|r| r.expect("an answer").status().as_u16())
            .collect()
    }

    #[tokio::test]
    async fn concurrent_askers_share_one_request_whatever_its_answer() {
        for status in [200, 400, 500] {
            let (memo, sent) = connector(status);
            assert_eq!(statuses(&memo, 5).await, vec![status; 5]);
            assert_eq!(sent.load(Ordering::SeqCst), 1, "status {status}");
            assert_eq!(memo.counts.reused.load(Ordering::SeqCst), 4);
        }
    }

    #[tokio::test]
    async fn only_lasting_answers_are_kept_for_later_askers() {
        let (kept, sent_kept) = connector(200);
        statuses(&kept, 1).await;
        statuses(&kept, 1).await;
        assert_eq!(sent_kept.load(Ordering::SeqCst), 1);

        let (passing, sent_passing) = connector(503);
        statuses(&passing, 1).await;
        statuses(&passing, 1).await;
        assert_eq!(sent_passing.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_connection_reaches_every_asker_with_its_kind() {
        #[derive(Debug)]
        struct Refused;
        impl HttpConnector for Refused {
            fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
                HttpConnectorFuture::new(async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Err(ConnectorError::timeout("read timed out".into()))
                })
            }
        }
        let memo = MemoConnector {
            inner: SharedHttpConnector::new(Refused),
            slots: Arc::default(),
            counts: Arc::default(),
        };
        let answers = futures::future::join_all((0..3).map(|_| memo.call(request()))).await;
        for answer in answers {
            let e = answer.expect_err("a failure");
            assert!(e.is_timeout());
            assert!(DisplayErrorContext(&e)
                .to_string()
                .contains("read timed out"));
        }
        assert!(
            memo.slots.lock().unwrap().is_empty(),
            "a failure is not kept"
        );
    }
}
