//! A stop text read by its structure, not by the words it happens to hold.
//!
//! ECS, the agent, containerd and Docker each wrap the error they got in
//! their own words, so a stop text is a chain of links joined by `": "`:
//!
//! ```text
//! CannotPullContainerError: pull image manifest has been retried 5 time(s):
//!   failed to resolve ref docker.io/library/web:v3: … : dial tcp 3.33.139.32:443: i/o timeout
//! ```
//!
//! The innermost link that says what went wrong decides the text's
//! [`Outcome`] (here a timeout, not a missing image), and the innermost link
//! that names an area decides its [`Domain`] (what the failing call was
//! about). Before either is read, quoted strings, URLs, ARNs and paths are
//! masked: a word inside a quoted path (`"/app/not-found.sh"`), a host name or
//! an action name never states a fact of its own. The generic wrapper
//! `unable to pull secrets or registry auth` names no area either.
//!
//! Fargate and the ECS console cut long texts (a stopped reason holds 255
//! characters, and ECS marks the cut with `...`): a cut text states what
//! comes before the cut and nothing after it.

use regex::Regex;
use std::sync::OnceLock;

/// What the innermost link of a text says went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A thing (image, tag, secret, log group, file) does not exist.
    NotFound,
    /// "does not exist or no pull access": either, the text cannot say which.
    NotFoundOrDenied,
    /// A caller was refused an action (`AccessDenied`, `is not authorized to perform`).
    Denied,
    /// A registry refused the credentials, or there were none (HTTP 401).
    Unauthorized,
    /// A server answered HTTP 403 Forbidden.
    Forbidden,
    /// A registry or API rate-limited the request.
    RateLimited,
    /// A connection timed out or a request was cancelled waiting for one.
    TimedOut,
    /// A connection was refused, reset, or could not be made at all.
    ConnectionFailed,
    /// A host name did not resolve.
    DnsFailed,
    /// The command doing the work was killed (`signal: killed`): on Fargate,
    /// AWS's documented sign of a task with no network path to the service.
    Killed,
    /// A disk filled up.
    NoSpace,
}

impl Outcome {
    /// An outcome of the network path (timeouts, refusals, DNS, a killed pull).
    pub fn is_network(self) -> bool {
        matches!(
            self,
            Outcome::TimedOut | Outcome::ConnectionFailed | Outcome::DnsFailed | Outcome::Killed
        )
    }

    /// A refusal of some kind (by IAM, a registry, or a server).
    pub fn is_refusal(self) -> bool {
        matches!(
            self,
            Outcome::Denied | Outcome::Unauthorized | Outcome::Forbidden
        )
    }
}

/// What the failing step was about: the innermost link that names an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// An image: its manifest, tag, repository or pull.
    Image,
    /// An image layer or configuration blob, downloaded from a storage bucket.
    Layer,
    /// Registry credentials: ECR's authorization token, or a registry secret.
    RegistryAuth,
    /// A Secrets Manager secret.
    Secrets,
    /// A Parameter Store parameter.
    Parameters,
    /// A KMS key decrypting a secret or parameter.
    Kms,
    /// CloudWatch Logs or the logging driver.
    Logs,
    /// An EFS file system or its mount.
    Efs,
    /// Environment files in S3.
    EnvFiles,
    /// The container's command or entry point.
    Command,
}

/// A stop text read by its structure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// What the innermost link says went wrong, if any link says.
    pub outcome: Option<Outcome>,
    /// What the failing step was about: the innermost link that names an area.
    pub domain: Option<Domain>,
    /// Every area the text names, innermost first (a secret whose KMS key
    /// refused names both).
    pub areas: Vec<Domain>,
    /// The action a refusal names, lower case (`secretsmanager:getsecretvalue`:
    /// IAM actions are case-insensitive, and a text reads the same however
    /// it is cased).
    pub denied_action: Option<String>,
    /// The text was cut: it ends with ECS's `...`, or mid-link.
    pub cut: bool,
}

/// One link-level phrase table: the first row whose pattern a link matches
/// gives the link's outcome (more specific rows first).
const OUTCOMES: &[(Outcome, &str)] = &[
    (
        Outcome::RateLimited,
        r"toomanyrequests|too many requests|rate limit|\b429\b",
    ),
    (
        Outcome::NoSpace,
        r"no space left|disk quota exceeded|enospc|thin pool has \d+ free data blocks|not enough space on the disk",
    ),
    (
        Outcome::NotFoundOrDenied,
        r"does not exist or no pull access|does not exist or may require|requested access to the resource is denied",
    ),
    // `signal: killed` is split into links: its last link is `killed`.
    (Outcome::Killed, r"^killed$|signal: killed"),
    (
        Outcome::DnsFailed,
        r#"no such host|server misbehaving|temporary failure in name resolution|name resolution|dns resolution|failed to resolve (?:<q>|")|could not resolve|no host found|name or service not known|\blookup \S+ on \S|lookup mount target ip"#,
    ),
    (
        Outcome::TimedOut,
        r"i/o timeout|connection timed out|tls handshake timeout|deadline exceeded|request canceled|context canceled|client\.timeout|timeout awaiting|\bdial tcp\b.*\btimeout",
    ),
    (
        Outcome::ConnectionFailed,
        r"connection refused|connection reset|network is unreachable|no route to host|send request failed|could not reach any registry endpoint|connection issue between|unable to connect|broken pipe|\beof\b",
    ),
    (
        Outcome::Unauthorized,
        r"\b401\b|unauthorized|authentication required|no basic auth credentials|incorrect username or password|failed to authorize|may require 'docker login'",
    ),
    (
        Outcome::Forbidden,
        r"\b403\b|forbidden|<code>accessdenied</code>",
    ),
    (
        Outcome::Denied,
        r"accessdenied|access denied|not authorized to perform|is not authorized|permission denied|access to kms is not allowed",
    ),
    (
        Outcome::NotFound,
        r"not found|manifest unknown|name unknown|does not exist|can't find|cannot find|resourcenotfound|parameternotfound|invalid parameters|no such file|nosuchentity",
    ),
];

/// The areas, most specific first: the first row a link matches names it.
const DOMAINS: &[(Domain, &str)] = &[
    (
        Domain::Kms,
        r"\bkms\b|kms:|customer master key|ciphertext|kmsaccessdenied|kmsinvalidstate",
    ),
    (
        Domain::Logs,
        r"log group|log stream|cloudwatch log|logs:|logging driver|logger|awslogs",
    ),
    (Domain::EnvFiles, r"env files|environment files"),
    (
        Domain::Efs,
        r"\befs\b|mount\.nfs|\bnfs\b|elasticfilesystem|mount target",
    ),
    (
        Domain::RegistryAuth,
        r"registry auth|getauthorizationtoken|authorization token|cannotpullecrcontainer",
    ),
    (
        Domain::Secrets,
        r"secretsmanager|secrets manager|\basm\b|\bsecret\b",
    ),
    (Domain::Parameters, r"\bssm\b|parameter store|parameters?\b"),
    (
        Domain::Layer,
        r"<layer-url>|httpreadseeker|httpreaderseeker|image configuration|extract layer|register layer|\blayer\b|\bblobs?\b",
    ),
    (
        Domain::Command,
        r"executable file|\$path|exec user process|exec format|starting container process|container init|\bexec\b",
    ),
    (
        Domain::Image,
        r"<image>|pull image|failed to resolve ref|manifest|\bimage\b|repository|\btag\b|pull access|ref pull|cannotpullcontainer|pulling|\bpull\b",
    ),
];

/// The wrapper every start-up failure of Fargate carries, naming no area of
/// its own (it says "secrets" for registry credentials too).
const WRAPPERS: &[&str] = &[
    "unable to pull secrets or registry auth",
    "execution resource retrieval failed",
];

fn compiled(table: &'static [(impl Copy + 'static, &'static str)]) -> Vec<Regex> {
    table
        .iter()
        .map(|(_, p)| Regex::new(p).expect("a valid stop-text pattern"))
        .collect()
}

fn outcome_res() -> &'static [Regex] {
    static RES: OnceLock<Vec<Regex>> = OnceLock::new();
    RES.get_or_init(|| compiled(OUTCOMES))
}

fn domain_res() -> &'static [Regex] {
    static RES: OnceLock<Vec<Regex>> = OnceLock::new();
    RES.get_or_init(|| compiled(DOMAINS))
}

/// Mask what a text quotes or names: URLs (a storage bucket's kept as
/// `<layer-url>`), ARNs, double-quoted strings and absolute paths.
fn mask(text: &str) -> String {
    static RES: OnceLock<[Regex; 6]> = OnceLock::new();
    let [layer_url, url, arn, image, quoted, path] = RES.get_or_init(|| {
        [
            Regex::new(r#"https?://[^\s"']*starport-layer-bucket[^\s"']*"#).expect("valid"),
            Regex::new(r#"https?://[^\s"']+"#).expect("valid"),
            Regex::new(r"arn:aws[\w-]*:[^\s,;)]+").expect("valid"),
            // An image reference with its registry host: `<host>/<repo>[:tag][@digest]`
            // (a repository named `logger` or `secret-rotator` names no area).
            Regex::new(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?/[a-z0-9._/-]+(?::[\w.-]+)?(?:@sha256:[0-9a-f]+)?")
                .expect("valid"),
            Regex::new(r#"\\?"[^"\\]*\\?"|'[^'\s]+'"#).expect("valid"),
            Regex::new(r"(?:^|\s)/[\w.$/+-]+").expect("valid"),
        ]
    });
    let t = layer_url.replace_all(text, "<layer-url>");
    let t = url.replace_all(&t, "<url>");
    let t = arn.replace_all(&t, "<arn>");
    let t = image.replace_all(&t, "<image>");
    // A quoted name states nothing; a quoted message (Docker's `caused "exec:
    // …: executable file not found"`) is a chain of its own and is kept.
    let t = quoted.replace_all(&t, |c: &regex::Captures| {
        if c[0].contains(": ") {
            c[0].to_string()
        } else {
            "<q>".to_string()
        }
    });
    let t = path.replace_all(&t, " <path>");
    let mut t = t.into_owned();
    for w in WRAPPERS {
        t = t.replace(w, "<wrapper>");
    }
    t
}

/// The links of a (normalised, lower-case) text, outermost first.
fn links(masked: &str) -> Vec<&str> {
    masked
        .split(": ")
        .flat_map(|l| l.split(" caused by "))
        .map(|l| l.trim_matches(|c: char| c.is_whitespace() || c == '.' || c == ','))
        .filter(|l| !l.is_empty())
        .collect()
}

/// Does the text end where ECS cut it: its `...` marker, or the 255
/// characters a stopped reason holds? A text cut without a marker cannot be
/// told from a whole one (`… stdout: stderr:` is whole).
fn is_cut(original: &str) -> bool {
    let t = original.trim_end();
    t.ends_with("...") || t.ends_with('…') || t.chars().count() == 255
}

/// Read one text (as written; it is normalised here).
pub fn read(text: &str) -> Reading {
    let normal = crate::text::normalize(text);
    let masked = mask(&normal);
    let chain = links(&masked);
    let outcome = chain.iter().rev().find_map(|link| {
        outcome_res()
            .iter()
            .position(|re| re.is_match(link))
            .map(|i| OUTCOMES[i].0)
    });
    let mut areas: Vec<Domain> = Vec::new();
    for link in chain.iter().rev() {
        for (i, re) in domain_res().iter().enumerate() {
            if re.is_match(link) && !areas.contains(&DOMAINS[i].0) {
                areas.push(DOMAINS[i].0);
            }
        }
    }
    let domain = chain.iter().rev().find_map(|link| {
        domain_res()
            .iter()
            .position(|re| re.is_match(link))
            .map(|i| DOMAINS[i].0)
    });
    let denied = outcome
        .is_some_and(Outcome::is_refusal)
        .then(|| super::refusal::denied_call(&normal).map(|d| d.action))
        .flatten();
    Reading {
        outcome,
        domain,
        areas,
        denied_action: denied,
        cut: is_cut(&normal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_innermost_link_decides() {
        // A pull that timed out is not a missing image, whatever "failed to
        // resolve ref" says (aws/containers-roadmap#1903).
        let r = read("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref quay.io/deepfenceio/cloud-scanner:latest: failed to do request: Head \"https://quay.io/v2/deepfenceio/cloud-scanner/manifests/latest\": dial tcp 3.210.148.47:443: i/o timeout");
        assert_eq!(r.outcome, Some(Outcome::TimedOut));
        assert_eq!(r.domain, Some(Domain::Image));
        let r = read("CannotPullContainerError: Error response from daemon: manifest for nginx:0f6b3cdf5e24f0da3dd932acd84fd90e9786a522 not found");
        assert_eq!(r.outcome, Some(Outcome::NotFound));
        assert_eq!(r.domain, Some(Domain::Image));
    }

    /// AWS's documented symptom of no network path, not missing credentials
    /// (the wrapper names "registry auth" and "secrets" for every start-up).
    #[test]
    fn a_killed_pull_is_the_network() {
        let r = read("ResourceInitializationError: unable to pull secrets or registry auth: pull command failed: : signal: killed");
        assert_eq!(r.outcome, Some(Outcome::Killed));
        assert!(r.outcome.is_some_and(Outcome::is_network));
        assert_eq!(r.domain, Some(Domain::Image));
    }

    /// A repository's name is no area: `logger`, `kms-proxy` or
    /// `secret-rotator` are images that were not found.
    #[test]
    fn an_image_name_names_no_area() {
        for repo in ["logger", "kms-proxy", "team/secret-rotator"] {
            let r = read(&format!("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/{repo}:v3: 123456789012.dkr.ecr.us-east-1.amazonaws.com/{repo}:v3: not found"));
            assert_eq!(
                (r.outcome, r.domain),
                (Some(Outcome::NotFound), Some(Domain::Image)),
                "{repo}"
            );
            assert_eq!(r.areas, vec![Domain::Image], "{repo}");
        }
        // Docker's older form quotes the whole inner message: it is still read.
        let r = read("CannotStartContainerError: API error (500): oci runtime error: container_linux.go:247: starting container process caused \"exec: \\\"gunicorn\\\": executable file not found in $PATH\"");
        assert_eq!(r.outcome, Some(Outcome::NotFound));
        assert_eq!(r.domain, Some(Domain::Command));
    }

    #[test]
    fn quoted_words_state_nothing() {
        // "not found" belongs to the command, not to an image.
        let r = read("CannotStartContainerError: ResourceInitializationError: failed to create new container runtime task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"gunicorn\": executable file not found in $PATH: unknown");
        assert_eq!(r.outcome, Some(Outcome::NotFound));
        assert_eq!(r.domain, Some(Domain::Command));
    }

    #[test]
    fn a_refusal_names_its_action() {
        let r = read("ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log group: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/1a2b is not authorized to perform: logs:CreateLogGroup on resource: arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:log-stream: because no identity-based policy allows the logs:CreateLogGroup action");
        assert_eq!(r.outcome, Some(Outcome::Denied));
        assert_eq!(r.domain, Some(Domain::Logs));
        assert_eq!(r.denied_action.as_deref(), Some("logs:createloggroup"));
    }

    #[test]
    fn a_cut_text_says_so() {
        assert!(read("CannotPullContainerError: containerd: pull command failed: time=\"2021-08-20T13:58:49Z\" level=info msg=\"apply failure, attempting cleanup\" error=\"failed to extract layer sha256:6a8fe8e6a8f2: write /var...").cut);
        assert!(!read("Essential container in task exited").cut);
    }
}
