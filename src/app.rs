//! The commands: diagnose a task, check ECS Exec readiness, replay a bundle, explain a code.

use crate::cli::{Cli, Command, EventArgs, OutputFormat, RenderArgs, TaskArgs};
use crate::error::{exit, DoctorError};
use crate::{collect, explain, render, runtime, sweep, target, VERSION};
use anyhow::Context;
use ecs_doctor_checks::question::Question;
use ecs_doctor_checks::{diagnose, Bundle, Cause, Evidence, Report, BUNDLE_FORMAT};
use std::io::Write;
use strum::IntoEnumIterator;

pub fn run(cli: Cli) -> anyhow::Result<i32> {
    collect::call_log::enable(cli.debug);
    match cli.command {
        Command::Task(args) => run_task(*args, Question::Task),
        Command::Exec(args) => run_task(*args, Question::Exec),
        Command::Preflight(args) => {
            let evidence = runtime::start()?.block_on(collect::preflight(&args))?;
            report(&evidence, &args.render)
        }
        Command::Replay {
            file,
            assume,
            render,
        } => {
            let (text, name) = read_input(&file)?;
            let mut bundle = parse_bundle(&text).map_err(|why| {
                DoctorError::BadInput(format!(
                    "{name} is not an ecs-doctor evidence bundle: {why}"
                ))
            })?;
            if bundle.ecs_doctor_version != VERSION {
                eprintln!(
                    "note: bundle collected by ecs-doctor {}, replayed by {VERSION}",
                    bundle.ecs_doctor_version
                );
            }
            let ev = &mut bundle.evidence;
            if assume.assign_public_ip.is_some() {
                ev.inputs.assign_public_ip = assume.assign_public_ip;
                if let Some(p) = ev.network.placement.value_mut() {
                    p.assume_public_ip(assume.assign_public_ip);
                }
            }
            if assume.from_cidr.is_some() {
                ev.inputs.from_cidr = assume.from_cidr;
            }
            report(&bundle.evidence, &render)
        }
        Command::Explain { code, list } => explain(code.as_deref(), list),
        Command::Service(args) => {
            let progress = sweep::progress("diagnosing stopped tasks");
            let report = runtime::start()?.block_on(sweep::service(&args, &progress))?;
            progress.finish_and_clear();
            write_out(&render::render_service(&report, args.render.style()))?;
            Ok(exit::of(report.verdict))
        }
        Command::Cluster(args) => {
            let progress = sweep::progress("diagnosing stopped tasks");
            let report = runtime::start()?.block_on(sweep::cluster(&args, &progress))?;
            progress.finish_and_clear();
            write_out(&render::render_cluster(&report, args.render.style()))?;
            Ok(exit::of(report.verdict))
        }
        Command::Deployment(args) => {
            let progress = crate::deployment::Progress::new();
            let report =
                runtime::start()?.block_on(crate::deployment::deployment(&args, &progress));
            progress.finish();
            let report = report?;
            write_out(&render::render_deployment(&report, args.render.style()))?;
            Ok(crate::deployment::exit_code(&report))
        }
        Command::Event(args) => run_event(&args),
        Command::Mcp(args) => crate::mcp::run(*args),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut crate::cli::command(), "ecs-doctor", &mut out);
            write_out(&String::from_utf8_lossy(&out))?;
            Ok(exit::OK)
        }
        Command::Man { dir: Some(dir) } => {
            for page in write_man_pages(&dir)? {
                println!("{}", page.display());
            }
            Ok(exit::OK)
        }
        Command::Man { dir: None } => {
            let mut out = Vec::new();
            clap_mangen::Man::new(crate::cli::command())
                .render(&mut out)
                .context("could not render the man page")?;
            write_out(&String::from_utf8_lossy(&out))?;
            Ok(exit::OK)
        }
    }
}

/// The text of a file, or of standard input for `-`, and how to name it in a message.
fn read_input(file: &std::path::Path) -> Result<(String, String), DoctorError> {
    if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| DoctorError::BadInput(format!("could not read standard input: {e}")))?;
        Ok((text, "standard input".to_string()))
    } else {
        let text = std::fs::read_to_string(file).map_err(|e| {
            DoctorError::BadInput(format!("could not read {}: {e}", file.display()))
        })?;
        Ok((text, file.display().to_string()))
    }
}

/// Write the top man page and one per subcommand to `dir` (created if
/// needed); the files written, top page first.
fn write_man_pages(dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>, DoctorError> {
    let failed = |e: std::io::Error| {
        DoctorError::BadInput(format!(
            "could not write the man pages to {}: {e}",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    // Built, the subcommands are named `ecs-doctor-<command>`: their pages' names.
    let mut command = crate::cli::command().disable_help_subcommand(true);
    command.build();
    let mut written = vec![clap_mangen::Man::new(command.clone())
        .generate_to(dir)
        .map_err(failed)?];
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        written.push(
            clap_mangen::Man::new(sub.clone())
                .generate_to(dir)
                .map_err(failed)?,
        );
    }
    Ok(written)
}

/// Read an event file (or standard input) and diagnose each task it names.
fn run_event(args: &EventArgs) -> anyhow::Result<i32> {
    let (text, name) = read_input(&args.file)?;
    let (events, other) = collect::event::parse(&text).map_err(|why| {
        DoctorError::BadInput(format!("{name} is not an EventBridge event file: {why}"))
    })?;
    if other > 0 {
        eprintln!(
            "note: {other} event{} of another kind skipped",
            if other == 1 { "" } else { "s" }
        );
    }
    let mut results = runtime::start()?.block_on(collect::event::collect_tasks(
        events,
        &args.aws,
        args.log_lines,
    ));
    // One task that could not be diagnosed ends the run in one line, as for `task`.
    if results.len() == 1 && results[0].1.is_err() {
        if let Some((_, Err(err))) = results.pop() {
            return Err(err.into());
        }
    }
    // One event reads as one task's report; several as an array of them.
    report_each(results, &args.render, true)
}

/// Diagnose each collected task, name the ones that could not be collected
/// on stderr, print the reports, and exit with the worst of them (3 if any
/// task could not be diagnosed). `one_as_single`: a lone report is printed
/// as itself rather than as a list of one. JSON keeps one entry per input,
/// in order: a report, or an error entry for an input that could not be
/// diagnosed.
fn report_each(
    results: Vec<(String, Result<Evidence, DoctorError>)>,
    render_args: &RenderArgs,
    one_as_single: bool,
) -> anyhow::Result<i32> {
    let mut entries = Vec::new();
    for (input, result) in results {
        entries.push(match result {
            Ok(evidence) => Ok(diagnose(&evidence, VERSION)),
            Err(err) => {
                let line = ecs_doctor_checks::redact::redact(&err.to_string());
                eprintln!("ecs-doctor: {input}: {line}");
                Err(error_entry(&input, &line, err.exit_code()))
            }
        });
    }
    let reports: Vec<Report> = entries
        .iter()
        .filter_map(|e| e.as_ref().ok())
        .cloned()
        .collect();
    let could_not_run = reports.len() < entries.len();
    let style = render_args.style();
    let text = match reports.as_slice() {
        [report] if one_as_single && !could_not_run => render::render(report, style),
        _ if render_args.output == OutputFormat::Json => {
            let values: Vec<serde_json::Value> = entries
                .into_iter()
                .map(|entry| match entry {
                    Ok(report) => {
                        serde_json::to_value(ecs_doctor_checks::redact::redact_serde(&report))
                            .expect("a report serialises")
                    }
                    Err(value) => value,
                })
                .collect();
            serde_json::to_string_pretty(&values).expect("JSON values serialise") + "\n"
        }
        _ => render::render_many(&reports, style),
    };
    write_out(&text)?;
    let codes = reports.iter().map(|r| exit::of(r.verdict));
    Ok(if could_not_run {
        exit::CANNOT_RUN
    } else {
        exit::worst(codes)
    })
}

/// The JSON entry of an input that could not be diagnosed: the input as
/// given, the one-line error and the exit code it alone would have had.
fn error_entry(input: &str, error: &str, exit_code: i32) -> serde_json::Value {
    serde_json::json!({
        "schema_version": 1,
        "input": input,
        "error": error,
        "exit_code": exit_code,
    })
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

fn run_task(args: TaskArgs, purpose: Question) -> anyhow::Result<i32> {
    let targets = args
        .tasks
        .iter()
        .map(|t| target::parse(t, args.cluster.as_deref()))
        .collect::<Result<Vec<_>, _>>()?;
    if targets.len() > 1 && args.save_evidence.is_some() {
        return Err(DoctorError::BadInput("--save-evidence takes a single task".into()).into());
    }
    let runtime = runtime::start()?;
    if let [target] = targets.as_slice() {
        let evidence = runtime.block_on(collect::collect(target, &args, purpose))?;
        // The report comes first: a bundle that cannot be written where asked
        // is saved elsewhere, and never costs the diagnosis.
        let code = report(&evidence, &args.render)?;
        if let Some(path) = &args.save_evidence {
            if let Some(problem) = save_evidence(&evidence, path) {
                eprintln!(
                    "ecs-doctor: {}",
                    ecs_doctor_checks::redact::redact(&problem)
                );
            }
        }
        return Ok(code);
    }
    // Several tasks: collect a few at a time (AWS throttles bursts), report in the order given.
    use futures::StreamExt;
    let collected: Vec<_> = runtime.block_on(
        futures::stream::iter(targets.iter().map(|t| collect::collect(t, &args, purpose)))
            .buffered(4)
            .collect(),
    );
    let results = args.tasks.iter().cloned().zip(collected).collect();
    report_each(results, &args.render, false)
}

/// Write the (redacted) evidence bundle to `path`; when that fails, to
/// `ecs-doctor-<task id>.json` in the system's temporary directory. Returns
/// the one line that says what went wrong and where the bundle went.
fn save_evidence(evidence: &Evidence, path: &std::path::Path) -> Option<String> {
    let bundle = Bundle::new(evidence.clone(), VERSION, None);
    let json = match serde_json::to_string_pretty(&bundle) {
        Ok(json) => json + "\n",
        Err(e) => {
            return Some(format!(
                "the evidence could not be serialised ({e}); it was not saved"
            ))
        }
    };
    let why = match std::fs::write(path, &json) {
        Ok(()) => return None,
        Err(e) => e,
    };
    let id = match evidence.task.id.as_str() {
        "" => "task",
        id => id,
    };
    let fallback = std::env::temp_dir().join(format!("ecs-doctor-{id}.json"));
    Some(match std::fs::write(&fallback, &json) {
        Ok(()) => format!(
            "could not write the evidence to {} ({why}); it was saved to {} instead",
            path.display(),
            fallback.display()
        ),
        Err(again) => format!(
            "could not write the evidence to {} ({why}), nor to {} ({again}); it was not saved",
            path.display(),
            fallback.display()
        ),
    })
}

/// Print to stdout; a closed pipe (`| head`) is not an error of the diagnosis.
fn write_out(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e).context("could not write the report");
        }
    }
    Ok(())
}

fn report(evidence: &Evidence, args: &RenderArgs) -> anyhow::Result<i32> {
    let report = diagnose(evidence, VERSION);
    write_out(&render::render(&report, args.style()))?;
    Ok(exit::of(report.verdict))
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
    println!("{}", explain::explain_code(code.unwrap_or_default())?);
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::parse_bundle;

    proptest::proptest! {
        /// Whatever file is replayed, it is a bundle or a one-line refusal.
        #[test]
        fn any_file_is_a_bundle_or_a_refusal(
            text in proptest::prop_oneof![
                ".{0,300}",
                "\\{\"format\": \"ecs-doctor-evidence\"(, \"[a-z_]{1,20}\": [0-9a-z\"]{1,10}){0,4}\\}",
            ]
        ) {
            if let Err(why) = parse_bundle(&text) {
                proptest::prop_assert!(!why.is_empty());
            }
        }
    }

    #[test]
    fn every_example_bundle_replays() {
        for entry in std::fs::read_dir("examples").expect("examples/") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).expect("readable");
                parse_bundle(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
        }
    }
}
