//! ## What it detects
//! A container whose task definition sets `readonlyRootFilesystem = true`
//! and whose application then failed to write: its log says `Read-only file
//! system` or `EROFS` (nginx's `mkdir() "/var/cache/nginx/client_temp"
//! failed (30: Read-only file system)`, Apache's `(30)Read-only file system:
//! AH00099: could not create /run/apache2/httpd.pid`), or Python found no
//! usable temporary directory (`FileNotFoundError: [Errno 2] No usable
//! temporary directory found in ['/tmp', …]`). The report names the
//! directory the app could not write in, taken from the log line.
//!
//! ## Why it matters
//! A read-only root file system is a good hardening setting, but most
//! images write somewhere at start-up: a PID file, a cache, a temporary
//! directory. With nothing writable there, the process exits at once and a
//! service replaces the task again and again, while the stop reason only
//! says «Essential container in task exited».
//!
//! ## Example
//! ```text
//! task definition, container web: readonlyRootFilesystem = true, no mountPoints
//! log: nginx: [emerg] mkdir() "/var/cache/nginx/client_temp" failed (30: Read-only file system)
//! container web: exitCode = 1
//! ```
//!
//! ## How to fix
//! Keep the root file system read-only and give the app a writable volume
//! where it writes: a task definition `volumes` entry with no host
//! configuration (on Fargate a bind mount of the task's ephemeral storage,
//! on EC2 a Docker-managed directory) and a `mountPoints` entry in the
//! container for that path with `readOnly: false`. For a temporary
//! directory, mount `/tmp` (or point `TMPDIR` at a mounted directory).
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_security
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html
//! - https://github.com/docker-library/docs/tree/master/nginx#running-nginx-in-read-only-mode

use crate::codes::Cause;
use crate::context::Ctx;
use crate::evidence::ContainerDefinition;
use crate::logs::{line_kind, unwritable_dir, LineKind};
use crate::report::{Finding, Strength, Verdict};
use crate::task::unknown_task_definition;

const DOC: &str = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html";

/// A volume name for a path: `/var/cache/nginx` → `var-cache-nginx`.
fn volume_name(path: &str) -> String {
    let name: String = path
        .trim_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '-' })
        .collect();
    if name.is_empty() {
        "scratch".into()
    } else {
        name
    }
}

/// The mount point of `def` that holds `dir`, if any.
fn mount_for<'a>(def: &'a ContainerDefinition, dir: &str) -> Option<&'a crate::evidence::MountPoint> {
    def.mount_points
        .iter()
        .filter(|m| {
            let root = m.container_path.trim_end_matches('/');
            dir == root || dir.strip_prefix(root).is_some_and(|rest| rest.starts_with('/'))
        })
        .max_by_key(|m| m.container_path.len())
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    // Without the task definition, neither the setting nor the logs (read
    // from its log configuration) are known.
    let Some(td) = ev.task_def() else {
        return unknown_task_definition(ev);
    };
    let read_only: Vec<&ContainerDefinition> = td
        .containers
        .iter()
        .filter(|d| d.readonly_root_filesystem == Some(true))
        .collect();
    if read_only.is_empty() {
        return Verdict::Skipped("no container sets readonlyRootFilesystem".into());
    }
    let mut passes = Vec::new();
    let mut unread = Vec::new();
    for def in &read_only {
        let line = ev
            .log_lines(&def.name)
            .iter()
            .rev()
            .find(|l| line_kind(&l.message) == Some(LineKind::ReadOnlyFilesystem));
        let Some(line) = line else {
            match ev.log_gap(&def.name) {
                Some(why) => unread.push(format!("`{}`: {why}", def.name)),
                None => passes.push(format!("`{}` has a read-only root file system and its log shows no refused write", def.name)),
            }
            continue;
        };
        let message = line.message.trim();
        let dir = unwritable_dir(message);
        let mount = dir.as_deref().and_then(|d| mount_for(def, d));
        if let Some(m) = mount.filter(|m| !m.read_only) {
            passes.push(format!(
                "`{}` could not write, but {} is on volume `{}`, mounted writable: not the root file system",
                def.name,
                dir.as_deref().unwrap_or_default(),
                m.source_volume
            ));
            continue;
        }
        let strength = if crate::task::ended_the_task(ev, &def.name) { Strength::Direct } else { Strength::Corroborating };
        let title = match &dir {
            Some(d) => format!("Container `{}` has a read-only root file system and could not write in {d}", def.name),
            None => format!("Container `{}` has a read-only root file system and could not write to it", def.name),
        };
        let mut f = Finding::new(Cause::ReadOnlyFilesystem, strength, title)
            .evidence(format!("log line: \"{message}\""))
            .evidence(format!(
                "task definition, container `{}`: readonlyRootFilesystem = true; mountPoints: {}",
                def.name,
                if def.mount_points.is_empty() {
                    "none".to_string()
                } else {
                    def.mount_points
                        .iter()
                        .map(|m| format!("{} → {}{}", m.source_volume, m.container_path, if m.read_only { " (read-only)" } else { "" }))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ));
        if let Some(c) = ev.task.containers.iter().find(|c| c.name == def.name) {
            if let Some(code) = c.exit_code {
                f = f.evidence(format!("container `{}` exitCode = {code}", def.name));
            }
        }
        f = match (&dir, mount) {
            (Some(d), Some(m)) => f.fix(format!(
                "{d} is on volume `{}`, mounted read-only: set `readOnly` to false in container `{}`'s mountPoints entry for {}, register the revision and deploy it.",
                m.source_volume, def.name, m.container_path
            )),
            (Some(d), None) => {
                let name = volume_name(d);
                f.fix(format!(
                    "Keep the root file system read-only and mount a writable volume at {d}: add `{{\"name\": \"{name}\"}}` to the task definition's `volumes` (no host: an ephemeral bind mount) and `{{\"sourceVolume\": \"{name}\", \"containerPath\": \"{d}\", \"readOnly\": false}}` to container `{}`'s `mountPoints`, then register the revision and deploy it.",
                    def.name
                ))
            }
            (None, _) => f.fix(format!(
                "Find the directory the app writes in (the lines before this one), and mount a writable volume there: a `volumes` entry with no host and a `mountPoints` entry in container `{}` with `readOnly: false`.",
                def.name
            )),
        };
        if line.message.to_ascii_lowercase().contains("temporary directory") {
            f = f.fix("Or point the app's temporary directory at a mounted one: set `TMPDIR` in the container's `environment` to the mounted path.");
        }
        return f.doc(DOC).into_verdict();
    }
    if !unread.is_empty() {
        return Verdict::Inconclusive(format!(
            "a container has a read-only root file system, but its log could not be read, so whether a write was refused is unknown ({})",
            unread.join("; ")
        ));
    }
    Verdict::Pass(passes.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::check_under_test!();
    use crate::evidence::{Fact, MountPoint};
    use crate::testkit::{exited, found, running, EvidenceExt};

    // https://github.com/namespacelabs/foundation/issues/47
    const NGINX: &str = "2022/03/04 17:05:32 [emerg] 1#1: mkdir() \"/var/cache/nginx/client_temp\" failed (30: Read-only file system)";
    // https://github.com/NVIDIA/pix2pixHD/issues/67
    const PYTHON: &str = "FileNotFoundError: [Errno 2] No usable temporary directory found in ['/tmp', '/var/tmp', '/usr/tmp', '/home/zking/pix2pixHD']";

    fn read_only(ev: crate::evidence::Evidence) -> crate::evidence::Evidence {
        ev.def("web", |d| d.readonly_root_filesystem = Some(true))
    }

    #[test]
    fn nginx_refused_its_cache_directory_names_the_mount() {
        let ev = read_only(exited().exit("web", Some(1), None).log("web", &[NGINX]));
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Direct);
        assert_eq!(f.title, "Container `web` has a read-only root file system and could not write in /var/cache/nginx");
        assert!(f.evidence.iter().any(|e| e.contains("readonlyRootFilesystem = true; mountPoints: none")));
        assert!(f.fix[0].contains("{\"name\": \"var-cache-nginx\"}"), "{}", f.fix[0]);
        assert!(f.fix[0].contains("\"containerPath\": \"/var/cache/nginx\", \"readOnly\": false"), "{}", f.fix[0]);
    }

    #[test]
    fn python_without_a_temp_directory_mounts_tmp() {
        let ev = read_only(exited().exit("web", Some(1), None).log("web", &[PYTHON]));
        let f = found(check(&ev));
        assert!(f.title.ends_with("could not write in /tmp"), "{}", f.title);
        assert!(f.fix.iter().any(|x| x.contains("TMPDIR")));
    }

    #[test]
    fn a_read_only_mount_point_is_named_instead() {
        let ev = read_only(exited().exit("web", Some(1), None).log("web", &[NGINX])).def("web", |d| {
            d.mount_points.push(MountPoint { source_volume: "cache".into(), container_path: "/var/cache/nginx".into(), read_only: true })
        });
        let f = found(check(&ev));
        assert!(f.fix[0].contains("set `readOnly` to false"), "{}", f.fix[0]);
        let writable = read_only(exited().exit("web", Some(1), None).log("web", &[NGINX])).def("web", |d| {
            d.mount_points.push(MountPoint { source_volume: "cache".into(), container_path: "/var/cache".into(), read_only: false })
        });
        assert!(matches!(check(&writable), Verdict::Pass(_)), "{:?}", check(&writable));
    }

    #[test]
    fn a_running_task_is_corroborating() {
        let f = found(check(&read_only(running().log("web", &[NGINX]))));
        assert_eq!(f.strength, Strength::Corroborating);
    }

    #[test]
    fn without_the_setting_or_the_line_nothing_is_convicted() {
        // The same line without readonlyRootFilesystem: not this cause.
        let ev = exited().exit("web", Some(1), None).log("web", &[NGINX]);
        assert!(matches!(check(&ev), Verdict::Skipped(_)));
        let quiet = read_only(exited().exit("web", Some(1), None).log("web", &["listening on 0.0.0.0:8080"]));
        assert!(matches!(check(&quiet), Verdict::Pass(_)));
        let mut unread = read_only(exited().exit("web", Some(1), None));
        unread.logs[0].lines = Fact::Denied { action: "logs:GetLogEvents".into(), error: "AccessDeniedException".into() };
        assert!(matches!(check(&unread), Verdict::Inconclusive(d) if d.contains("logs:GetLogEvents")));
    }
}
