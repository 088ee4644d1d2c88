//! ## What it detects
//! The container's command or entry point could not be run: the runtime
//! reports an exec failure in a `CannotStartContainerError` («exec:
//! "gunicorn": executable file not found in $PATH», «exec:
//! "/entrypoint.sh": permission denied», «exec user process caused: no such
//! file or directory»), or the container exits 127 (command not found) or
//! 126 (found but not executable), or its log shows the shell failing to
//! find or run it.
//!
//! ## Why it matters
//! Nothing of the application ran, so there is no application log to read.
//! The usual causes are a `command`/`entryPoint` in the task definition that
//! names a program the image lacks (a slim or distroless base image, a
//! binary installed in another stage of a multi-stage build), a script
//! without the executable bit, or a script whose interpreter is missing
//! (`#!/bin/bash` on Alpine, Windows line endings).
//!
//! ## Example
//! ```text
//! stopCode = TaskFailedToStart
//! container web: reason = "CannotStartContainerError: … exec: \"gunicorn\": executable file not found in $PATH: unknown"
//! task definition: command = ["gunicorn", "app:app"]
//! ```
//!
//! ## How to fix
//! Run the image locally with the same command (`docker run --rm IMAGE
//! gunicorn app:app`). Fix the task definition's `command`/`entryPoint`
//! (use an absolute path), install the program in the final image stage,
//! `chmod +x` the script in the Dockerfile, or fix its first line and line
//! endings.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cannot-start-container.html
//! - https://docs.docker.com/engine/containers/run/#exit-status
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_environment

use crate::context::Ctx;
use crate::logs::excerpt::log_hint;
use crate::text::contains_any;
use crate::task::failed_essential_container;
use crate::codes::Cause;
use crate::report::{Finding, Strength, Verdict};
use crate::logs;
use crate::stops::{self, Classified, Detail, Source, StopKind};

/// Shell and runtime log lines of a command that could not run.
const LOG_TEXT: &[&str] = &[
    "executable file not found",
    "command not found",
    ": not found",
    "exec user process caused",
    "no such file or directory",
    "permission den",
    "cannot execute",
    "bad interpreter",
];

/// Which kind of exec failure: not found, not executable, or a missing interpreter.
fn flavour(class: &Classified) -> &'static str {
    if class.states(Detail::NotExecutable) {
        "is not executable (permission denied)"
    } else if class.states(Detail::BadInterpreter) {
        "could not be started: its interpreter (the `#!` line) is missing or the file has Windows line endings"
    } else {
        "was not found in the image"
    }
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    if !ev.is_stopped() {
        return Verdict::Skipped("the task is not stopped".into());
    }
    // 1. The runtime says exec failed.
    let by_text = ctx.stops.find(StopKind::ExecFailure).cloned();
    // 2. An essential container exited 126 or 127.
    let by_exit = failed_essential_container(ev).filter(|c| matches!(c.exit_code, Some(126 | 127)));
    let (container_name, decisive, strength) = match (&by_text, by_exit) {
        (Some(t), _) => {
            let name = match &t.source {
                Source::Container(n) => Some(n.clone()),
                Source::Task | Source::EbsAttachment(_) => by_exit
                    .map(|c| c.name.clone())
                    .or_else(|| failed_essential_container(ev).map(|c| c.name.clone()))
                    .or_else(|| match ev.task.containers.as_slice() {
                        [only] => Some(only.name.clone()),
                        _ => None,
                    }),
            };
            (name, t.text.clone(), Strength::Direct)
        }
        (None, Some(c)) => {
            let line = ev
                .log_lines(&c.name)
                .iter()
                .rev()
                .find(|l| contains_any(&l.message, LOG_TEXT))
                .map(|l| l.message.trim().to_string());
            let strength = if line.is_some() { Strength::Direct } else { Strength::Corroborating };
            (Some(c.name.clone()), line.unwrap_or_default(), strength)
        }
        (None, None) => return Verdict::Pass("no exec failure in the stop reasons and no essential container exited 126 or 127".into()),
    };
    let def = container_name
        .as_deref()
        .and_then(|n| ev.task_def().and_then(|td| td.container(n)));
    let program = stops::named_program(&decisive).or_else(|| {
        def.and_then(|d| d.entry_point.first().or(d.command.first()))
            .filter(|p| !p.starts_with('-'))
            .cloned()
    });
    let code = container_name
        .as_deref()
        .and_then(|n| ev.task.containers.iter().find(|c| c.name == n))
        .and_then(|c| c.exit_code);
    let how = match (code, decisive.is_empty()) {
        (Some(126), true) => "is not executable (exit code 126)",
        (Some(127), true) => "was not found (exit code 127)",
        _ => flavour(&by_text.as_ref().map_or_else(|| logs::as_stop_text(&decisive), |t| t.class.clone())),
    };
    let who = container_name.as_deref().map(|n| format!("container `{n}`")).unwrap_or_else(|| "a container".into());
    let title = match &program {
        Some(p) => format!("The command of {who} could not run: `{p}` {how}"),
        None => format!("The command of {who} could not run: it {how}"),
    };
    let mut f = Finding::new(Cause::AppCommandNotFound, strength, title);
    if let Some(t) = &by_text {
        f = f.evidence(t.quote());
    } else if !decisive.is_empty() {
        f = f.evidence(format!("log line: \"{decisive}\""));
    }
    if let (Some(name), Some(code)) = (&container_name, code) {
        f = f.evidence(format!("container `{name}` exitCode = {code}"));
    }
    if let Some(d) = def {
        let mut shown = Vec::new();
        if !d.entry_point.is_empty() {
            shown.push(format!("entryPoint = {:?}", d.entry_point));
        }
        if !d.command.is_empty() {
            shown.push(format!("command = {:?}", d.command));
        }
        if shown.is_empty() {
            shown.push("no command or entryPoint: the image's own ENTRYPOINT/CMD ran".to_string());
        }
        f = f.evidence(format!("task definition, container `{}`: {}; image {}", d.name, shown.join(", "), d.image));
    }
    let image = def.map(|d| d.image.clone()).unwrap_or_else(|| "IMAGE".into());
    let prog = program.clone().unwrap_or_else(|| "<command>".into());
    f = f.fix(format!(
        "Reproduce it locally: `docker run --rm --entrypoint sh {image} -c 'command -v {prog}; ls -l {prog}'`."
    ));
    f = match how {
        h if h.contains("not executable") => f.fix(format!(
            "Make it executable in the image (`RUN chmod +x {prog}` in the Dockerfile, or `COPY --chmod=755`), then push and redeploy."
        )),
        h if h.contains("interpreter") => f.fix(format!(
            "Check `{prog}`'s first line names an interpreter the image has (`#!/bin/sh` on Alpine, which has no bash) and that it has Unix line endings (`dos2unix`)."
        )),
        _ => f.fix(format!(
            "Install `{prog}` in the final image stage, or fix `command`/`entryPoint` in the task definition to a program the image has (use its absolute path), then register a new revision."
        )),
    };
    if let Some(name) = &container_name {
        f = f.fix(format!("If the container ran at all, its output is in {}.", log_hint(ev, name)));
    }
    f.doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cannot-start-container.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::testkit::{running, stopped, EvidenceExt};

    #[test]
    fn an_exec_failure_in_the_container_reason_names_the_program() {
        let reason = "CannotStartContainerError: ResourceInitializationError: failed to create new container runtime task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"gunicorn\": executable file not found in $PATH: unknown";
        let ev = stopped("TaskFailedToStart", "Essential container in task exited")
            .exit("web", None, Some(reason))
            .def("web", |d| d.command = vec!["gunicorn".into(), "app:app".into()]);
        let Verdict::Found(f) = check(&ev) else { panic!("{:?}", check(&ev)) };
        assert_eq!(f.strength, Strength::Direct);
        assert_eq!(f.title, "The command of container `web` could not run: `gunicorn` was not found in the image");
        assert!(f.evidence.iter().any(|e| e.contains("command = [\"gunicorn\", \"app:app\"]")));
    }

    #[test]
    fn a_truncated_permission_failure_is_still_found() {
        let ev = stopped("TaskFailedToStart", "CannotStartContainerError: … exec: \"/entrypoint.sh\": permission den")
            .exit("web", None, None);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.title.contains("`/entrypoint.sh` is not executable"), "{}", f.title);
        assert!(f.fix[1].contains("chmod +x /entrypoint.sh"));
    }

    #[test]
    fn exit_127_with_a_shell_line_is_direct() {
        let ev = stopped("EssentialContainerExited", "Essential container in task exited")
            .exit("web", Some(127), None)
            .log("web", &["/bin/sh: 1: node-server: not found"]);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.contains("`node-server`"), "{}", f.title);
    }

    #[test]
    fn exit_126_alone_is_corroborating() {
        let ev = stopped("EssentialContainerExited", "Essential container in task exited")
            .exit("web", Some(126), None)
            .def("web", |d| d.entry_point = vec!["/app/run.sh".into()]);
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert_eq!(f.strength, Strength::Corroborating);
        assert!(f.title.contains("`/app/run.sh` is not executable (exit code 126)"), "{}", f.title);
    }

    #[test]
    fn a_missing_interpreter_is_explained() {
        let ev = stopped("EssentialContainerExited", "Essential container in task exited")
            .exit("web", Some(1), Some("CannotStartContainerError: standard_init_linux.go:228: exec user process caused: no such file or directory"));
        let Verdict::Found(f) = check(&ev) else { panic!() };
        assert!(f.title.contains("interpreter"), "{}", f.title);
    }

    #[test]
    fn other_tasks_pass() {
        assert!(matches!(check(&running()), Verdict::Skipped(_)));
        let crash = stopped("EssentialContainerExited", "Essential container in task exited").exit("web", Some(1), None);
        assert!(matches!(check(&crash), Verdict::Pass(_)));
        let arch = stopped("EssentialContainerExited", "Essential container in task exited")
            .exit("web", Some(1), Some("exec /app: exec format error"));
        assert!(matches!(check(&arch), Verdict::Pass(_)));
    }
}
