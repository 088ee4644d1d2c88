//! ## What it detects
//! A container uses the `awslogs` driver with an `awslogs-group` that does
//! not exist in its `awslogs-region` (checked with
//! `logs:DescribeLogGroups`), and `awslogs-create-group` is not `true`, so
//! nothing will create it.
//!
//! ## Why it matters
//! The log driver is set up before the container starts. When the group is
//! missing the agent cannot create the log stream, and the task stops with
//! `ResourceInitializationError: failed to validate logger args: … The
//! specified log group does not exist`. It often follows a log group deleted
//! by a stack teardown or retention clean-up, a typo, or a group created in
//! another Region than `awslogs-region`.
//!
//! ## Example
//! ```text
//! stopCode      = TaskFailedToStart
//! stoppedReason = ResourceInitializationError: failed to validate logger args: create stream has
//!                 been retried 1 times: failed to create Cloudwatch log stream:
//!                 ResourceNotFoundException: The specified log group does not exist.
//! container web: awslogs-group /ecs/web in us-east-1 → does not exist; awslogs-create-group unset
//! ```
//!
//! ## How to fix
//! Create the group (`aws logs create-log-group --log-group-name /ecs/web
//! --region us-east-1`), or set `"awslogs-create-group": "true"` and allow
//! `logs:CreateLogGroup` on the execution role, then redeploy.
//!
//! ## References
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
//! - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resource-initialization-error.html

use crate::context::Ctx;
use crate::task::unknown_task_definition;
use crate::stops::Detail;

use crate::codes::Cause;
use crate::evidence::Fact;
use crate::report::{Finding, Strength, Verdict};

/// The logging driver failed because a log group that could not be looked
/// up does not exist, says the stop text: the text is the evidence.
fn stated_missing(ctx: &Ctx, unread: &[(String, String, String)]) -> Option<Finding> {
    let text = ctx.stops.stating(Detail::LogGroupMissing)?;
    let (container, group, gap) = unread
        .iter()
        .find(|(_, group, _)| text.names(group))
        .or_else(|| unread.first())?;
    Some(
        Finding::stated_not_confirmed(
            Cause::LogGroupMissing,
            format!(
                "The logging driver says log group `{group}` (container `{container}`) does not exist; it could not be looked up to confirm"
            ),
            &text.text,
            gap,
        )
        .fix(format!("Create it: aws logs create-log-group --log-group-name {group}"))
        .fix("Or set awslogs-create-group to true and allow logs:CreateLogGroup for the execution role.")
        .fix("Allow logs:DescribeLogGroups (docs/iam-policy.json) so ecs-doctor can confirm it.")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html"),
    )
}

pub(crate) fn check(ctx: &Ctx) -> Verdict {
    let ev = ctx.ev;
    let Some(td) = ev.task_def() else {
        return unknown_task_definition(ev);
    };
    let mut missing = Vec::new();
    let mut created = Vec::new();
    let mut unknown = Vec::new();
    // (container, group, why it could not be looked up)
    let mut unread_groups: Vec<(String, String, String)> = Vec::new();
    let mut seen = 0;
    for c in &td.containers {
        let Some(log) = c.log_configuration.as_ref().filter(|l| l.driver == "awslogs") else {
            continue;
        };
        let Some(group) = log.options.get("awslogs-group") else { continue };
        let region = log
            .options
            .get("awslogs-region")
            .cloned()
            .unwrap_or_else(|| ev.region.clone());
        seen += 1;
        let create = log
            .options
            .get("awslogs-create-group")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let fact = ev
            .log_groups
            .iter()
            .find(|g| &g.name == group && g.region == region)
            .map(|g| &g.group);
        match fact {
            Some(Fact::Gathered { .. }) => {}
            Some(Fact::Absent { detail }) if create => created.push(format!("{group} ({detail}; awslogs-create-group is true)")),
            Some(Fact::Absent { detail }) => missing.push((c.name.clone(), group.clone(), region, detail.clone())),
            Some(other) => {
                let gap = other.gap_reason().unwrap_or_default();
                unknown.push(format!("{group} in {region}: {gap}"));
                unread_groups.push((c.name.clone(), group.clone(), gap));
            }
            None => unknown.push(format!("{group} in {region}: not looked up")),
        }
    }
    if seen == 0 {
        return Verdict::Skipped("no container logs to a named awslogs group".into());
    }
    let Some((container, group, region, _)) = missing.first().cloned() else {
        if let Some(f) = stated_missing(ctx, &unread_groups) {
            return f.into_verdict();
        }
        if !unknown.is_empty() {
            return crate::task::startup_undecided(ev, format!("could not look up log group {}", unknown.join("; ")));
        }
        let mut detail = "every awslogs group exists".to_string();
        if !created.is_empty() {
            detail = format!(
                "every awslogs group exists or is created by ECS at start: {} (creating it needs logs:CreateLogGroup, see execution-role-permissions)",
                created.join(", ")
            );
        }
        return Verdict::Pass(detail);
    };
    // A driver that failed to start is direct evidence once the group is
    // known to be missing, whatever reason the text gives or lacks.
    let text = ctx
        .stops
        .stating_any(&[Detail::LogGroupMissing, Detail::LogDriverFailed])
        .map(|t| t.text.clone());
    let strength = if text.is_some() { Strength::Direct } else { Strength::Corroborating };
    let mut finding = Finding::new(
        Cause::LogGroupMissing,
        strength,
        format!("Log group `{group}` (container `{container}`, {region}) does not exist"),
    );
    if let Some(t) = &text {
        finding = finding.evidence(format!("stop reason: \"{t}\""));
    }
    for (c, g, r, d) in &missing {
        finding = finding.evidence(format!(
            "container {c}: awslogs-group {g} in awslogs-region {r}: logs:DescribeLogGroups says {d}; awslogs-create-group is not true"
        ));
    }
    if region != ev.region {
        finding = finding.evidence(format!(
            "awslogs-region {region} differs from the task's Region {}: the group may exist in the other one",
            ev.region
        ));
    }
    if ev.task.timestamps.started_at.is_some() {
        finding = finding.against("the task's containers started, so the log driver initialised");
    }
    finding
        .fix(format!("aws logs create-log-group --region {region} --log-group-name {group}"))
        .fix("Or set \"awslogs-create-group\": \"true\" in the log configuration and allow logs:CreateLogGroup on the execution role, then register a new revision and redeploy.")
        .doc("https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html")
        .into_verdict()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::evidence::Evidence;
    crate::check_under_test!();
    use crate::testkit::found;
    use crate::testkit::image::*;

    const REASON: &str = "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist. : exit status 1";

    #[test]
    fn a_refused_lookup_still_ranks_the_stop_text_lower_and_names_the_gap() {
        let mut ev = failed_to_start("ResourceInitializationError: failed to initialize logging driver: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.");
        ev.log_groups[0].group = Fact::Denied { action: "logs:DescribeLogGroups".into(), error: "AccessDeniedException".into() };
        let f = found(check(&ev));
        assert_eq!(f.strength, Strength::Corroborating);
        assert!(f.title.contains("/ecs/web"), "{}", f.title);
        assert!(f.evidence.iter().any(|e| e.contains("logs:DescribeLogGroups was denied")), "{:?}", f.evidence);
    }

    fn group_missing(ev: &mut Evidence) {
        ev.log_groups[0].group = Fact::absent("log group /ecs/web does not exist in us-east-1");
    }

    #[test]
    fn healthy_task_passes() {
        assert!(matches!(check(&healthy()), Verdict::Pass(_)));
    }

    #[test]
    fn missing_group_without_create_group() {
        let mut ev = failed_to_start(REASON);
        group_missing(&mut ev);
        match check(&ev) {
            Verdict::Found(f) => {
                assert_eq!(f.strength, Strength::Direct);
                assert!(f.title.contains("/ecs/web"), "{}", f.title);
                assert_eq!(f.fix[0], "aws logs create-log-group --region us-east-1 --log-group-name /ecs/web");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn create_group_true_is_not_missing() {
        let mut ev = healthy();
        group_missing(&mut ev);
        set_log_option(&mut ev, "awslogs-create-group", "true");
        assert!(matches!(check(&ev), Verdict::Pass(d) if d.contains("logs:CreateLogGroup")));
    }

    #[test]
    fn other_drivers_skip_and_denied_lookups_are_inconclusive() {
        let mut ev = healthy();
        td_mut(&mut ev).containers[0].log_configuration.as_mut().unwrap().driver = "awsfirelens".into();
        assert!(matches!(check(&ev), Verdict::Skipped(_)));
        let mut ev = failed_to_start("ResourceInitializationError: failed to initialize logging driver");
        ev.log_groups[0].group = Fact::Denied { action: "logs:DescribeLogGroups".into(), error: "AccessDeniedException".into() };
        assert!(matches!(check(&ev), Verdict::Inconclusive(_)));
        // A task that ran got its log stream: the lookup it lacks no longer matters.
        let mut ev = healthy();
        ev.log_groups[0].group = Fact::Denied { action: "logs:DescribeLogGroups".into(), error: "AccessDeniedException".into() };
        assert!(matches!(check(&ev), Verdict::Pass(d) if d.contains("start-up")));
    }
}
