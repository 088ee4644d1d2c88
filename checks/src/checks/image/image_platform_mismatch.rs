//! ## What it detects
//! An image that has no variant for the task's platform: the platforms of
//! its ECR manifest or image index (read with `ecr:BatchGetImage`, a
//! read-only call) do not include the task's `runtimePlatform` (default
//! `LINUX` / `X86_64`). For images outside ECR, whose manifests ecs-doctor
//! does not read, the stop reason or the container's log (`no matching
//! manifest`, `descriptor matching platform`, `exec format error`) is the
//! evidence.
//!
//! ## Why it matters
//! An image built on an Apple silicon laptop is `linux/arm64` only; a task
//! with the default `X86_64` architecture cannot run it. With an image index
//! the pull fails (no matching manifest); with a single-platform image the
//! container starts and dies at once with `exec format error`. Either way
//! every task of the service fails the same way.
//!
//! ## Example
//! ```text
//! stoppedReason = CannotPullContainerError: pull image manifest has been retried 5 time(s):
//!                 image Manifest does not contain descriptor matching platform 'linux/amd64'
//! image 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v2: image is arm64 only, task is X86_64
//! ```
//!
//! ## How to fix
//! Build and push the image for the task's platform (or for both:
//! `docker buildx build --platform linux/amd64,linux/arm64 --push …`), or set
//! `runtimePlatform.cpuArchitecture` to the image's architecture in a new
//! task definition revision, and redeploy.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#runtime-platform
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-arm64.html
//! - https://docs.docker.com/build/building/multi-platform/

use crate::context::Ctx;
use crate::task::unknown_task_definition;
use crate::stops::Detail;
use crate::text::contains_any;

use crate::codes::Cause;
use crate::evidence::{Evidence, Fact, Platform};
use crate::report::{Finding, Strength, Verdict};

/// The task's platform as OCI names it: (`linux`, `amd64`).
fn task_platform(cpu: Option<&str>, os: Option<&str>) -> (String, String) {
    let arch = match cpu.unwrap_or("X86_64").to_ascii_uppercase().as_str() {
        "ARM64" => "arm64".to_string(),
        "X86_64" => "amd64".to_string(),
        other => other.to_ascii_lowercase(),
    };
    let os = match os.unwrap_or("LINUX").to_ascii_uppercase() {
        o if o.starts_with("WINDOWS") => "windows".to_string(),
        _ => "linux".to_string(),
    };
    (os, arch)
}

/// ECS's name for an OCI architecture.
fn ecs_arch(arch: &str) -> String {
    match arch {
        "amd64" => "X86_64".into(),
        "arm64" => "ARM64".into(),
        other => other.to_string(),
    }
}

/// When the image of `container` is known (from its manifest) not to
/// support the task's platform: what it supports and what the task is, for
/// the checks a foreign-architecture binary makes fire first (an exit).
pub(crate) fn foreign_image(ev: &Evidence, container: &str) -> Option<String> {
    let td = ev.task_def()?;
    let (os, arch) = task_platform(td.cpu_architecture.as_deref(), td.os_family.as_deref());
    let img = ev.images.iter().find(|i| i.container == container)?;
    let platforms = img.ecr.value()?.found.as_ref()?.platforms.value()?;
    let foreign = !platforms.is_empty() && !platforms.iter().any(|p| p.os == os && p.architecture == arch);
    foreign.then(|| format!("its image {} is {} only and the task is {os}/{arch}", img.image, describe(platforms)))
}

fn describe(platforms: &[Platform]) -> String {
    let archs: Vec<String> = platforms
        .iter()
        .map(|p| match &p.variant {
            Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
            None => format!("{}/{}", p.os, p.architecture),
        })
        .collect();
    archs.join(", ")
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let Some(td) = ev.task_def() else {
        return unknown_task_definition(ev);
    };
    let (os, arch) = task_platform(td.cpu_architecture.as_deref(), td.os_family.as_deref());
    let task_label = format!(
        "{}{}",
        ecs_arch(&arch),
        if td.cpu_architecture.is_none() { " (the default)" } else { "" }
    );
    let text = ctx.stops.stating(Detail::PlatformMismatch).map(|t| t.text.clone());
    let log_line = ev.task.containers.iter().find_map(|c| {
        ev.log_lines(&c.name)
            .iter()
            .find(|l| contains_any(&l.message, &["exec format error"]))
            .map(|l| (c.name.clone(), l.message.clone()))
    });
    let mut mismatched = Vec::new();
    let mut matched = Vec::new();
    let mut unread = Vec::new();
    let mut outside_ecr = Vec::new();
    for img in &ev.images {
        let platforms = match &img.ecr {
            Fact::Gathered { value } => match &value.found {
                Some(detail) => &detail.platforms,
                None => continue, // image-not-found's business
            },
            Fact::NotApplicable { reason } => {
                outside_ecr.push(format!("{}: {reason}, its manifest is not read", img.image));
                continue;
            }
            other => {
                unread.push(format!("{}: {}", img.image, other.gap_reason().unwrap_or_default()));
                continue;
            }
        };
        match platforms {
            Fact::Gathered { value } if !value.is_empty() => {
                if value.iter().any(|p| p.os == os && p.architecture == arch) {
                    matched.push(format!("{} ({})", img.image, describe(value)));
                } else {
                    mismatched.push((img.container.clone(), img.image.clone(), value.clone()));
                }
            }
            Fact::Gathered { .. } => unread.push(format!("{}: its manifest lists no platform", img.image)),
            other => unread.push(format!("{}: {}", img.image, other.gap_reason().unwrap_or_default())),
        }
    }
    let signal = text.clone().or_else(|| log_line.as_ref().map(|(_, l)| l.clone()));
    if mismatched.is_empty() {
        let Some(signal) = signal else {
            if matched.is_empty() && unread.is_empty() && !outside_ecr.is_empty() {
                return Verdict::Skipped(format!(
                    "no platform error in the stop reason or logs; {}",
                    outside_ecr.join("; ")
                ));
            }
            if !unread.is_empty() {
                // Unread manifests, but the task itself shows whether its images ran.
                let logged: Vec<&str> = ev
                    .task
                    .containers
                    .iter()
                    .filter(|c| !ev.log_lines(&c.name).is_empty())
                    .map(|c| c.name.as_str())
                    .collect();
                let t = &ev.task.timestamps;
                // A started container dies of a foreign architecture only in
                // its log: a log that could not be read decides nothing.
                let log_gaps: Vec<String> = ev
                    .task
                    .containers
                    .iter()
                    .filter_map(|c| ev.log_gap(&c.name).map(|g| format!("`{}`: {g}", c.name)))
                    .collect();
                if t.started_at.is_some() && !log_gaps.is_empty() {
                    return Verdict::Inconclusive(format!(
                        "the image platforms could not be read ({}) and neither could the logs that would show exec format error ({})",
                        unread.join("; "),
                        log_gaps.join("; ")
                    ));
                }
                if t.started_at.is_some() && !logged.is_empty() {
                    return Verdict::Pass(format!(
                        "the task is {os}/{arch}; its containers started and {} wrote log lines without exec format error (manifests not read: {})",
                        logged.join(", "),
                        unread.join("; ")
                    ));
                }
                if t.pull_started_at.is_none() && t.started_at.is_none() && ev.is_stopped() {
                    return Verdict::Skipped(format!(
                        "the task stopped before pulling its image (manifests not read: {})",
                        unread.join("; ")
                    ));
                }
                return crate::task::startup_undecided(
                    ev,
                    format!("the image platforms could not be read: {}", unread.join("; ")),
                );
            }
            return Verdict::Pass(format!(
                "the task is {os}/{arch}; {}",
                if matched.is_empty() {
                    "no image platform to compare".to_string()
                } else {
                    format!("every readable image supports it: {}", matched.join(", "))
                }
            ));
        };
        // The error says so, but no manifest could confirm it.
        if unread.is_empty() && outside_ecr.is_empty() && !matched.is_empty() && text.is_none() {
            return Verdict::Pass(format!(
                "a log line mentions exec format error, but every image supports {os}/{arch}: {}",
                matched.join(", ")
            ));
        }
        let mut finding = Finding::new(
            Cause::ImagePlatformMismatch,
            Strength::Direct,
            format!("The image was not built for the task's platform ({os}/{arch}, {task_label})"),
        )
        .evidence(format!("\"{signal}\""));
        for u in unread.iter().chain(&outside_ecr) {
            finding = finding.evidence(format!("manifest not read: {u}"));
        }
        for m in &matched {
            finding = finding.against(format!("the manifest of {m} includes {os}/{arch}"));
        }
        return with_fixes(finding, &arch, None).into_verdict();
    }
    let (container, image, platforms) = &mismatched[0];
    let archs: Vec<String> = {
        let mut a: Vec<String> = platforms.iter().map(|p| p.architecture.clone()).collect();
        a.sort();
        a.dedup();
        a
    };
    // A foreign binary either fails the pull's platform match or starts and
    // dies at once: a container of that image that exited shows it as well.
    let exited = ev
        .task
        .containers
        .iter()
        .find(|c| c.name == *container && c.exit_code.is_some_and(|code| code != 0));
    let strength = if signal.is_some() || exited.is_some() {
        Strength::Direct
    } else {
        Strength::Corroborating
    };
    let image_side = if platforms.iter().all(|p| p.os == os) {
        format!("image is {} only", archs.join(", "))
    } else {
        format!("image is {} only", describe(platforms))
    };
    let mut finding = Finding::new(
        Cause::ImagePlatformMismatch,
        strength,
        format!("{image_side}, task is {task_label} (container `{container}`)"),
    );
    if let Some(t) = &text {
        finding = finding.evidence(format!("stop reason: \"{t}\""));
    }
    if let Some((c, l)) = &log_line {
        finding = finding.evidence(format!("container {c} log: \"{l}\""));
    }
    if let Some(c) = exited {
        finding = finding.evidence(format!(
            "container {} started and exited with code {}, as a binary for another architecture does",
            c.name,
            c.exit_code.unwrap_or_default()
        ));
    }
    for (c, i, p) in &mismatched {
        finding = finding.evidence(format!(
            "ecr:BatchGetImage manifest of {i} (container {c}) declares {}; the task runs {os}/{arch} (runtimePlatform {}{})",
            describe(p),
            td.cpu_architecture.as_deref().unwrap_or("X86_64"),
            if td.cpu_architecture.is_none() { ", not set so the default" } else { "" }
        ));
    }
    let only = if archs.len() == 1 { Some(archs[0].as_str()) } else { None };
    with_fixes(finding, &arch, only)
        .fix(format!("The image in question: {image}"))
        .into_verdict()
}

fn with_fixes(finding: Finding, task_arch: &str, image_arch: Option<&str>) -> Finding {
    let mut f = finding.fix(format!(
        "Rebuild and push for the task's platform: docker buildx build --platform linux/{task_arch} (or linux/amd64,linux/arm64) -t <image> --push ."
    ));
    if let Some(a) = image_arch.filter(|a| *a == "arm64" || *a == "amd64") {
        f = f.fix(format!(
            "Or run the task on the image's architecture: set \"runtimePlatform\": {{\"cpuArchitecture\": \"{}\", \"operatingSystemFamily\": \"LINUX\"}} in a new task definition revision and redeploy.",
            ecs_arch(a)
        ));
    }
    f.doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-arm64.html")
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::evidence::{Evidence, LogLine};

    crate::check_under_test!();
    use crate::evidence::{EcrImageDetail, ContainerLogs};
    use crate::testkit::image::*;

    fn platforms(ev: &mut Evidence, list: &[(&str, &str)]) {
        let detail: &mut EcrImageDetail = ecr_mut(ev).found.as_mut().unwrap();
        detail.platforms = Fact::gathered(
            list.iter()
                .map(|(os, arch)| Platform { os: (*os).into(), architecture: (*arch).into(), variant: None })
                .collect(),
        );
    }

    /// The kit's task, stopped after `web` exited 1, its image arm64 only.
    fn exited_on_an_arm64_image() -> Evidence {
        let mut ev = crate::testkit::EvidenceExt::exit(healthy(), "web", Some(1), None);
        ev.task.last_status = "STOPPED".into();
        ev.task.stop_code = Some("EssentialContainerExited".into());
        ev.task.stopped_reason = Some("Essential container in task exited".into());
        platforms(&mut ev, &[("linux", "arm64")]);
        ev
    }

    #[test]
    fn a_foreign_manifest_and_an_exit_convict_without_the_log() {
        let mut ev = exited_on_an_arm64_image();
        ev.logs = vec![ContainerLogs {
            container: "web".into(),
            driver: "awslogs".into(),
            lines: Fact::Denied { action: "logs:GetLogEvents".into(), error: "AccessDeniedException".into() },
            ..Default::default()
        }];
        let f = crate::testkit::found(check(&ev));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.evidence.iter().any(|e| e.contains("started and exited with code 1")), "{:?}", f.evidence);
        // The generic exit ranks below it, saying why.
        let report = crate::diagnose(&ev, "test");
        assert_eq!(report.candidates[0].code, Cause::ImagePlatformMismatch, "{:#?}", report.candidates);
        let exit = report.candidates.iter().find(|c| c.code == Cause::AppExitError).expect("the exit is still named");
        assert!(exit.against.iter().any(|a| a.contains("is linux/arm64 only and the task is linux/amd64")), "{:?}", exit.against);
    }

    #[test]
    fn healthy_task_passes() {
        assert!(matches!(check(&healthy()), Verdict::Pass(_)));
    }

    #[test]
    fn arm64_only_image_on_default_x86_task() {
        let mut ev = failed_to_start("CannotPullContainerError: pull image manifest has been retried 5 time(s): image Manifest does not contain descriptor matching platform 'linux/amd64'");
        platforms(&mut ev, &[("linux", "arm64")]);
        match check(&ev) {
            Verdict::Found(f) => {
                assert_eq!(f.strength, Strength::Direct);
                assert!(f.title.starts_with("image is arm64 only, task is X86_64"), "{}", f.title);
                assert!(f.fix.iter().any(|x| x.contains("\"cpuArchitecture\": \"ARM64\"")), "{:?}", f.fix);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn arm64_task_with_amd64_image_and_exec_format_error_log() {
        let mut ev = healthy();
        td_mut(&mut ev).cpu_architecture = Some("ARM64".into());
        ev.task.stop_code = Some("EssentialContainerExited".into());
        ev.logs.push(ContainerLogs {
            container: "web".into(),
            driver: "awslogs".into(),
            lines: Fact::gathered(vec![LogLine { timestamp: None, message: "exec /usr/local/bin/docker-entrypoint.sh: exec format error".into() }]),
            ..Default::default()
        });
        match check(&ev) {
            Verdict::Found(f) => {
                assert_eq!(f.strength, Strength::Direct);
                assert!(f.title.starts_with("image is amd64 only, task is ARM64"), "{}", f.title);
                assert!(f.evidence.iter().any(|e| e.contains("exec format error")));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unread_manifests_and_unread_logs_decide_nothing() {
        let mut ev = healthy();
        ev.task.stop_code = Some("EssentialContainerExited".into());
        ecr_mut(&mut ev).found.as_mut().expect("kit image").platforms =
            Fact::Failed { action: "ecr:BatchGetImage".into(), error: "schema 1 form not returned".into() };
        ev.logs.push(ContainerLogs {
            container: "web".into(),
            driver: "awslogs".into(),
            lines: Fact::Denied { action: "logs:GetLogEvents".into(), error: "AccessDenied".into() },
            ..Default::default()
        });
        match check(&ev) {
            Verdict::Inconclusive(d) => assert!(d.contains("exec format error") && d.contains("logs:GetLogEvents"), "{d}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn multi_platform_index_that_includes_the_task_passes() {
        let mut ev = healthy();
        platforms(&mut ev, &[("linux", "arm64"), ("linux", "amd64")]);
        assert!(matches!(check(&ev), Verdict::Pass(_)));
    }

    #[test]
    fn docker_hub_image_with_platform_error_text() {
        let mut ev = failed_to_start("CannotPullContainerError: no matching manifest for linux/amd64 in the manifest list entries");
        ev.images[0].ecr = Fact::not_applicable("Docker Hub image");
        match check(&ev) {
            Verdict::Found(f) => {
                assert_eq!(f.strength, Strength::Direct);
                assert!(f.evidence.iter().any(|e| e.contains("manifest not read")), "{:?}", f.evidence);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unreadable_manifest_but_the_container_ran_and_logged() {
        let mut ev = healthy();
        ecr_mut(&mut ev).found.as_mut().unwrap().platforms =
            Fact::not_applicable("single-platform manifest: ECR did not return its schema 1 form");
        ev.logs.push(ContainerLogs {
            container: "web".into(),
            driver: "awslogs".into(),
            lines: Fact::gathered(vec![LogLine { timestamp: None, message: "listening on :3000".into() }]),
            ..Default::default()
        });
        assert!(matches!(check(&ev), Verdict::Pass(d) if d.contains("wrote log lines")));
        let mut before_pull = failed_to_start("ResourceInitializationError: unable to pull secrets or registry auth: …");
        ecr_mut(&mut before_pull).found.as_mut().unwrap().platforms =
            Fact::not_applicable("single-platform manifest: ECR did not return its schema 1 form");
        before_pull.task.timestamps.pull_started_at = None;
        assert!(matches!(check(&before_pull), Verdict::Skipped(_)));
    }

    #[test]
    fn unreadable_single_platform_manifest_is_inconclusive_until_the_image_ran() {
        let unread = || Fact::not_applicable("single-platform manifest pinned by digest: its platform is in the image config");
        let mut ev = failed_to_start("CannotPullContainerError: pull image manifest has been retried 5 time(s)");
        ev.task.timestamps.pull_started_at = Some("2026-01-01T12:00:01Z".into());
        ecr_mut(&mut ev).found.as_mut().unwrap().platforms = unread();
        assert!(matches!(check(&ev), Verdict::Inconclusive(d) if d.contains("single-platform")));
        let mut ran = healthy();
        ecr_mut(&mut ran).found.as_mut().unwrap().platforms = unread();
        assert!(matches!(check(&ran), Verdict::Pass(d) if d.contains("start-up")));
    }
}
