//! No storm: one message per scope and cause within a window, the rest
//! counted, with the state in a DynamoDB table.
//!
//! ## The item
//!
//! One item per scope and cause:
//!
//! | attribute | type | what |
//! |---|---|---|
//! | `scope` | S, partition key | the cluster ARN and the service or task group: `arn:aws:ecs:us-east-1:123456789012:cluster/prod service:web` |
//! | `cause` | S, sort key | the cause code (`app-exit-error`), or `inconclusive` |
//! | `notified_at` | N | epoch seconds of the last message sent; `0` when none went out |
//! | `counted_since` | N | since when `suppressed` counts |
//! | `suppressed` | N | tasks of this cause not sent on their own since then |
//! | `revision` | N | counts up with every message (and every undone one) |
//! | `last_reference` | S | the task (or deployment) counted last |
//! | `expires_at` | N | the table's TTL attribute: a day after the window of the last write |
//!
//! ## The writes
//!
//! [`decide`] is the whole policy, a pure function of the item and the clock:
//! no item, a message never sent, or a window that has passed: send (telling
//! how many were counted since); else count. Each write is conditional on
//! what was read, so two invocations that read the same item cannot both
//! send:
//!
//! - **send**: `PutItem` of the new item (`notified_at` now, `suppressed` 0,
//!   `revision` + 1) if `attribute_not_exists(scope)`, or if `revision` and
//!   `suppressed` are still what was read. Only the writer that wins
//!   publishes; the others read again and count.
//! - **count**: `UpdateItem` `suppressed + 1` if `revision` is still what was
//!   read (the same message's window); counts add atomically and never
//!   conflict with each other.
//! - **undo**: when the publish fails after a won write, `UpdateItem` puts
//!   back the previous `notified_at` and `counted_since` and adds the
//!   previous count plus this task to `suppressed`, if `revision` is still
//!   the won one. The next task of that cause then sends, with the count.
//!
//! A write whose condition failed is read and decided again, a few times.

use super::Failure;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;

/// What the table holds for one scope and cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The last message sent (epoch seconds), 0 when none went out.
    pub notified_at: i64,
    pub counted_since: i64,
    pub suppressed: u64,
    pub revision: u64,
    /// What was sent or counted last: the same thing again (a deployment's
    /// second event) is not counted twice.
    pub last_reference: Option<String>,
}

/// The tasks counted, not sent, since `since`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Earlier {
    pub count: u64,
    pub since: i64,
}

/// What to do with one more task of a cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send a message; `earlier` counts the tasks since the last one.
    Send { earlier: Option<Earlier> },
    /// Count it: a message for this cause went out less than a window ago.
    Count,
    /// Leave it: it is what was sent or counted last (a deployment's second
    /// event), already told.
    Repeat,
}

/// The policy: send when nothing was sent for this scope and cause within
/// `window` seconds before `now`, else count.
pub fn decide(seen: Option<&Seen>, reference: &str, now: i64, window: i64) -> Decision {
    match seen {
        None => Decision::Send { earlier: None },
        Some(s)
            if s.notified_at > 0
                && now < s.notified_at.saturating_add(window)
                && s.last_reference.as_deref() == Some(reference) =>
        {
            Decision::Repeat
        }
        Some(s) if s.notified_at > 0 && now < s.notified_at.saturating_add(window) => {
            Decision::Count
        }
        Some(s) => Decision::Send {
            earlier: (s.suppressed > 0).then_some(Earlier {
                count: s.suppressed,
                since: s.counted_since,
            }),
        },
    }
}

/// What the table did for one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This invocation won the write: it sends.
    Send {
        earlier: Option<Earlier>,
        /// The item as it was before, to undo the claim if the publish fails.
        before: Option<Seen>,
        revision: u64,
    },
    /// Counted: the count since the last message, this task included.
    Counted { count: u64 },
}

/// How many times a write whose condition failed is decided again.
const ATTEMPTS: usize = 8;
/// How long an item outlives its window.
const KEEP: i64 = 86_400;

pub struct Table {
    pub client: Client,
    pub name: String,
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn number(item: &HashMap<String, AttributeValue>, key: &str) -> Option<i64> {
    item.get(key)?.as_n().ok()?.parse().ok()
}

fn seen_of(item: &HashMap<String, AttributeValue>) -> Seen {
    Seen {
        notified_at: number(item, "notified_at").unwrap_or(0),
        counted_since: number(item, "counted_since").unwrap_or(0),
        suppressed: number(item, "suppressed").unwrap_or(0).max(0) as u64,
        revision: number(item, "revision").unwrap_or(0).max(0) as u64,
        last_reference: item
            .get("last_reference")
            .and_then(|v| v.as_s().ok())
            .cloned(),
    }
}

/// Did a conditional write lose (another writer changed the item first)?
fn lost<E, R>(err: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

impl Table {
    fn key(&self, scope: &str, cause: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("scope".to_string(), s(scope)),
            ("cause".to_string(), s(cause)),
        ])
    }

    async fn read(&self, scope: &str, cause: &str) -> Result<Option<Seen>, Failure> {
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(self.key(scope, cause)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| Failure::of("dynamodb:GetItem", &e))?;
        Ok(out.item.as_ref().map(seen_of))
    }

    /// Decide for one more task of `cause` in `scope`, and make it so.
    pub async fn claim(
        &self,
        scope: &str,
        cause: &str,
        reference: &str,
        now: i64,
        window: i64,
    ) -> Result<Claim, Failure> {
        let expires = now + window + KEEP;
        for _ in 0..ATTEMPTS {
            let seen = self.read(scope, cause).await?;
            match decide(seen.as_ref(), reference, now, window) {
                Decision::Send { earlier } => {
                    let revision = seen.as_ref().map_or(0, |s| s.revision) + 1;
                    let mut item = self.key(scope, cause);
                    item.extend([
                        ("notified_at".to_string(), n(now)),
                        ("counted_since".to_string(), n(now)),
                        ("suppressed".to_string(), n(0)),
                        ("revision".to_string(), n(revision)),
                        ("last_reference".to_string(), s(reference)),
                        ("expires_at".to_string(), n(expires)),
                    ]);
                    let put = self
                        .client
                        .put_item()
                        .table_name(&self.name)
                        .set_item(Some(item))
                        .expression_attribute_names("#scope", "scope");
                    let put = match &seen {
                        None => put.condition_expression("attribute_not_exists(#scope)"),
                        Some(old) => put
                            .condition_expression(
                                "attribute_exists(#scope) AND #revision = :revision AND #suppressed = :suppressed",
                            )
                            .expression_attribute_names("#revision", "revision")
                            .expression_attribute_names("#suppressed", "suppressed")
                            .expression_attribute_values(":revision", n(old.revision))
                            .expression_attribute_values(":suppressed", n(old.suppressed)),
                    };
                    match put.send().await {
                        Ok(_) => {
                            return Ok(Claim::Send {
                                earlier,
                                before: seen,
                                revision,
                            })
                        }
                        Err(e) if lost(&e) => continue,
                        Err(e) => return Err(Failure::of("dynamodb:PutItem", &e)),
                    }
                }
                Decision::Repeat => {
                    let count = seen.map_or(0, |s| s.suppressed);
                    return Ok(Claim::Counted { count });
                }
                Decision::Count => {
                    let old = seen.expect("a count has an item");
                    let update = self
                        .client
                        .update_item()
                        .table_name(&self.name)
                        .set_key(Some(self.key(scope, cause)))
                        .update_expression(
                            "SET #suppressed = #suppressed + :one, #last = :reference, #expires = :expires",
                        )
                        .condition_expression("#revision = :revision")
                        .expression_attribute_names("#suppressed", "suppressed")
                        .expression_attribute_names("#last", "last_reference")
                        .expression_attribute_names("#expires", "expires_at")
                        .expression_attribute_names("#revision", "revision")
                        .expression_attribute_values(":one", n(1))
                        .expression_attribute_values(":reference", s(reference))
                        .expression_attribute_values(":expires", n(expires))
                        .expression_attribute_values(":revision", n(old.revision))
                        .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew);
                    match update.send().await {
                        Ok(out) => {
                            let count = out
                                .attributes
                                .as_ref()
                                .and_then(|a| number(a, "suppressed"))
                                .map_or(old.suppressed + 1, |c| c.max(0) as u64);
                            return Ok(Claim::Counted { count });
                        }
                        Err(e) if lost(&e) => continue,
                        Err(e) => return Err(Failure::of("dynamodb:UpdateItem", &e)),
                    }
                }
            }
        }
        Err(Failure {
            action: "dynamodb:PutItem",
            code: "ConditionalCheckFailedException".into(),
            message: format!(
                "the item changed under each of {ATTEMPTS} attempts: too many concurrent writers"
            ),
        })
    }

    /// The publish failed after a won claim: put back what was there, and
    /// count this task, so that the next task of the cause sends.
    pub async fn undo(
        &self,
        scope: &str,
        cause: &str,
        before: Option<Seen>,
        revision: u64,
        now: i64,
    ) -> Result<(), Failure> {
        let (notified, since, count) = match before {
            Some(b) => (b.notified_at, b.counted_since, b.suppressed + 1),
            None => (0, now, 1),
        };
        self.client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(self.key(scope, cause)))
            .update_expression(
                "SET #notified = :notified, #since = :since, #revision = :next ADD #suppressed :count",
            )
            .condition_expression("#revision = :revision")
            .expression_attribute_names("#notified", "notified_at")
            .expression_attribute_names("#since", "counted_since")
            .expression_attribute_names("#revision", "revision")
            .expression_attribute_names("#suppressed", "suppressed")
            .expression_attribute_values(":notified", n(notified))
            .expression_attribute_values(":since", n(since))
            .expression_attribute_values(":next", n(revision + 1))
            .expression_attribute_values(":count", n(count))
            .expression_attribute_values(":revision", n(revision))
            .send()
            .await
            .map_err(|e| Failure::of("dynamodb:UpdateItem", &e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3600;
    const T: i64 = 1_767_268_800;

    fn seen(notified_at: i64, suppressed: u64) -> Seen {
        Seen {
            notified_at,
            counted_since: notified_at,
            suppressed,
            revision: 3,
            last_reference: Some("arn:aws:ecs:us-east-1:123456789012:task/prod/a".into()),
        }
    }

    #[test]
    fn the_first_task_of_a_cause_is_sent() {
        assert_eq!(
            decide(None, "task-b", T, HOUR),
            Decision::Send { earlier: None }
        );
    }

    #[test]
    fn within_the_window_a_task_is_counted() {
        assert_eq!(
            decide(Some(&seen(T, 0)), "task-b", T, HOUR),
            Decision::Count
        );
        assert_eq!(
            decide(Some(&seen(T, 48)), "task-b", T + HOUR - 1, HOUR),
            Decision::Count
        );
    }

    #[test]
    fn once_the_window_has_passed_the_next_is_sent_with_the_count() {
        assert_eq!(
            decide(Some(&seen(T, 49)), "task-b", T + HOUR, HOUR),
            Decision::Send {
                earlier: Some(Earlier {
                    count: 49,
                    since: T
                })
            }
        );
        // Nothing counted in between: nothing to tell.
        assert_eq!(
            decide(Some(&seen(T, 0)), "task-b", T + 2 * HOUR, HOUR),
            Decision::Send { earlier: None }
        );
    }

    #[test]
    fn a_message_that_never_went_out_does_not_hold_the_next_one_back() {
        // An undone claim: no message sent, two tasks counted since T.
        let undone = Seen {
            notified_at: 0,
            counted_since: T,
            suppressed: 2,
            revision: 2,
            last_reference: None,
        };
        assert_eq!(
            decide(Some(&undone), "task-b", T + 5, HOUR),
            Decision::Send {
                earlier: Some(Earlier { count: 2, since: T })
            }
        );
    }

    #[test]
    fn the_window_is_the_configured_one() {
        assert_eq!(
            decide(Some(&seen(T, 5)), "task-b", T + 10, 60),
            Decision::Count
        );
        assert!(matches!(
            decide(Some(&seen(T, 5)), "task-b", T + 60, 60),
            Decision::Send { .. }
        ));
    }

    #[test]
    fn the_same_thing_again_within_the_window_is_neither_sent_nor_counted() {
        let sent = Seen {
            notified_at: 100,
            counted_since: 100,
            suppressed: 0,
            revision: 1,
            last_reference: Some(
                "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/x".into(),
            ),
        };
        let same = "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/x";
        assert_eq!(decide(Some(&sent), same, 160, 3600), Decision::Repeat);
        assert_eq!(decide(Some(&sent), "another", 160, 3600), Decision::Count);
        // After the window, it is news again.
        assert!(matches!(
            decide(Some(&sent), same, 3700, 3600),
            Decision::Send { .. }
        ));
    }
}
