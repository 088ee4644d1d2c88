//! Picking the log lines that matter out of a container's last lines.

use crate::evidence::LogLine;
use crate::stops::Classified;
use regex::RegexSet;
use std::sync::OnceLock;

/// What a highlighted line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Panic,
    /// A write refused by a read-only file system (`EROFS`, no usable temp directory).
    ReadOnlyFilesystem,
    Exception,
    AddressInUse,
    ExecFormat,
    ConnectionRefused,
    Timeout,
    PermissionDenied,
    MissingFile,
    OutOfMemory,
    Error,
}

const PATTERNS: &[(LineKind, &str)] = &[
    (
        LineKind::Panic,
        r"(?i)\bpanic(?:ked)?\b|\bfatal error:|\bsegmentation fault\b|\bSIGSEGV\b|\bcore dumped\b",
    ),
    (
        LineKind::ReadOnlyFilesystem,
        r"(?i)read-only file ?system|\bEROFS\b|no usable temporary directory",
    ),
    (
        LineKind::AddressInUse,
        r"(?i)EADDRINUSE|address already in use|port is already allocated",
    ),
    (
        LineKind::Exception,
        r"(?i)\btraceback \(most recent call last\)|\bexception\b|\bunhandled\b|^\s*at [\w$.<>]+ ?\(|caused by:|^\s*[A-Za-z_][\w.$]*(?:Error|Exception)\b",
    ),
    (LineKind::ExecFormat, r"(?i)exec format error"),
    (
        LineKind::ConnectionRefused,
        r"(?i)ECONNREFUSED|connection refused|could not connect|connection reset",
    ),
    (
        LineKind::Timeout,
        r"(?i)ETIMEDOUT|timed? ?out|deadline exceeded",
    ),
    (
        LineKind::PermissionDenied,
        r"(?i)permission denied|EACCES|access denied|not authorized",
    ),
    (
        LineKind::MissingFile,
        r"(?i)ENOENT|no such file|cannot find module|module ?not ?found|file not found",
    ),
    (
        LineKind::OutOfMemory,
        r"(?i)out of memory|heap out of memory|OutOfMemoryError|cannot allocate memory|\bOOM\b",
    ),
    (
        LineKind::Error,
        r"(?i)\berror\b|\bERR!|\bfatal\b|\bfailed\b|\bcritical\b",
    ),
];

fn set() -> &'static RegexSet {
    static SET: OnceLock<RegexSet> = OnceLock::new();
    SET.get_or_init(|| RegexSet::new(PATTERNS.iter().map(|(_, p)| *p)).expect("valid log regexes"))
}

/// The most specific kind a line matches, if any.
pub fn line_kind(line: &str) -> Option<LineKind> {
    set().matches(line).iter().next().map(|i| PATTERNS[i].0)
}

/// A log line read against the stop-text catalogue: a container prints the
/// runtime's own errors (a full disk, a command that cannot run) to its log.
pub fn as_stop_text(line: &str) -> Classified {
    crate::stops::classify(line)
}

/// Lines that belong to a stack trace or an error object dump rather than
/// carry the message: `at foo (file.js:1:2)`, `  code: 'ECONNREFUSED',`, `^`.
pub fn is_trace_detail(line: &str) -> bool {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r#"^\s*(?:at\s|\^+\s*$|File "|\.\.\. \d+ more)|^\s+[a-z_][A-Za-z0-9_]*:\s"#,
        )
        .expect("valid trace regex")
    });
    re.is_match(line)
}

/// A line that reports an error (a panic, an exception header, an error-level message).
pub fn is_error_line(line: &str) -> bool {
    !is_trace_detail(line) && (is_error_header(line) || line_kind(line).is_some())
}

/// A line that names an error type: `TypeError: …`, `java.lang.IllegalStateException: …`.
fn is_error_header(line: &str) -> bool {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"^\s*(?:[A-Za-z_][\w.$]*)?(?:Error|Exception|Panic)\b:?|^\s*(?:panic:|fatal error:|thread '[^']*' panicked)",
        )
            .expect("valid header regex")
    });
    re.is_match(line)
}

/// The line that best explains a crash: the most specific kind found; among
/// lines of that kind, one that names an error type, else the last one.
pub fn decisive_line(lines: &[LogLine]) -> Option<&LogLine> {
    let mut best: Option<((usize, bool), &LogLine)> = None;
    for line in lines {
        if is_trace_detail(&line.message) {
            continue;
        }
        let Some(kind) = line_kind(&line.message) else {
            continue;
        };
        let rank = PATTERNS
            .iter()
            .position(|(k, _)| *k == kind)
            .unwrap_or(PATTERNS.len());
        let key = (rank, !is_error_header(&line.message));
        match best {
            Some((k, _)) if k < key => {}
            _ => best = Some((key, line)),
        }
    }
    best.map(|(_, l)| l)
}

/// Every line that matches a pattern (for highlighting), with its kind.
pub mod excerpt;

pub fn highlights(lines: &[LogLine]) -> Vec<(LineKind, &LogLine)> {
    lines
        .iter()
        .filter_map(|l| line_kind(&l.message).map(|k| (k, l)))
        .collect()
}

/// A port the app said it listens on.
#[derive(Debug, Clone, PartialEq)]
pub struct Listen {
    pub port: i32,
    /// The address it bound, when the line says (`0.0.0.0`, `127.0.0.1`, `::`).
    pub host: Option<String>,
    pub line: String,
}

impl Listen {
    /// Bound to loopback only: unreachable from outside the task.
    pub fn is_loopback(&self) -> bool {
        matches!(
            self.host.as_deref(),
            Some("127.0.0.1" | "localhost" | "::1" | "[::1]")
        )
    }
}

fn listen_patterns() -> &'static [regex::Regex] {
    static RES: OnceLock<Vec<regex::Regex>> = std::sync::OnceLock::new();
    RES.get_or_init(|| {
        [
            // listening on http://0.0.0.0:3000, Listening at: http://0.0.0.0:8000, running on http://[::]:80, bound to 0.0.0.0:8080
            r"(?i)\b(?:listening|listens|listen|running|serving|started|bound|binding|available|accepting connections)\b(?:\s+(?:on|at|to))?:?\s+(?:(?:https?|tcp|grpc)://)?(?P<host>\[[0-9a-f:]*\]|[\w.-]*):(?P<port>\d{2,5})\b",
            // listening on port 3000, started on port(s): 8080 (http), running on port 3000
            r"(?i)\b(?:listening|listens|listen|running|serving|started|start|bound|server|available)\b[^\n]{0,40}?\bports?(?:\(s\))?\s*[:=]?\s*(?P<port>\d{2,5})\b",
        ]
        .iter()
        .map(|p| regex::Regex::new(p).expect("valid listen regex"))
        .collect()
    })
}

/// Words of lines about other services (a database "running on db:5432").
const NOT_OURS: &[&str] = &[
    "connect",
    "upstream",
    "database",
    "redis",
    "postgres",
    "mysql",
    "mongo",
    "kafka",
    "amqp",
    "proxy to",
    "forwarding",
];

/// The last port the app announced it listens on, if any: the one
/// listen-port parser (the port check, the health checks and the inbound
/// path all read it).
pub fn announced(lines: &[LogLine]) -> Option<Listen> {
    lines.iter().rev().find_map(|l| {
        if crate::text::contains_any(&l.message, NOT_OURS) {
            return None;
        }
        listen_patterns().iter().find_map(|re| {
            let caps = re.captures(&l.message)?;
            let port: i32 = caps["port"].parse().ok()?;
            // "started at 12:30:45" is a time, not an address.
            let host = caps.name("host").map(|h| h.as_str()).unwrap_or("");
            if !host.is_empty() && host.len() <= 2 && host.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            (1..=65535).contains(&port).then(|| Listen {
                port,
                host: caps
                    .name("host")
                    .map(|h| h.as_str().to_string())
                    .filter(|h| !h.is_empty()),
                line: l.message.trim().to_string(),
            })
        })
    })
}

/// The port a line says could not be bound (`listen EADDRINUSE: address
/// already in use :::80`, `bind() to 0.0.0.0:80 failed (98: Address already
/// in use)`, `Bind for 0.0.0.0:80 failed: port is already allocated`, Go's
/// `listen tcp :8080: bind: address already in use`, uvicorn's `… on
/// address ('0.0.0.0', 8000): address already in use`).
pub fn port_in_use(line: &str) -> Option<i32> {
    if line_kind(line) != Some(LineKind::AddressInUse) {
        return None;
    }
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"(?i)(?:(?:\d{1,3}\.){3}\d{1,3}|\[[0-9a-f:]*\]|::|localhost|\*|(?:^|\s)):(\d{1,5})\b|\bport\s+(\d{1,5})\b|\('[^']*',\s*(\d{1,5})\)",
        )
        .expect("valid port regex")
    });
    re.captures_iter(line)
        .filter_map(|c| c.get(1).or_else(|| c.get(2)).or_else(|| c.get(3)))
        .filter_map(|m| m.as_str().parse::<i32>().ok())
        .find(|p| (1..=65535).contains(p))
}

/// The directory a line of kind [`LineKind::ReadOnlyFilesystem`] could not
/// write in: the parent of what it tried to create (`mkdir()
/// "/var/cache/nginx/client_temp" failed (30: Read-only file system)` →
/// `/var/cache/nginx`), or, for Python's `No usable temporary directory
/// found in ['/tmp', …]`, the first directory it tried.
pub fn unwritable_dir(line: &str) -> Option<String> {
    if line_kind(line) != Some(LineKind::ReadOnlyFilesystem) {
        return None;
    }
    static TEMP: OnceLock<regex::Regex> = OnceLock::new();
    static PATH: OnceLock<regex::Regex> = OnceLock::new();
    let temp = TEMP.get_or_init(|| {
        regex::Regex::new(r#"(?i)no usable temporary directory found in \[\s*['"](/[^'"]*)['"]"#)
            .expect("valid temp regex")
    });
    if let Some(c) = temp.captures(line) {
        return Some(c[1].trim_end_matches('/').to_string()).filter(|p| !p.is_empty());
    }
    let path = PATH.get_or_init(|| {
        regex::Regex::new(r#"(?:^|[\s"'(\[=])(/[^\s"',:;)\]]+)"#).expect("valid path regex")
    });
    let found = path.captures(line)?[1].trim_end_matches('/').to_string();
    match found.rsplit_once('/') {
        Some(("", _)) | None => Some(found).filter(|p| !p.is_empty()),
        Some((parent, _)) => Some(parent.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<LogLine> {
        v.iter()
            .map(|m| LogLine {
                timestamp: None,
                message: m.to_string(),
            })
            .collect()
    }

    #[test]
    fn picks_the_specific_error_over_generic_noise() {
        let l = lines(&[
            "server starting",
            "warn: retrying failed request",
            "Error: connect ECONNREFUSED 10.0.3.25:5432",
            "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)",
            "npm ERR! code ELIFECYCLE",
        ]);
        assert_eq!(
            decisive_line(&l).unwrap().message,
            "Error: connect ECONNREFUSED 10.0.3.25:5432"
        );
    }

    #[test]
    fn node_error_object_dumps_do_not_win() {
        let l = lines(&[
            "2026-11-02T09:26:00Z ERROR [db] connection attempt 5/5 failed: connect ECONNREFUSED 10.0.3.25:5432",
            "Error: connect ECONNREFUSED 10.0.3.25:5432",
            "    at /app/node_modules/pg-pool/index.js:45:11",
            "  errno: -111,",
            "  code: 'ECONNREFUSED',",
            "}",
        ]);
        assert_eq!(
            decisive_line(&l).unwrap().message,
            "Error: connect ECONNREFUSED 10.0.3.25:5432"
        );
    }

    #[test]
    fn python_traceback_picks_the_exception_line() {
        let l = lines(&[
            "Traceback (most recent call last):",
            "  File \"/app/main.py\", line 3, in <module>",
            "    import settings",
            "KeyError: 'DATABASE_URL'",
        ]);
        assert_eq!(
            decisive_line(&l).unwrap().message,
            "KeyError: 'DATABASE_URL'"
        );
    }

    #[test]
    fn a_go_panic_header_beats_the_signal_line_after_it() {
        let l = lines(&[
            "panic: runtime error: invalid memory address or nil pointer dereference",
            "[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x6b0f2a]",
            "goroutine 41 [running]:",
        ]);
        assert_eq!(
            decisive_line(&l).unwrap().message,
            "panic: runtime error: invalid memory address or nil pointer dereference"
        );
    }

    #[test]
    fn no_error_no_line() {
        assert!(decisive_line(&lines(&["listening on 3000", "GET / 200"])).is_none());
    }

    #[test]
    fn panics_win() {
        let l = lines(&[
            "error: config",
            "thread 'main' panicked at src/main.rs:10:5",
        ]);
        assert_eq!(
            line_kind(&decisive_line(&l).unwrap().message),
            Some(LineKind::Panic)
        );
    }

    // https://github.com/caprover/caprover/issues/560
    const NODE_IN_USE: &str = "Error: listen EADDRINUSE: address already in use :::80";
    // https://github.com/bitrixdock/bitrixdock/issues/228
    const DOCKER_ALLOCATED: &str = "Error response from daemon: driver failed programming external connectivity on endpoint web_server (3e506b7472216f49c47051b740ff26a7e6e97402148dfc4a4d8e183ae1e50e83): Bind for 0.0.0.0:80 failed: port is already allocated";
    // https://github.com/kfei/docktorrent/issues/13
    const NGINX_IN_USE: &str = "bind() to 0.0.0.0:80 failed (98: Address already in use)";
    // https://github.com/namespacelabs/foundation/issues/47
    const NGINX_READ_ONLY: &str = "2022/03/04 17:05:32 [emerg] 1#1: mkdir() \"/var/cache/nginx/client_temp\" failed (30: Read-only file system)";
    // https://github.com/aws/containers-roadmap/issues/736
    const APACHE_READ_ONLY: &str =
        "(30)Read-only file system: AH00099: could not create /run/apache2/httpd.pid";
    // https://github.com/NVIDIA/pix2pixHD/issues/67
    const PYTHON_NO_TEMP: &str = "FileNotFoundError: [Errno 2] No usable temporary directory found in ['/tmp', '/var/tmp', '/usr/tmp', '/home/zking/pix2pixHD']";

    #[test]
    fn ports_in_use_are_read_from_every_runtime() {
        assert_eq!(port_in_use(NODE_IN_USE), Some(80));
        assert_eq!(port_in_use(DOCKER_ALLOCATED), Some(80));
        assert_eq!(port_in_use(NGINX_IN_USE), Some(80));
        assert_eq!(port_in_use("listening on 0.0.0.0:8080"), None);
        // Go, with its log's own time first (the time is no port):
        // https://github.com/bluenviron/mediamtx/issues/939
        assert_eq!(
            port_in_use("2022/05/06 18:13:12 ERR listen tcp :8888: bind: address already in use"),
            Some(8888)
        );
        // glog: https://github.com/ARwMq9b6/dnsproxy/issues/8
        assert_eq!(
            port_in_use("E0811 09:56:00.630759   39164 main.go:26] listen tcp :53: bind: address already in use"),
            Some(53)
        );
        // uvicorn: https://github.com/wandb/openui/issues/226
        assert_eq!(
            port_in_use("ERROR (uvicorn.error):  [Errno 98] error while attempting to bind on address ('0.0.0.0', 7878): address already in use"),
            Some(7878)
        );
        // Java names no port, and is still a taken port, not an exception:
        // https://github.com/stanford-futuredata/macrobase/issues/170
        assert_eq!(
            line_kind("! java.net.BindException: Address already in use"),
            Some(LineKind::AddressInUse)
        );
        assert_eq!(
            line_kind("OSError: [Errno 98] error while attempting to bind on address ('0.0.0.0', 52415): address already in use"),
            Some(LineKind::AddressInUse)
        );
    }

    #[test]
    fn unwritable_directories_are_read_from_the_line() {
        assert_eq!(
            line_kind(NGINX_READ_ONLY),
            Some(LineKind::ReadOnlyFilesystem)
        );
        assert_eq!(
            line_kind(PYTHON_NO_TEMP),
            Some(LineKind::ReadOnlyFilesystem)
        );
        assert_eq!(
            unwritable_dir(NGINX_READ_ONLY).as_deref(),
            Some("/var/cache/nginx")
        );
        assert_eq!(
            unwritable_dir(APACHE_READ_ONLY).as_deref(),
            Some("/run/apache2")
        );
        assert_eq!(unwritable_dir(PYTHON_NO_TEMP).as_deref(), Some("/tmp"));
        assert_eq!(unwritable_dir(NODE_IN_USE), None);
    }
}
