//! The three commands: diagnose a task, replay a bundle, explain a code.

use crate::cli::{Cli, Command, OutputFormat, RenderArgs, TaskArgs};
use crate::error::{exit, DoctorError};
use crate::{collect, render, target};
use anyhow::Context;
use ecs_doctor_checks::{checks, diagnose, Bundle, Cause, Evidence, BUNDLE_FORMAT};
use std::io::{IsTerminal, Write};
use strum::IntoEnumIterator;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Task(args) => run_task(args),
        Command::Replay { file, render } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("could not read {}", file.display()))
                .map_err(|e| DoctorError::BadInput(format!("{e:#}")))?;
            let bundle = parse_bundle(&text).map_err(|why| {
                DoctorError::BadInput(format!(
                    "{} is not an ecs-doctor evidence bundle: {why}",
                    file.display()
                ))
            })?;
            if bundle.ecs_doctor_version != VERSION {
                eprintln!(
                    "note: bundle collected by ecs-doctor {}, replayed by {VERSION}",
                    bundle.ecs_doctor_version
                );
            }
            report(&bundle.evidence, &render)
        }
        Command::Explain { code, list } => explain(code.as_deref(), list),
    }
}

fn parse_bundle(text: &str) -> Result<Bundle, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(BUNDLE_FORMAT) {
        return Err(format!("it has no \"format\": \"{BUNDLE_FORMAT}\" marker"));
    }
    serde_json::from_value(value)
        .map_err(|e| format!("its evidence does not match this version's model ({e})"))
}

fn run_task(args: TaskArgs) -> anyhow::Result<i32> {
    let target = target::parse(&args.task, args.cluster.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let evidence = runtime.block_on(collect::collect(&target, &args))?;
    if let Some(path) = &args.save_evidence {
        let bundle = Bundle::new(evidence.clone(), VERSION, None);
        let json =
            serde_json::to_string_pretty(&bundle).context("could not serialise the evidence")?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("could not write {}", path.display()))?;
    }
    report(&evidence, &args.render)
}

fn use_color(args: &RenderArgs) -> bool {
    args.output == OutputFormat::Table
        && !args.no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal()
}

fn report(evidence: &Evidence, args: &RenderArgs) -> anyhow::Result<i32> {
    let report = diagnose(evidence, VERSION);
    let text = render::render(&report, args.output, use_color(args));
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        // A closed pipe (`| head`) is not an error of the diagnosis.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e).context("could not write the report");
        }
    }
    Ok(if report.has_failure() {
        exit::FAILURE_FOUND
    } else {
        exit::OK
    })
}

fn explain(code: Option<&str>, list: bool) -> anyhow::Result<i32> {
    if list {
        for c in Cause::iter() {
            println!(
                "{:<32} {:<9} {}",
                c.as_str(),
                c.family().to_string(),
                c.description()
            );
        }
        return Ok(exit::OK);
    }
    let code = code.unwrap_or_default();
    let cause: Cause = code.parse().map_err(|_| {
        DoctorError::BadInput(format!(
            "unknown cause code {code:?}; `ecs-doctor explain --list` lists them"
        ))
    })?;
    let docs = checks::for_code(cause)
        .map(|c| c.docs())
        .unwrap_or_else(|| "(no documentation)".into());
    println!(
        "# {} ({} family)\n\n{}\n\n{}",
        cause,
        cause.family(),
        cause.description(),
        docs
    );
    Ok(exit::OK)
}
