//! IAM's policy simulator (`iam:SimulatePrincipalPolicy`), asked about
//! exactly what a principal needs, and its outage in a run.

use super::super::error_class::{error_class, ErrorClass};
use ecs_doctor_checks::evidence::*;
use ecs_doctor_checks::iam::permissions;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// The policy simulator's outage in this run, once one is seen. The
/// simulator is optional and asked once per task: after the service itself
/// failed (a server error, throttling, the network), the other tasks of a
/// sweep do not each wait on it again, and evaluate the policies instead.
/// A refusal is not an outage: it may concern one role only, and the run's
/// memo already keeps it.
#[derive(Clone, Debug, Default)]
pub(crate) struct SimulatorOutage(Arc<OnceLock<String>>);

impl SimulatorOutage {
    fn seen(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }

    fn record(&self, error: &str) {
        let _ = self.0.set(error.to_string());
    }
}

/// Ask IAM's policy simulator about exactly what the task needs. Many
/// accounts (and every AWS stand-in) refuse or lack it: then the checks
/// evaluate the policies themselves, and say so.
pub(crate) async fn simulate(
    iam: &aws_sdk_iam::Client,
    outage: &SimulatorOutage,
    role_arn: &str,
    needed: &[permissions::Requirement],
) -> Fact<Vec<SimulationResult>> {
    if needed.is_empty() {
        return Fact::not_applicable("the task needs no execution-role permissions");
    }
    if let Some(error) = outage.seen() {
        return Fact::Failed {
            action: "iam:SimulatePrincipalPolicy".into(),
            error: format!("{error} (earlier in this run, so not asked again)"),
        };
    }
    // One simulation per resource, with every action needed on it.
    let mut by_resource: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in needed {
        let actions = by_resource.entry(r.resource.clone()).or_default();
        if !actions.contains(&r.action) {
            actions.push(r.action.clone());
        }
    }
    let mut results = Vec::new();
    for (resource, actions) in by_resource {
        let out = iam
            .simulate_principal_policy()
            .policy_source_arn(role_arn)
            .set_action_names(Some(actions))
            .resource_arns(&resource)
            .customize()
            // The simulator is optional (policy evaluation is the fallback): one attempt, no retries.
            .config_override(
                aws_sdk_iam::config::Builder::default()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        match out {
            Ok(out) => results.extend(out.evaluation_results().iter().map(|e| {
                SimulationResult {
                    action: e.eval_action_name().to_string(),
                    resource: e.eval_resource_name().unwrap_or(&resource).to_string(),
                    decision: e.eval_decision().as_str().to_string(),
                    missing_context_values: e.missing_context_values().to_vec(),
                    matched_statements: e
                        .matched_statements()
                        .iter()
                        .filter_map(|m| {
                            let id = m.source_policy_id()?;
                            Some(match m.source_policy_type() {
                                Some(t) => format!("{id} ({})", t.as_str()),
                                None => id.to_string(),
                            })
                        })
                        .collect(),
                    allowed_by_organizations: e
                        .organizations_decision_detail()
                        .map(|o| o.allowed_by_organizations()),
                    allowed_by_permissions_boundary: e
                        .permissions_boundary_decision_detail()
                        .map(|p| p.allowed_by_permissions_boundary()),
                }
            })),
            Err(err) => {
                // Not a gap worth alarming about when the policies can be read instead; the
                // permission check says which method decided.
                let (class, mut message) = error_class(&err);
                let status = err.raw_response().map(|r| r.status());
                let server_error = status.is_some_and(|s| s.is_server_error());
                if server_error && message == "Unknown" {
                    // An answer with no error code: say what came back.
                    message = format!(
                        "HTTP {} with no error code",
                        status.map_or(0, |s| s.as_u16())
                    );
                }
                if server_error || matches!(class, ErrorClass::Throttled | ErrorClass::Network) {
                    outage.record(&message);
                }
                let action = "iam:SimulatePrincipalPolicy".to_string();
                return match class {
                    ErrorClass::Denied => Fact::Denied {
                        action,
                        error: message,
                    },
                    _ => Fact::Failed {
                        action,
                        error: message,
                    },
                };
            }
        }
    }
    Fact::gathered(results)
}

#[cfg(test)]
mod tests {
    //! The simulator path, fed with recorded `SimulatePrincipalPolicy`
    //! responses (the XML AWS sends), and the same task judged with and
    //! without them.
    use super::*;
    use aws_sdk_iam::operation::simulate_principal_policy::SimulatePrincipalPolicyInput;
    use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use ecs_doctor_checks::Cause;

    const ROLE: &str = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole";
    const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf";

    /// A rule answering the simulation of one resource with a recorded body.
    fn recorded(resource: &'static str, status: u16, body: &'static str) -> Rule {
        mock!(aws_sdk_iam::Client::simulate_principal_policy)
            .match_requests(move |req: &SimulatePrincipalPolicyInput| {
                req.resource_arns().iter().any(|r| r == resource)
            })
            .then_http_response(move || {
                Response::new(
                    StatusCode::try_from(status).expect("status"),
                    SdkBody::from(body),
                )
            })
    }

    fn recorded_rules() -> Vec<Rule> {
        vec![
            recorded(
                "*",
                200,
                include_str!("../../../tests/fixtures/iam/simulate-auth-token.xml"),
            ),
            recorded(
                "arn:aws:ecr:us-east-1:123456789012:repository/web",
                200,
                include_str!("../../../tests/fixtures/iam/simulate-repository.xml"),
            ),
            recorded(
                "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/web:*",
                200,
                include_str!("../../../tests/fixtures/iam/simulate-log-group.xml"),
            ),
            recorded(
                SECRET,
                200,
                include_str!("../../../tests/fixtures/iam/simulate-secret.xml"),
            ),
        ]
    }

    fn needed() -> Vec<permissions::Requirement> {
        let ev = evidence(Fact::not_applicable("not asked"));
        let td = ev.task_def().expect("the kit's task has a task definition");
        permissions::required(td, "us-east-1", "123456789012")
    }

    #[tokio::test]
    async fn recorded_simulation_is_read_field_by_field() {
        let rules = recorded_rules();
        let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, &rules);
        let results = match simulate(&iam, &SimulatorOutage::default(), ROLE, &needed()).await {
            Fact::Gathered { value } => value,
            other => panic!("{other:?}"),
        };
        assert_eq!(results.len(), 7, "{results:?}");
        let secret = results
            .iter()
            .find(|r| r.action.ends_with(":GetSecretValue"))
            .expect("the secret was simulated");
        assert_eq!(secret.resource, SECRET);
        assert_eq!(secret.decision, "implicitDeny");
        let pull = results
            .iter()
            .find(|r| r.action.ends_with(":BatchGetImage"))
            .expect("the pull was simulated");
        assert_eq!(pull.decision, "allowed");
        assert_eq!(
            pull.matched_statements,
            vec!["AmazonECSTaskExecutionRolePolicy (aws-managed)".to_string()]
        );
        assert_eq!(pull.allowed_by_organizations, Some(true));
        assert!(rules.iter().all(|r| r.num_calls() == 1));
    }

    #[tokio::test]
    async fn refused_simulation_is_a_refused_fact_not_an_abort() {
        let denied =
            mock!(aws_sdk_iam::Client::simulate_principal_policy).then_http_response(|| {
                Response::new(
                    StatusCode::try_from(403).expect("status"),
                    SdkBody::from(include_str!(
                        "../../../tests/fixtures/iam/simulate-access-denied.xml"
                    )),
                )
            });
        let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&denied]);
        let outage = SimulatorOutage::default();
        match simulate(&iam, &outage, ROLE, &needed()).await {
            Fact::Denied { action, error } => {
                assert_eq!(action, "iam:SimulatePrincipalPolicy");
                assert!(error.starts_with("AccessDenied"), "{error}");
            }
            other => panic!("{other:?}"),
        }
        // A refusal may concern this role only: the next task still asks.
        assert_eq!(outage.seen(), None);
        simulate(&iam, &outage, ROLE, &needed()).await;
        assert_eq!(denied.num_calls(), 2);
        // What an AWS stand-in without the API answers: HTTP 500 with an HTML page.
        let unimplemented = mock!(aws_sdk_iam::Client::simulate_principal_policy)
            .then_http_response(|| {
                Response::new(
                    StatusCode::try_from(500).expect("status"),
                    SdkBody::from("<!doctype html><title>500 Internal Server Error</title>"),
                )
            });
        let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&unimplemented]);
        let outage = SimulatorOutage::default();
        match simulate(&iam, &outage, ROLE, &needed()).await {
            Fact::Failed { error, .. } => assert_eq!(error, "HTTP 500 with no error code"),
            other => panic!("{other:?}"),
        }
        assert_eq!(unimplemented.num_calls(), 1);
        // The service failed: the rest of the run does not wait on it again,
        // and still says the simulator was not used, and why.
        match simulate(&iam, &outage, ROLE, &needed()).await {
            Fact::Failed { action, error } => {
                assert_eq!(action, "iam:SimulatePrincipalPolicy");
                assert!(
                    error.ends_with("(earlier in this run, so not asked again)"),
                    "{error}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(unimplemented.num_calls(), 1);
    }

    /// A task whose execution role has only `AmazonECSTaskExecutionRolePolicy`
    /// and whose secret it therefore may not read.
    fn evidence(simulation: Fact<Vec<SimulationResult>>) -> Evidence {
        use ecs_doctor_checks::testkit::image::{add_secret, failed_to_start, secret_metadata};
        let reason = format!(
            "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/ecsTaskExecutionRole/0123456789abcdef0123456789abcdef is not authorized to perform: secretsmanager:GetSecretValue on resource: {SECRET} because no identity-based policy allows the secretsmanager:GetSecretValue action"
        );
        let mut ev = failed_to_start(&reason);
        add_secret(
            &mut ev,
            "DB_PASSWORD",
            &format!("{SECRET}:password::"),
            secret_metadata(SECRET, None),
        );
        ev.simulation = simulation;
        ev
    }

    #[tokio::test]
    async fn same_verdict_with_and_without_the_simulator() {
        let rules = recorded_rules();
        let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, &rules);
        let with = evidence(simulate(&iam, &SimulatorOutage::default(), ROLE, &needed()).await);
        assert!(matches!(with.simulation, Fact::Gathered { .. }));
        let without = evidence(Fact::Failed {
            action: "iam:SimulatePrincipalPolicy".into(),
            error: "the response could not be parsed".into(),
        });
        let a = ecs_doctor_checks::diagnose(&with, "test");
        let b = ecs_doctor_checks::diagnose(&without, "test");
        let (top_a, top_b) = (&a.candidates[0], &b.candidates[0]);
        assert_eq!(top_a.code, Cause::ExecutionRolePermissions);
        assert_eq!(top_b.code, Cause::ExecutionRolePermissions);
        assert_eq!(top_a.title, top_b.title);
        let missing = format!(
            "{}:GetSecretValue on {SECRET}: not allowed",
            "secretsmanager"
        );
        assert!(
            top_a.evidence.iter().any(|e| e.starts_with(&missing)),
            "{:?}",
            top_a.evidence
        );
        assert!(
            top_b.evidence.iter().any(|e| e.starts_with(&missing)),
            "{:?}",
            top_b.evidence
        );
        assert!(top_a
            .evidence
            .iter()
            .any(|e| e.contains("decided by iam:SimulatePrincipalPolicy")));
        assert!(top_b
            .evidence
            .iter()
            .any(|e| e.contains("ecs-doctor's own evaluation")));
    }
}
