//! The paths an ECS Exec session needs from a running task: the agent in
//! the container dials `ssmmessages` (always), KMS (when the cluster
//! encrypts sessions with its own key) and where the cluster's `OVERRIDE`
//! logging sends the session.
//! Each is followed like a start-up path (routes, NAT, internet gateway and
//! public IP, interface endpoints, security groups, network ACLs); the
//! paths decide `exec-no-ssm-path` only, so the generic network checks stay
//! about start-up.

use super::*;
use crate::iam::permissions::exec_session_logs;

/// The destinations of an ECS Exec session, or why they are unknown.
pub fn exec_destinations(ev: &Evidence) -> Result<Vec<Destination>, String> {
    let region = ev.region.as_str();
    let dom = dest::domain(region);
    let mut out = vec![Destination::aws(
        AwsService::SsmMessages,
        region,
        format!("ssmmessages.{region}.{dom}"),
        "the ECS Exec agent's session channels".into(),
    )];
    let config = crate::exec::cluster_config(ev)?;
    if let Some(key) = &config.kms_key_id {
        let r = crate::iam::access::arn_region(key)
            .unwrap_or(region)
            .to_string();
        out.push(Destination::aws(
            AwsService::Kms,
            &r,
            format!("kms.{r}.{}", dest::domain(&r)),
            "the cluster's exec kmsKeyId".into(),
        ));
    }
    let logs = exec_session_logs(config);
    if let Some(group) = logs.log_group {
        out.push(Destination::aws(
            AwsService::Logs,
            region,
            format!("logs.{region}.{dom}"),
            format!("ECS Exec session logs (log group {group})"),
        ));
    }
    if let Some((bucket, _)) = logs.bucket {
        out.push(Destination::aws(
            AwsService::S3,
            region,
            format!("s3.{region}.{dom}"),
            format!("ECS Exec session logs (bucket {bucket})"),
        ));
    }
    Ok(out)
}

/// The same hop, deciding ECS Exec's path instead of a start-up cause.
fn for_exec(mut step: Step) -> Step {
    step.causes = vec![Cause::ExecNoSsmPath];
    step
}

pub(super) fn exec_scope(ev: &Evidence) -> Scope {
    if !ev.purpose.needs().exec {
        return Scope::Skipped("not an ECS Exec diagnosis".into());
    }
    let net = match fargate_net(
        ev,
        "not a Fargate task: the agent's traffic leaves through the container instance, whose routes ecs-doctor does not read",
    ) {
        Ok(n) => n,
        Err(scope) => return scope,
    };
    let dests = match exec_destinations(ev) {
        Ok(d) => d,
        Err(why) => return Scope::Unknown(why),
    };
    let reliant = relies_on_endpoints(&net, &dests);
    let mut paths = Vec::new();
    for subnet_id in &net.placement.subnet_ids {
        for d in &dests {
            let mut path = PathBuilder {
                net: &net,
                subnet_id: subnet_id.clone(),
                dest: d.clone(),
                observed: None,
                reliant,
            }
            .egress();
            path.steps = path.steps.into_iter().map(for_exec).collect();
            paths.push(path);
        }
    }
    Scope::Paths(paths)
}
