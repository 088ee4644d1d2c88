//! The message a notice becomes: an AWS Chatbot (now Amazon Q Developer in
//! chat applications) custom notification, as documented in
//! <https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html>:
//!
//! ```json
//! {"version": "1.0", "source": "custom", "id": "…",
//!  "content": {"textType": "client-markdown", "title": "…", "description": "…",
//!              "nextSteps": ["…"], "keywords": ["…"]},
//!  "metadata": {"threadId": "…", "summary": "…", "eventType": "…",
//!               "relatedResources": ["…"], "additionalContext": {"…": "…"}}}
//! ```
//!
//! `version` must be `1.0` and `source` must be `custom`; `client-markdown`
//! is the only `textType`. The same JSON is the SNS message body for every
//! subscriber, so e-mail and SQS subscribers read the same text; the SNS
//! `Subject` (UTF-8, no line breaks or control characters, under 100
//! characters) is the title. The lengths below are ecs-doctor's own: a
//! chat message stays short, and the full report is one command away.
//!
//! Every text goes through [`redact`] before it leaves, and a notice never
//! carries an environment variable's value.

use super::dedup::Earlier;
use super::Notice;
use ecs_doctor_checks::redact;
use serde_json::{json, Value};

/// The longest `title` sent.
pub const TITLE_CHARS: usize = 200;
/// The longest `description` sent.
pub const DESCRIPTION_CHARS: usize = 1500;
/// The most `nextSteps`, and the longest of each.
pub const NEXT_STEPS: usize = 5;
pub const NEXT_STEP_CHARS: usize = 400;
/// SNS refuses a `Subject` of 100 characters or more.
pub const SUBJECT_CHARS: usize = 99;

/// What SNS publishes: the subject and the Chatbot custom notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub subject: String,
    pub body: Value,
}

/// Cut `text` to at most `max` characters, ending in `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The SNS subject: one line of printable text, under 100 characters.
fn subject(title: &str) -> String {
    let line: String = title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.trim();
    if line.chars().count() <= SUBJECT_CHARS {
        return line.to_string();
    }
    let mut out: String = line.chars().take(SUBJECT_CHARS - 3).collect();
    out.push_str("...");
    out
}

/// `21:04 UTC` on the day of `now`, else `2026-01-01 21:04 UTC`.
pub fn clock(at: i64, now: i64) -> String {
    let stamp = |t: i64| {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.max(0) as u64);
        humantime::format_rfc3339_seconds(t).to_string()
    };
    let (then, today) = (stamp(at), stamp(now));
    if then[..10] == today[..10] {
        format!("{} UTC", &then[11..16])
    } else {
        format!("{} {} UTC", &then[..10], &then[11..16])
    }
}

/// The message for `notice`; `earlier` counts the tasks of the same cause
/// that stopped since the last message and were not sent on their own.
pub fn render(notice: &Notice, earlier: Option<&Earlier>, now: i64) -> Message {
    let title = cut(
        &redact::redact(&format!(
            "ecs-doctor: {} in {}/{}",
            notice.cause,
            notice.cluster_name(),
            notice.group_label()
        )),
        TITLE_CHARS,
    );
    let mut description = format!("*{}*", notice.title.trim());
    for line in &notice.description {
        description.push_str("\n• ");
        // Redacted before it is cut: a secret cut in two no longer looks like one.
        description.push_str(&cut(&redact::redact(line.trim()), 300));
    }
    description.push_str(&format!("\n{}", notice.reference.sentence()));
    if let Some(e) = earlier.filter(|e| e.count > 0) {
        description.push_str(&format!(
            "\n…and {} since {}, with this cause (not sent one by one).",
            notice.reference.counted(e.count),
            clock(e.since, now)
        ));
    }
    let description = cut(&redact::redact(&description), DESCRIPTION_CHARS);
    let next_steps: Vec<String> = notice
        .next_steps
        .iter()
        .take(NEXT_STEPS)
        .map(|s| cut(&redact::redact(s.trim()), NEXT_STEP_CHARS))
        .collect();
    let mut context = json!({
        "cause": notice.cause,
        "cluster": notice.cluster,
        "group": notice.group,
        "reference": notice.reference.id(),
    });
    if let Some(e) = earlier {
        context["more_since_last"] = json!(e.count.to_string());
    }
    let mut body = json!({
        "version": "1.0",
        "source": "custom",
        "id": format!("{}/{}", notice.reference.id(), now),
        "content": {
            "textType": "client-markdown",
            "title": title,
            "description": description,
            "nextSteps": next_steps,
            "keywords": ["ecs-doctor", notice.cause, notice.cluster_name()],
        },
        "metadata": {
            "threadId": cut(&format!("ecs-doctor/{}/{}/{}", notice.cluster_name(), notice.group, notice.cause), 200),
            "summary": title,
            "eventType": notice.reference.event_type(),
            "relatedResources": [notice.reference.id()],
            "additionalContext": context,
        },
    });
    redact::redact_json(&mut body);
    Message {
        subject: subject(&title),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{Notice, Reference};

    fn notice() -> Notice {
        Notice {
            cluster: "arn:aws:ecs:us-east-1:123456789012:cluster/prod".into(),
            group: "service:web".into(),
            cause: "app-exit-error".into(),
            title: "Container `web` exited with code 1".into(),
            description: vec![
                "Error: connect ECONNREFUSED 10.0.12.45:5432".into(),
                "PGPASSWORD=lab-only-not-a-secret-5f2c".into(),
            ],
            next_steps: vec!["Fix the database address.".into()],
            reference: Reference::Task {
                arn: "arn:aws:ecs:us-east-1:123456789012:task/prod/0123".into(),
                region: "us-east-1".into(),
            },
        }
    }

    #[test]
    fn a_notice_becomes_a_chatbot_custom_notification() {
        let m = render(&notice(), None, 1_767_268_800);
        assert_eq!(m.body["version"], "1.0");
        assert_eq!(m.body["source"], "custom");
        assert_eq!(m.body["content"]["textType"], "client-markdown");
        assert_eq!(
            m.body["content"]["title"],
            "ecs-doctor: app-exit-error in prod/web"
        );
        assert_eq!(m.subject, "ecs-doctor: app-exit-error in prod/web");
        let text = m.body.to_string();
        assert!(!text.contains("lab-only-not-a-secret-5f2c"), "{text}");
        assert!(!text.contains("more since"), "{text}");
    }

    #[test]
    fn the_count_since_the_last_message_is_told() {
        let earlier = Earlier {
            count: 49,
            since: 1_767_268_800 - 3700,
        };
        let m = render(&notice(), Some(&earlier), 1_767_268_800);
        let description = m.body["content"]["description"].as_str().unwrap();
        assert!(
            description.contains("…and 49 more tasks since 10:58 UTC"),
            "{description}"
        );
        assert_eq!(
            m.body["metadata"]["additionalContext"]["more_since_last"],
            "49"
        );
    }

    #[test]
    fn the_subject_stays_under_a_hundred_characters_on_one_line() {
        let mut n = notice();
        n.group = format!("service:{}", "w".repeat(150));
        let m = render(&n, None, 0);
        assert!(m.subject.chars().count() < 100, "{}", m.subject);
        assert!(m.subject.ends_with("..."));
        assert!(!m.subject.contains('\n'));
    }

    #[test]
    fn clock_reads_the_time_of_day_or_the_date_too() {
        assert_eq!(clock(1_767_268_800, 1_767_268_800 + 60), "12:00 UTC");
        assert_eq!(
            clock(1_767_268_800 - 86_400, 1_767_268_800),
            "2025-12-31 12:00 UTC"
        );
    }
}
