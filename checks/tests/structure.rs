//! Rules about the workspace's source, read from the files themselves (the
//! workspace root is `CARGO_MANIFEST_DIR/..`):
//!
//! - no check reads a stop text itself: `stops::classify` is the only way to
//!   read one, and the checks read its classification from `ctx.stops`;
//! - no non-test source file is over [`MAX_LINES`] lines;
//! - no import cycle between the top-level modules of a crate.
//!
//! Test code does not count: files named `tests.rs` and files under a
//! `tests/` or `testkit/` folder, and in any other file everything from the
//! first `#[cfg(test)]` that opens an inline module (`mod tests {`) on.

use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The most lines a non-test source file may have.
const MAX_LINES: usize = 800;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the checks crate sits in the workspace")
        .to_path_buf()
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `tests.rs`, or a file under `tests/` or `testkit/` (relative to the crate's `src`).
fn is_test_file(rel: &Path) -> bool {
    rel.file_name().is_some_and(|n| n == "tests.rs")
        || rel
            .components()
            .any(|c| c.as_os_str() == "tests" || c.as_os_str() == "testkit")
}

/// The source before its first `#[cfg(test)]` that opens an inline module.
fn non_test_part(src: &str) -> String {
    let lines: Vec<&str> = src.lines().collect();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        if line.trim() != "#[cfg(test)]" {
            continue;
        }
        let next = lines[i + 1..]
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.is_empty());
        if next.is_some_and(|l| {
            (l.starts_with("mod ") || l.starts_with("pub mod ") || l.starts_with("pub(crate) mod "))
                && l.ends_with('{')
        }) {
            end = i;
            break;
        }
    }
    lines[..end].join("\n")
}

/// The source with its comment lines blanked (line numbers kept).
fn without_comments(src: &str) -> String {
    src.lines()
        .map(|l| {
            if l.trim_start().starts_with("//") {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn line_of(src: &str, at: usize) -> usize {
    src[..at].matches('\n').count() + 1
}

// ---------------------------------------------------------------------------
// The stop-text rule.

/// String matching: a check applies none of these to a stop text.
const MATCHING: &[&str] = &[
    "contains",
    "starts_with",
    "ends_with",
    "find",
    "rfind",
    "matches",
    "match_indices",
    "split",
    "rsplit",
    "split_once",
    "rsplit_once",
    "splitn",
    "strip_prefix",
    "strip_suffix",
    "trim_start_matches",
    "trim_end_matches",
    "trim_matches",
    "to_lowercase",
    "to_ascii_lowercase",
    "to_uppercase",
    "to_ascii_uppercase",
    "eq_ignore_ascii_case",
    "lines",
    "chars",
    "bytes",
];

/// Functions that read the text they are given: a check passes no stop text to them.
const READERS: &[&str] = &[
    "classify",
    "contains_any",
    "normalize",
    "is_match",
    "captures",
    "captures_iter",
    "find_iter",
];

/// One link of a method chain: `.name(args)`, `.name` or `?`.
struct Link {
    name: String,
    args: Option<(usize, String)>,
    at: usize,
}

/// The end of the balanced group that opens at `start` (`(`, `[` or `{`).
fn group_end(src: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i < src.len() {
        match src[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'"' => {
                i += 1;
                while i < src.len() && src[i] != b'"' {
                    if src[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'\'' if src.get(i + 2) == Some(&b'\'') => i += 2,
            b'\'' if src.get(i + 1) == Some(&b'\\') => {
                i += 2;
                while i < src.len() && src[i] != b'\'' {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn skip_ws(src: &[u8], mut i: usize) -> usize {
    while i < src.len() && src[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

fn ident_end(src: &[u8], mut i: usize) -> usize {
    while i < src.len() && (src[i].is_ascii_alphanumeric() || src[i] == b'_') {
        i += 1;
    }
    i
}

/// The method chain that follows the expression ending at `from`.
fn chain(src: &str, from: usize) -> Vec<Link> {
    let b = src.as_bytes();
    let mut links = Vec::new();
    let mut i = from;
    loop {
        let j = skip_ws(b, i);
        if b.get(j) == Some(&b'?') {
            i = j + 1;
            continue;
        }
        if b.get(j) != Some(&b'.') || b.get(j + 1) == Some(&b'.') {
            return links;
        }
        let start = skip_ws(b, j + 1);
        let end = ident_end(b, start);
        if end == start {
            return links;
        }
        let name = src[start..end].to_string();
        let mut k = skip_ws(b, end);
        if src[k..].starts_with("::<") {
            k = src[k..].find('>').map_or(k, |p| skip_ws(b, k + p + 1));
        }
        if b.get(k) != Some(&b'(') {
            // A field of the value is another value (a seed field is a
            // stop text of its own, found as such).
            return links;
        }
        let close = group_end(b, k).unwrap_or(b.len());
        let args = Some((k + 1, src[k + 1..close.saturating_sub(1)].to_string()));
        i = close;
        links.push(Link {
            name,
            args,
            at: start,
        });
    }
}

/// The identifiers a pattern binds (`(a, mut b)`, `Some(t)`, `|r: &str|`).
fn bound_names(pattern: &str) -> Vec<String> {
    let keywords = ["mut", "ref", "_", "move", "str", "char", "String", "u8"];
    Regex::new(r"\b[a-z_][a-z0-9_]*\b")
        .expect("valid regex")
        .find_iter(pattern)
        .map(|m| m.as_str())
        .filter(|w| !keywords.contains(w))
        .filter(|w| {
            // Not a path segment or a field: `Source::Task`, `t.text`.
            let at = pattern.find(w).unwrap_or(0);
            !pattern[..at].ends_with("::") && !pattern[..at].ends_with('.')
        })
        .map(str::to_string)
        .collect()
}

/// The places `word` occurs in `text` as a whole identifier, not as a field
/// or a method (`.word`), as `(start, end)`.
fn word_at(text: &str, word: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    text.match_indices(word)
        .map(|(at, _)| (at, at + word.len()))
        .filter(|&(s, e)| {
            (s == 0 || !is_ident(b[s - 1]) && b[s - 1] != b'.')
                && b.get(e).is_none_or(|c| !is_ident(*c))
        })
        .collect()
}

/// A function of a file: its name, its parameters and its body's span.
struct Function {
    name: String,
    params: Vec<String>,
    body: (usize, usize),
}

fn functions(src: &str) -> Vec<Function> {
    let b = src.as_bytes();
    Regex::new(r"\bfn\s+(\w+)\s*(?:<[^>]*>)?\s*\(")
        .expect("valid regex")
        .captures_iter(src)
        .filter_map(|c| {
            let open = c.get(0).expect("the match").end() - 1;
            let close = group_end(b, open)?;
            let params = top_level_items(&src[open + 1..close - 1])
                .into_iter()
                .filter_map(|p| p.split(':').next())
                .filter(|p| !p.contains("self") && !p.trim().is_empty())
                .map(|p| bound_names(p).into_iter().next().unwrap_or_default())
                .collect();
            let brace = close + src[close..].find(['{', ';'])?;
            (b[brace] == b'{').then(|| Function {
                name: c[1].to_string(),
                params,
                body: (brace, group_end(b, brace).unwrap_or(b.len())),
            })
        })
        .collect()
}

/// `src` with everything outside `keep` (and inside `blank`) turned to
/// spaces: positions and line numbers stay.
fn region(src: &str, keep: (usize, usize), blank: &[(usize, usize)]) -> String {
    src.char_indices()
        .map(|(i, c)| {
            let inside = i >= keep.0 && i < keep.1 && !blank.iter().any(|b| i >= b.0 && i < b.1);
            if inside || c == '\n' {
                c
            } else {
                ' '
            }
        })
        .collect()
}

/// A name bound to a stop text, and the span of source where it is.
type Tainted = BTreeSet<(String, usize, usize)>;

/// What one function (or the code outside functions) does with stop texts:
/// the names bound to one, and the same-file functions it passes one to
/// (with the argument's position).
struct Flow {
    tainted: Tainted,
    passes_to: BTreeSet<(String, usize)>,
}

/// The parts of `text` between its commas outside brackets.
fn top_level_items(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut items = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        match b[i] {
            b'(' | b'[' | b'{' => i = group_end(b, i).unwrap_or(b.len()),
            b',' => {
                items.push(&text[start..i]);
                start = i + 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    items.push(&text[start..]);
    items
}

/// The end of the block that holds position `from`.
fn block_end(b: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'(' | b'[' | b'{' => i = group_end(b, i).unwrap_or(b.len()),
            b')' | b']' | b'}' => return i,
            _ => i += 1,
        }
    }
    b.len()
}

fn seeds(src: &str, range: (usize, usize)) -> Vec<usize> {
    let b = src.as_bytes();
    Regex::new(r"\.(stopped_reason|reason|text)\b")
        .expect("valid regex")
        .find_iter(&src[range.0..range.1])
        .map(|m| range.0 + m.end())
        .filter(|&end| b.get(skip_ws(b, end)) != Some(&b'('))
        .collect()
}

/// Where a stop text (a field, or a name bound to one) ends inside `range`.
fn uses(src: &str, range: (usize, usize), tainted: &Tainted) -> Vec<usize> {
    let mut at = seeds(src, range);
    for (name, start, end) in tainted {
        let (from, to) = (range.0.max(*start), range.1.min(*end));
        if from < to {
            at.extend(
                word_at(&src[from..to], name)
                    .into_iter()
                    .map(|(_, e)| from + e),
            );
        }
    }
    at
}

fn mentions(src: &str, range: (usize, usize), tainted: &Tainted) -> bool {
    !uses(src, range, tainted).is_empty()
}

/// Does the value of the expression in `range` come from a stop text? A
/// stop text passed to a function or a method (`Finding::new(…).evidence(text)`,
/// `format!("{text}")`) gives a new value; one in a closure, a tuple, a
/// block or an enum variant (`Some(text)`) carries through.
fn carries(src: &str, range: (usize, usize), tainted: &Tainted) -> bool {
    let b = src.as_bytes();
    uses(src, range, tainted).into_iter().any(|at| {
        // The brackets open around `at`, innermost last.
        let mut open = Vec::new();
        let mut i = range.0;
        while i < at {
            match b[i] {
                b'(' | b'[' | b'{' => open.push(i),
                b')' | b']' | b'}' => {
                    open.pop();
                }
                b'"' => {
                    i += 1;
                    while i < at && b[i] != b'"' {
                        i += usize::from(b[i] == b'\\') + 1;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        open.iter().all(|&o| {
            if b[o] != b'(' {
                return true;
            }
            let args = src[o + 1..].trim_start();
            if args.starts_with('|') || args.starts_with("move |") {
                return true;
            }
            let before = src[..o].trim_end();
            let name_start = before
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |p| p + 1);
            let name = &before[name_start..];
            // A tuple or a grouping, or an enum variant / tuple struct.
            name.is_empty()
                && !before.ends_with('!')
                && (!before.ends_with('>') || before.ends_with("=>"))
                || name.starts_with(|c: char| c.is_ascii_uppercase())
        })
    })
}

fn flow(src: &str, names: &[String], initial: &Tainted) -> Flow {
    let b = src.as_bytes();
    let all = (0, src.len());
    let mut tainted = initial.clone();
    let let_re = Regex::new(r"\b(if |while )?let\s").expect("valid regex");
    let call_re = Regex::new(r"(?:^|[^.\w:])(\w+)\s*\(").expect("valid regex");
    loop {
        let before = tainted.len();
        // `let` bindings from a stop text, for the rest of their block.
        for m in let_re.captures_iter(src) {
            let whole = m.get(0).expect("the match");
            let Some(eq) = src[whole.end()..].find(" = ").map(|p| whole.end() + p) else {
                continue;
            };
            let pattern = &src[whole.end()..eq];
            let conditional = m.get(1).is_some();
            let stop = if conditional { b'{' } else { b';' };
            let mut i = eq + 3;
            while i < b.len() && b[i] != stop {
                i = match b[i] {
                    b'(' | b'[' | b'{' => group_end(b, i).unwrap_or(b.len()),
                    _ => i + 1,
                };
            }
            let expr = (eq + 3, i.min(b.len()));
            if !carries(src, expr, &tainted) {
                continue;
            }
            let scope = if conditional {
                (eq, group_end(b, expr.1).unwrap_or(b.len()))
            } else {
                (eq, block_end(b, expr.1))
            };
            let pattern = pattern.split(':').next().unwrap_or(pattern).trim();
            // A tuple bound from tuples (`let (a, b) = match … { … => (x, y) }`):
            // only the positions a stop text goes to.
            let parts = pattern
                .strip_prefix('(')
                .and_then(|p| p.strip_suffix(')'))
                .map(top_level_items)
                .filter(|p| p.len() > 1);
            let mut tuples: Vec<Vec<(usize, usize)>> = Vec::new();
            if let Some(parts) = &parts {
                for k in expr.0..expr.1 {
                    if b[k] != b'(' {
                        continue;
                    }
                    let Some(e) = group_end(b, k) else { continue };
                    let mut items = Vec::new();
                    let mut at = k + 1;
                    for item in top_level_items(&src[k + 1..e - 1]) {
                        items.push((at, at + item.len()));
                        at += item.len() + 1;
                    }
                    if items.len() == parts.len() {
                        tuples.push(items);
                    }
                }
            }
            let bound: Vec<String> = match parts {
                Some(parts) if !tuples.is_empty() => parts
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| tuples.iter().any(|t| carries(src, t[*k], &tainted)))
                    .flat_map(|(_, part)| bound_names(part))
                    .collect(),
                _ => bound_names(pattern),
            };
            tainted.extend(bound.into_iter().map(|n| (n, scope.0, scope.1)));
        }
        // Closure parameters along a stop text's method chain, inside the closure.
        for at in uses(src, all, &tainted) {
            for link in chain(src, at) {
                let Some((start, args)) = &link.args else {
                    continue;
                };
                let trimmed = args.trim_start().trim_start_matches("move").trim_start();
                if let Some((params, _)) = trimmed.strip_prefix('|').and_then(|r| r.split_once('|'))
                {
                    for p in params.split(',') {
                        for n in bound_names(p.split(':').next().unwrap_or(p)) {
                            tainted.insert((n, *start, start + args.len()));
                        }
                    }
                }
            }
        }
        if tainted.len() == before {
            break;
        }
    }
    // Same-file functions a stop text is passed to.
    let mut passes_to = BTreeSet::new();
    for c in call_re.captures_iter(src) {
        if !names.iter().any(|n| n == &c[1])
            || src[..c.get(1).expect("the name").start()]
                .trim_end()
                .ends_with("fn")
        {
            continue;
        }
        let open = c.get(0).expect("the match").end() - 1;
        let close = group_end(b, open).unwrap_or(b.len());
        let mut at = open + 1;
        for (k, arg) in top_level_items(&src[open + 1..close.saturating_sub(1)])
            .iter()
            .enumerate()
        {
            if mentions(src, (at, at + arg.len()), &tainted) {
                passes_to.insert((c[1].to_string(), k));
            }
            at += arg.len() + 1;
        }
    }
    Flow { tainted, passes_to }
}

/// Where a check reads a stop text itself, as `line: what`.
///
/// A stop text is a field named `stopped_reason`, `reason` (a container's;
/// the test cannot tell it from a target's or an agent's, so those are held
/// to the rule too and compared with `==` only) or `text` (a `StopText`'s),
/// and every name bound from one inside a function: by `let`, `if let`, a
/// closure's parameters along its method chain, or a parameter of a
/// function of the same file it is passed to. Reading one means applying
/// [`MATCHING`] to it, passing it to one of [`READERS`], or calling
/// `classify` at all. `stop_code` is not a text: it is an enum-like code,
/// read with `StopCode::of`. Quoting a text in a finding, or asking whether
/// it is empty, is not reading it.
fn stop_text_reads(src: &str) -> Vec<String> {
    let fns = functions(src);
    let names: Vec<String> = fns.iter().map(|f| f.name.clone()).collect();
    let bodies: Vec<(usize, usize)> = fns.iter().map(|f| f.body).collect();
    // Each function's body without the functions nested in it, and the code outside them all.
    let mut regions: Vec<(Option<usize>, String)> = fns
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let nested: Vec<(usize, usize)> = bodies
                .iter()
                .copied()
                .filter(|b| b.0 > f.body.0 && b.1 <= f.body.1)
                .collect();
            (Some(i), region(src, f.body, &nested))
        })
        .collect();
    regions.push((None, region(src, (0, src.len()), &bodies)));
    let mut initial: Vec<Tainted> = vec![Tainted::new(); fns.len()];
    let flows = loop {
        let flows: Vec<Flow> = regions
            .iter()
            .map(|(i, text)| {
                let start = i.map(|i| initial[i].clone()).unwrap_or_default();
                flow(text, &names, &start)
            })
            .collect();
        let mut changed = false;
        for (callee, k) in flows.iter().flat_map(|f| f.passes_to.iter()) {
            for (i, f) in fns.iter().enumerate().filter(|(_, f)| &f.name == callee) {
                if let Some(p) = f.params.get(*k) {
                    changed |= initial[i].insert((p.clone(), f.body.0, f.body.1));
                }
            }
        }
        if !changed {
            break flows;
        }
    };
    let call_re = Regex::new(r"\b(\w+)\s*\(").expect("valid regex");
    let mut reads = BTreeSet::new();
    for ((_, text), flow) in regions.iter().zip(&flows) {
        for at in uses(text, (0, text.len()), &flow.tainted) {
            for link in chain(text, at) {
                let closure = link
                    .args
                    .as_ref()
                    .is_some_and(|(_, a)| a.trim_start().starts_with('|'));
                // `Iterator::find(|x| …)` looks for an item, it reads no text.
                if MATCHING.contains(&link.name.as_str())
                    && !(closure && link.name.ends_with("find"))
                {
                    reads.insert((
                        line_of(text, link.at),
                        format!("`.{}(` on a stop text", link.name),
                    ));
                }
            }
        }
        for c in call_re.captures_iter(text) {
            let name = &c[1];
            let at = c.get(1).expect("the name").start();
            if name == "classify" && !text[..at].trim_end().ends_with("fn") {
                reads.insert((line_of(text, at), "calls `classify`".to_string()));
            } else if READERS.contains(&name) {
                let open = c.get(0).expect("the match").end() - 1;
                let close = group_end(text.as_bytes(), open).unwrap_or(text.len());
                if mentions(text, (open + 1, close.saturating_sub(1)), &flow.tainted) {
                    reads.insert((line_of(text, at), format!("passes a stop text to `{name}`")));
                }
            }
        }
    }
    reads
        .into_iter()
        .map(|(line, what)| format!("{line}: {what}"))
        .collect()
}

#[test]
fn no_check_reads_a_stop_text_itself() {
    let root = workspace().join("checks/src/checks");
    let mut wrong = Vec::new();
    for file in rust_files(&root) {
        let rel = file.strip_prefix(&root).expect("under the root");
        if is_test_file(rel) || std::env::var("STOP_TEXT_DEBUG").is_ok_and(|f| !rel.ends_with(f)) {
            continue;
        }
        let src = std::fs::read_to_string(&file).expect("readable source");
        for read in stop_text_reads(&without_comments(&non_test_part(&src))) {
            wrong.push(format!("checks/src/checks/{}:{read}", rel.display()));
        }
    }
    assert!(
        wrong.is_empty(),
        "checks that read a stop text themselves (add its fragments to stops/catalogue/ \
         as a Detail or a StopKind and read ctx.stops):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_stop_text_rule_catches_what_it_forbids() {
    let old = [
        "let by_text = stops::classify(&reason).is(StopKind::Spot);",
        "let says = crate::text::contains_any(&text.text, &[\"does not exist\"]);",
        "let reason = ev.task.stopped_reason.clone().unwrap_or_default();\nlet custom = reason.to_lowercase();",
        "let hit = ev.task.containers.iter().find(|c| c.reason.as_deref().is_some_and(|r| r.contains(\"OutOfMemory\")));",
        "let (name, decisive) = match x { Some(t) => (1, t.text.clone()), None => (2, String::new()) };\nlet how = flavour(&decisive);\nfn flavour(text: &str) -> bool { text.starts_with(\"exec\") }",
        "let head = texts.iter().find_map(|t| t.text.split(':').next());",
    ];
    for src in old {
        assert!(!stop_text_reads(src).is_empty(), "not caught: {src}");
    }
    let fine = [
        "let t = ctx.stops.task().filter(|t| t.class.is(StopKind::Spot));",
        "f = f.evidence(format!(\"stoppedReason = \\\"{}\\\"\", ev.task.stopped_reason.as_deref().unwrap_or(\"\")));",
        "let custom = !reason.trim().is_empty();",
        "let c = ev.task.containers.iter().find(|c| ctx.stops.container_is(&c.name, kind));",
        "let mismatch = t.reason.as_deref() == Some(\"Target.ResponseCodeMismatch\");",
        "let line = lines.iter().find(|l| contains_any(&l.message, LOG_TEXT));",
    ];
    for src in fine {
        assert!(
            stop_text_reads(src).is_empty(),
            "flagged: {src}: {:?}",
            stop_text_reads(src)
        );
    }
}

// ---------------------------------------------------------------------------
// File sizes.

/// The non-test source files of one crate's `src` over [`MAX_LINES`] lines.
fn oversized(crate_src: &str) -> Vec<String> {
    let root = workspace().join(crate_src);
    let mut over = Vec::new();
    for file in rust_files(&root) {
        let rel = file.strip_prefix(&root).expect("under the root");
        if is_test_file(rel) {
            continue;
        }
        let src = std::fs::read_to_string(&file).expect("readable source");
        let lines = non_test_part(&src).lines().count();
        if lines > MAX_LINES {
            over.push(format!("{crate_src}/{}: {lines} lines", rel.display()));
        }
    }
    over
}

#[test]
fn no_source_file_of_the_checks_crate_is_over_800_lines() {
    let over = oversized("checks/src");
    assert!(over.is_empty(), "split these by job:\n{}", over.join("\n"));
}

#[test]
fn no_source_file_of_the_binary_is_over_800_lines() {
    let over = oversized("src");
    assert!(over.is_empty(), "split these by job:\n{}", over.join("\n"));
}

// ---------------------------------------------------------------------------
// Import cycles between top-level modules.

/// Each top-level module of a crate and the top-level modules it refers to,
/// with one place per reference (`file:line`).
///
/// A module is a file `src/X.rs` or a folder `src/X/`. A reference is a
/// `crate::Y` path (in a `use` too, braces included) or a `super::…::Y`
/// that climbs to the crate root. Test code (see the crate doc) and the
/// modules in `excluded` (test-only modules) do not count.
fn module_graph(crate_src: &str, excluded: &[&str]) -> BTreeMap<String, BTreeMap<String, String>> {
    let root = workspace().join(crate_src);
    let modules: BTreeSet<String> = std::fs::read_dir(&root)
        .expect("a source folder")
        .filter_map(|e| {
            let path = e.expect("an entry").path();
            let name = path.file_stem()?.to_str()?.to_string();
            let is_module = path.is_dir() || path.extension().is_some_and(|x| x == "rs");
            (is_module && name != "lib" && name != "main" && !excluded.contains(&name.as_str()))
                .then_some(name)
        })
        .collect();
    let crate_path = Regex::new(r"\bcrate::(\w+)|\bcrate::\{").expect("valid regex");
    let supers = Regex::new(r"\b((?:super::)+)(\w+)").expect("valid regex");
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in rust_files(&root) {
        let rel = file.strip_prefix(&root).expect("under the root");
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let top = parts[0].trim_end_matches(".rs").to_string();
        if !modules.contains(&top) || is_test_file(rel) {
            continue;
        }
        // How deep the file's module is: `X.rs` and `X/mod.rs` are 1, `X/Y.rs` 2.
        let depth = parts.len() - usize::from(parts.last().is_some_and(|p| p == "mod.rs"));
        let src = without_comments(&non_test_part(
            &std::fs::read_to_string(&file).expect("readable source"),
        ));
        let mut refer = |target: &str, at: usize| {
            if target != top && modules.contains(target) {
                graph
                    .entry(top.clone())
                    .or_default()
                    .entry(target.to_string())
                    .or_insert_with(|| {
                        format!("{crate_src}/{}:{}", rel.display(), line_of(&src, at))
                    });
            }
        };
        for m in crate_path.captures_iter(&src) {
            let whole = m.get(0).expect("the match");
            match m.get(1) {
                Some(name) => refer(name.as_str(), whole.start()),
                None => {
                    // `crate::{a, b::c, d::{e, f}}`: the first segment of each entry.
                    let open = whole.end() - 1;
                    let close = group_end(src.as_bytes(), open).unwrap_or(src.len());
                    let mut depth = 0;
                    let mut entry_start = true;
                    for (i, ch) in src[open + 1..close - 1].char_indices() {
                        match ch {
                            '{' => depth += 1,
                            '}' => depth -= 1,
                            ',' if depth == 0 => entry_start = true,
                            c if entry_start && (c.is_alphanumeric() || c == '_') => {
                                let rest = &src[open + 1 + i..];
                                let end = rest
                                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                                    .unwrap_or(rest.len());
                                refer(&rest[..end], whole.start());
                                entry_start = false;
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        for m in supers.captures_iter(&src) {
            if m[1].matches("super::").count() == depth {
                refer(&m[2], m.get(0).expect("the match").start());
            }
        }
    }
    graph
}

/// Every cycle of the graph, one per strongly connected component, as
/// `a -> b -> a` with the place of each reference.
fn cycles(graph: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<String> {
    // Which modules reach which (the graphs are small).
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_string()];
        while let Some(n) = stack.pop() {
            for next in graph.get(&n).into_iter().flat_map(|e| e.keys()) {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for start in graph.keys() {
        if done.contains(start) || !reach(start).contains(start) {
            continue;
        }
        let component: BTreeSet<String> = reach(start)
            .into_iter()
            .filter(|n| reach(n).contains(start))
            .collect();
        done.extend(component.iter().cloned());
        // One shortest cycle through `start`, by breadth-first search.
        let mut prev: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start.clone()]);
        'search: while let Some(n) = queue.pop_front() {
            for next in graph.get(&n).into_iter().flat_map(|e| e.keys()) {
                if next == start {
                    prev.insert(start.clone(), n.clone());
                    break 'search;
                }
                if !prev.contains_key(next) {
                    prev.insert(next.clone(), n.clone());
                    queue.push_back(next.clone());
                }
            }
        }
        let mut path = vec![start.clone()];
        let mut at = prev[start].clone();
        while &at != start {
            path.push(at.clone());
            at = prev[&at].clone();
        }
        path.push(start.clone());
        path.reverse();
        let steps: Vec<String> = path
            .windows(2)
            .map(|w| format!("  {} -> {} ({})", w[0], w[1], graph[&w[0]][&w[1]]))
            .collect();
        out.push(format!(
            "{} (modules in the cycle: {})\n{}",
            path.join(" -> "),
            component.into_iter().collect::<Vec<_>>().join(", "),
            steps.join("\n")
        ));
    }
    out
}

/// The checks crate's modules, without `testkit` (test builds and the
/// `testkit` feature only) and `fuzz` (test builds only).
#[test]
fn no_import_cycle_between_the_checks_crates_modules() {
    let found = cycles(&module_graph("checks/src", &["testkit", "fuzz"]));
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn no_import_cycle_between_the_binarys_modules() {
    let found = cycles(&module_graph("src", &[]));
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn the_cycle_finder_names_a_cycle() {
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    graph
        .entry("a".into())
        .or_default()
        .insert("b".into(), "a.rs:1".into());
    graph
        .entry("b".into())
        .or_default()
        .insert("c".into(), "b.rs:2".into());
    graph
        .entry("c".into())
        .or_default()
        .insert("a".into(), "c.rs:3".into());
    graph
        .entry("c".into())
        .or_default()
        .insert("d".into(), "c.rs:4".into());
    let found = cycles(&graph);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("a -> b -> c -> a"), "{}", found[0]);
    assert!(found[0].contains("c -> a (c.rs:3)"), "{}", found[0]);
}
