//! `--debug`: one line on stderr for each AWS call as it completes — the
//! operation (`ecs:DescribeTasks`), its outcome (the HTTP status and the
//! error code AWS gave) and how long it took, as the AWS CLI's `--debug`
//! shows them. Never a request or a response body, nor a header's value
//! other than the service that signed it: those can carry secrets.

use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static ON: AtomicBool = AtomicBool::new(false);

/// Turn the call log on for this process (`--debug`).
pub fn enable(on: bool) {
    ON.store(on, Ordering::Relaxed);
}

/// Whether `--debug` was given.
pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// The call a request makes, as IAM names it: `ecs:DescribeTasks`.
pub fn name(request: &HttpRequest) -> String {
    format!("{}:{}", service(request), operation(request))
}

/// The service that signs the request (the credential scope of SigV4 is
/// `KEY/DATE/REGION/SERVICE/aws4_request`), else the host's first label.
fn service(request: &HttpRequest) -> String {
    let signed = request.headers().get("authorization").and_then(|auth| {
        let scope = auth.split("Credential=").nth(1)?.split([',', ' ']).next()?;
        scope.split('/').nth(3).map(str::to_string)
    });
    signed.unwrap_or_else(|| {
        let uri = request.uri();
        let host = uri.split("://").nth(1).unwrap_or(uri);
        host.split(['.', '/', ':'])
            .next()
            .unwrap_or("aws")
            .to_string()
    })
}

/// The operation: `X-Amz-Target` (JSON protocols), the `Action` parameter
/// (query protocols), or for a REST call (EFS) what its path reads.
fn operation(request: &HttpRequest) -> String {
    if let Some(target) = request.headers().get("x-amz-target") {
        return target.rsplit('.').next().unwrap_or(target).to_string();
    }
    if let Some(body) = request.body().bytes() {
        let text = String::from_utf8_lossy(body);
        if let Some(action) = text.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
            return action.to_string();
        }
    }
    let uri = request.uri();
    let path = uri
        .split("://")
        .nth(1)
        .map_or(uri, |rest| rest.find('/').map_or("/", |at| &rest[at..]));
    let path = path.split('?').next().unwrap_or(path);
    // The last named segment decides: /file-systems/fs-1/policy reads the policy.
    let named = path.split('/').rev().find_map(|segment| match segment {
        "policy" => Some("DescribeFileSystemPolicy"),
        "security-groups" => Some("DescribeMountTargetSecurityGroups"),
        "mount-targets" => Some("DescribeMountTargets"),
        "access-points" => Some("DescribeAccessPoints"),
        "file-systems" => Some("DescribeFileSystems"),
        _ => None,
    });
    if let Some(named) = named {
        return named.to_string();
    }
    format!("{} {path}", request.method())
}

/// The error code of an answer that is not a success: the
/// `x-amzn-errortype` header, a JSON `__type` or an XML `<Code>`.
pub fn error_code(status: u16, headers: &[(String, String)], body: &[u8]) -> Option<String> {
    if (200..300).contains(&status) {
        return None;
    }
    let header = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-amzn-errortype"))
        .map(|(_, v)| v.split(':').next().unwrap_or(v).to_string());
    let text = String::from_utf8_lossy(body);
    let from_json = || {
        let value: serde_json::Value = serde_json::from_str(&text).ok()?;
        let code = value
            .get("__type")
            .or_else(|| value.get("code"))?
            .as_str()?;
        Some(code.rsplit('#').next().unwrap_or(code).to_string())
    };
    let from_xml = || {
        let start = text.find("<Code>")? + "<Code>".len();
        let end = text[start..].find("</Code>")? + start;
        Some(text[start..end].trim().to_string())
    };
    header
        .filter(|h| !h.is_empty())
        .or_else(from_json)
        .or_else(from_xml)
        .filter(|code| {
            code.len() <= 80
                && code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        })
}

/// Print one completed call: `ecs-doctor: debug: ecs:DescribeTasks 200 (41 ms)`.
pub fn print(name: &str, outcome: &str, took: Duration) {
    eprintln!(
        "ecs-doctor: debug: {name} {outcome} ({} ms)",
        took.as_millis()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::body::SdkBody;

    fn request(uri: &str, body: &str, headers: &[(&str, &str)]) -> HttpRequest {
        let mut request = HttpRequest::new(SdkBody::from(body));
        request.set_uri(uri).expect("uri");
        for (k, v) in headers {
            request.headers_mut().insert(k.to_string(), v.to_string());
        }
        request
    }

    const SIGNED: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=abc";

    #[test]
    fn calls_are_named_as_iam_names_them() {
        let json = request(
            "http://127.0.0.1:5000/",
            "{}",
            &[
                (
                    "x-amz-target",
                    "AmazonEC2ContainerServiceV20141113.DescribeTasks",
                ),
                ("authorization", SIGNED),
            ],
        );
        assert_eq!(name(&json), "ecs:DescribeTasks");
        let query = request(
            "https://ec2.eu-west-1.amazonaws.com/",
            "Action=DescribeSubnets&Version=2016-11-15",
            &[],
        );
        assert_eq!(name(&query), "ec2:DescribeSubnets");
        let rest = request(
            "https://elasticfilesystem.us-east-1.amazonaws.com/2015-02-01/file-systems/fs-1/policy",
            "",
            &[],
        );
        assert_eq!(name(&rest), "elasticfilesystem:DescribeFileSystemPolicy");
        let rest = request(
            "https://elasticfilesystem.us-east-1.amazonaws.com/2015-02-01/mount-targets?FileSystemId=fs-1",
            "",
            &[],
        );
        assert_eq!(name(&rest), "elasticfilesystem:DescribeMountTargets");
    }

    #[test]
    fn error_codes_come_from_headers_json_or_xml_and_never_carry_text() {
        let none: &[(String, String)] = &[];
        assert_eq!(error_code(200, none, b"{\"secret\":\"x\"}"), None);
        assert_eq!(
            error_code(
                400,
                none,
                br#"{"__type":"com.amazon#ClusterNotFoundException","message":"m"}"#
            )
            .as_deref(),
            Some("ClusterNotFoundException")
        );
        assert_eq!(
            error_code(
                403,
                none,
                b"<Response><Errors><Error><Code>UnauthorizedOperation</Code>"
            )
            .as_deref(),
            Some("UnauthorizedOperation")
        );
        let header = [(
            "X-Amzn-ErrorType".to_string(),
            "ThrottlingException:http://x".to_string(),
        )];
        assert_eq!(
            error_code(400, &header, b"").as_deref(),
            Some("ThrottlingException")
        );
        assert_eq!(error_code(500, none, b"<Code>has a space</Code>"), None);
    }
}
