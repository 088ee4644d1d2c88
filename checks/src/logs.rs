//! Picking the log lines that matter out of a container's last lines.

use crate::evidence::LogLine;
use regex::RegexSet;
use std::sync::OnceLock;

/// What a highlighted line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Panic,
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
        LineKind::Exception,
        r"(?i)\btraceback \(most recent call last\)|\bexception\b|\bunhandled\b|^\s*at [\w$.<>]+ ?\(|caused by:",
    ),
    (
        LineKind::AddressInUse,
        r"(?i)EADDRINUSE|address already in use",
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
        r"(?i)ENOENT|no such file or directory|cannot find module|module ?not ?found|file not found",
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
pub fn classify(line: &str) -> Option<LineKind> {
    set().matches(line).iter().next().map(|i| PATTERNS[i].0)
}

/// The line that best explains a crash: the last line of the most specific
/// kind found, preferring the first line of the final stack trace.
pub fn decisive_line(lines: &[LogLine]) -> Option<&LogLine> {
    let mut best: Option<(usize, &LogLine)> = None;
    for line in lines {
        if let Some(kind) = classify(&line.message) {
            let rank = PATTERNS
                .iter()
                .position(|(k, _)| *k == kind)
                .unwrap_or(PATTERNS.len());
            // Stack frames (`at foo (file.js:1:2)`) never win over the message they belong to.
            if line.message.trim_start().starts_with("at ") {
                continue;
            }
            match best {
                Some((r, _)) if r < rank => {}
                _ => best = Some((rank, line)),
            }
        }
    }
    best.map(|(_, l)| l)
}

/// Every line that matches a pattern (for highlighting), with its kind.
pub fn highlights(lines: &[LogLine]) -> Vec<(LineKind, &LogLine)> {
    lines
        .iter()
        .filter_map(|l| classify(&l.message).map(|k| (k, l)))
        .collect()
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
            classify(&decisive_line(&l).unwrap().message),
            Some(LineKind::Panic)
        );
    }
}
