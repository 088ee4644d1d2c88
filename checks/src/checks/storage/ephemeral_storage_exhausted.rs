//! ## What it detects
//! The task's disk filled up: «no space left on device» (or `ENOSPC`, «disk
//! quota exceeded») in a stop reason — typically while the image layers
//! were pulled and extracted — or in a container's last log lines, while
//! the app wrote temporary files, caches or logs to its own filesystem. The
//! report gives the task's ephemeral storage (`ephemeralStorage.sizeInGiB`,
//! 20 GiB by default on Fargate) and the size of its images in ECR.
//!
//! ## Why it matters
//! On Fargate the image layers and everything the containers write outside
//! volumes share one ephemeral volume. A large image (ML models, browsers,
//! build tool chains) can fail to pull at all, and an app that spools
//! uploads or logs to disk dies hours into a run. Neither the exit code nor
//! the stop code says "disk".
//!
//! ## Example
//! ```text
//! stoppedReason = CannotPullContainerError: failed to register layer: write
//!                 /usr/lib/python3.11/site-packages/torch/lib/libtorch_cuda.so: no space left on device
//! ephemeral storage: 20 GiB (Fargate default; ephemeralStorage not set)
//! image …/trainer:v7: 9.8 GiB compressed in ECR (layers are larger once extracted)
//! ```
//!
//! ## How to fix
//! Raise `ephemeralStorage.sizeInGiB` (21–200 GiB on Fargate) in a new task
//! definition revision; move data that grows to an EFS volume (or S3); clean
//! up temporary files; shrink the image (multi-stage builds, fewer layers).
//! On EC2, grow the container instance's data volume or clean old images.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-storage.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_EphemeralStorage.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/efs-volumes.html

use crate::codes::Cause;
use crate::context::Ctx;
use crate::report::{Finding, Strength, Verdict};
use crate::logs;
use crate::stops::StopKind;
use crate::task::on_fargate;

/// Fargate's ephemeral storage when the task definition does not set it.
const FARGATE_DEFAULT_GIB: i32 = 20;

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let stop_text = ctx
        .stops
        .all()
        .iter()
        .find(|t| t.class.is(StopKind::DiskFull));
    let log_line = ev.logs.iter().find_map(|l| {
        l.lines
            .value()?
            .iter()
            .rev()
            .find(|line| logs::as_stop_text(&line.message).is(StopKind::DiskFull))
            .map(|line| (l.container.as_str(), line))
    });
    if stop_text.is_none() && log_line.is_none() {
        let mut unread: Vec<String> = ev
            .logs
            .iter()
            .filter_map(|l| ev.log_gap(&l.container).map(|g| format!("`{}`: {g}", l.container)))
            .collect();
        // Logs are found through the task definition: without it, they are unread.
        if let Some(gap) = ev.task_definition.gap_reason().filter(|_| ev.task_def().is_none()) {
            unread.push(format!("where the containers log is unknown: the task definition could not be read ({gap})"));
        }
        // An app that died with its log unread may have died of a full disk.
        let failed_app = ev.is_stopped()
            && crate::task::failed_essential_container(ev)
                .is_some_and(|c| c.exit_code.is_some_and(|code| code != 0));
        if failed_app && !unread.is_empty() {
            return Verdict::Inconclusive(format!(
                "no stop text says the disk is full, but the logs could not be read: {}",
                unread.join("; ")
            ));
        }
        return Verdict::Pass("no stop text or log line says the disk is full".into());
    }
    // At pull time: the text is about the pull, or the container never started.
    let at_pull = stop_text.is_some_and(|t| {
        t.class.is(StopKind::ImagePull) || ev.task.timestamps.started_at.is_none()
    });
    let fargate = on_fargate(ev);
    let size = ev.task_def().and_then(|td| td.ephemeral_storage_gib);
    let title = match (stop_text, log_line, at_pull) {
        (Some(_), _, true) => "The task's disk filled up while its image was pulled and extracted".to_string(),
        (_, Some((c, _)), _) => format!("Container `{c}` filled the task's disk (no space left on device)"),
        _ => "The task's disk filled up (no space left on device)".to_string(),
    };
    let mut f = Finding::new(Cause::EphemeralStorageExhausted, Strength::Direct, title);
    if let Some(t) = stop_text {
        f = f.evidence(t.quote());
    }
    if let Some((c, line)) = log_line {
        f = f.evidence(format!("`{c}` logged: \"{}\"", line.message.trim()));
    }
    f = f.evidence(match (fargate, size) {
        (Some(false), _) => "an EC2 task: the containers write to the container instance's Docker storage, not to ephemeralStorage".to_string(),
        (_, Some(gib)) => format!("ephemeral storage: {gib} GiB (ephemeralStorage.sizeInGiB)"),
        (Some(true), None) => format!("ephemeral storage: {FARGATE_DEFAULT_GIB} GiB (the Fargate default; ephemeralStorage is not set)"),
        (None, None) => "the launch type is unknown: on Fargate the default ephemeral storage is 20 GiB".to_string(),
    });
    let mut total: i64 = 0;
    for img in &ev.images {
        match img.ecr.value().and_then(|e| e.found.as_ref()).and_then(|d| d.size_bytes) {
            Some(bytes) => {
                total += bytes;
                f = f.evidence(format!(
                    "image {} (container {}): {} compressed in ECR; extracted layers take more",
                    img.image,
                    img.container,
                    gib(bytes)
                ));
            }
            None => {
                if let Some(gap) = img.ecr.gap_reason() {
                    f = f.evidence(format!("image {}: size unknown ({gap})", img.image));
                }
            }
        }
    }
    let current = size.unwrap_or(FARGATE_DEFAULT_GIB);
    // Room for the extracted layers (about 2–3 × compressed) plus what the app writes.
    let suggested = ((current as f64 * 2.0).max(total as f64 * 3.0 / GIB + 10.0).ceil() as i32)
        .clamp(21, 200);
    if fargate == Some(false) {
        f = f
            .fix("Grow the container instance's data volume, or let the agent clean old images sooner (ECS_IMAGE_CLEANUP_INTERVAL, ECS_NUM_IMAGES_DELETE_PER_CYCLE).")
    } else {
        f = f.fix(format!(
            "Raise the task's ephemeral storage in a new task definition revision: \"ephemeralStorage\": {{\"sizeInGiB\": {suggested}}} (21–200 GiB on Fargate), and redeploy."
        ));
    }
    if at_pull {
        f = f.fix("Shrink the image: multi-stage builds, fewer and smaller layers, no build tool chains or caches in the final image.");
    } else {
        f = f.fix("Write data that grows to an EFS volume (or S3) instead of the container's filesystem, and clean up temporary files and local log files.");
    }
    f.doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-storage.html")
        .into_verdict()
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

fn gib(bytes: i64) -> String {
    format!("{:.1} GiB", bytes as f64 / GIB)
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::testkit::image::{ecr_mut, failed_to_start, healthy};
    use crate::testkit::{exited, found, EvidenceExt};

    const PULL: &str = "CannotPullContainerError: failed to register layer: write /usr/lib/python3.11/site-packages/torch/lib/libtorch_cuda.so: no space left on device";

    #[test]
    fn a_pull_that_fills_the_disk_names_the_size_and_the_image() {
        let mut ev = failed_to_start(PULL);
        ecr_mut(&mut ev).found.as_mut().expect("kit image").size_bytes = Some(10_522_669_875);
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Direct);
        assert!(f.title.contains("pulled"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("20 GiB (the Fargate default")), "{:?}", f.evidence);
        assert!(f.evidence.iter().any(|e| e.contains("9.8 GiB compressed")), "{:?}", f.evidence);
        assert!(f.fix[0].contains("\"sizeInGiB\": 40"), "{:?}", f.fix);
    }

    #[test]
    fn a_log_line_at_run_time_names_the_container() {
        let mut ev = exited().exit("web", Some(1), None).log("web", &["OSError: [Errno 28] No space left on device: '/tmp/upload-7f3a'"]);
        ev.task_definition.value_mut().expect("kit td").ephemeral_storage_gib = Some(30);
        let f = found(check(&ev));
        assert!(f.title.contains("`web`"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("30 GiB (ephemeralStorage.sizeInGiB)")), "{:?}", f.evidence);
        assert!(f.fix.iter().any(|x| x.contains("EFS")), "{:?}", f.fix);
        // The full disk outranks the bare exit it caused.
        let report = crate::diagnose(&ev, "t");
        assert_eq!(report.candidates[0].code, Cause::EphemeralStorageExhausted, "{:?}", report.candidates);
    }

    #[test]
    fn nothing_about_disks_passes_and_unread_logs_of_a_failed_app_are_inconclusive() {
        assert!(matches!(check(&healthy()), Verdict::Pass(_)));
        let mut ev = exited().exit("web", Some(1), None).log("web", &["x"]);
        ev.logs[0].lines = crate::evidence::Fact::Denied { action: "logs:GetLogEvents".into(), error: "AccessDenied".into() };
        assert!(matches!(check(&ev), Verdict::Inconclusive(_)), "{:?}", check(&ev));
        // Without the task definition, where the logs are is unknown too.
        let mut ev = exited().exit("web", Some(1), None);
        ev.task_definition = crate::evidence::Fact::Denied { action: "ecs:DescribeTaskDefinition".into(), error: "AccessDenied".into() };
        assert!(matches!(check(&ev), Verdict::Inconclusive(_)), "{:?}", check(&ev));
    }
}
