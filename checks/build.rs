//! Extracts each check's `//!` doc header (what `ecs-doctor explain` prints)
//! at build time, so the binary carries the docs and not the check sources.

use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

fn main() {
    let root = Path::new("src/checks");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut entries = Vec::new();
    let mut families: Vec<_> = fs::read_dir(root)
        .expect("src/checks exists")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .collect();
    families.sort_by_key(|e| e.file_name());
    for family in families {
        println!("cargo:rerun-if-changed={}", family.path().display());
        let mut files: Vec<_> = fs::read_dir(family.path())
            .expect("family folder is readable")
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
            .collect();
        files.sort_by_key(|e| e.file_name());
        for file in files {
            let path = file.path();
            println!("cargo:rerun-if-changed={}", path.display());
            let source = fs::read_to_string(&path).expect("check source is readable");
            let key = format!(
                "{}/{}",
                family.file_name().to_string_lossy(),
                path.file_stem().unwrap_or_default().to_string_lossy()
            );
            entries.push((key, doc_header(&source)));
        }
    }
    let mut out = String::from("/// Each check's `//!` header, by `family/module`.\npub(crate) static CHECK_DOCS: &[(&str, &str)] = &[\n");
    for (key, docs) in entries {
        writeln!(out, "    ({key:?}, {docs:?}),").expect("write to a string");
    }
    out.push_str("];\n");
    let dest = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("check_docs.rs");
    fs::write(dest, out).expect("OUT_DIR is writable");
}

/// The leading `//!` lines of a source file, without the markers.
fn doc_header(source: &str) -> String {
    source
        .lines()
        .take_while(|l| l.starts_with("//!") || l.trim().is_empty())
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}
