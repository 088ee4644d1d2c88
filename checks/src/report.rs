//! What checks produce and what the renderers print.

use crate::codes::{Cause, Family};
use crate::evidence::Gap;
use serde::{Deserialize, Serialize};

/// How directly a finding is supported (drives the ranking).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strength {
    /// Only circumstance points this way (e.g. a risky configuration, no error text).
    Circumstantial,
    /// AWS state confirms it (route table, policy, registry) but no error text names it.
    Corroborating,
    /// The stop code / reason / exit code names it, and AWS state agrees.
    Direct,
}

/// A candidate root cause reported by one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: Cause,
    pub strength: Strength,
    pub title: String,
    /// Facts that support the finding, quoting the decisive field or line.
    pub evidence: Vec<String>,
    /// Facts that speak against it; each one lowers the confidence.
    pub against: Vec<String>,
    pub fix: Vec<String>,
    pub docs: Vec<String>,
    /// What the finding says about why health checks fail, for the ranking:
    /// a cause that makes them fail forever outranks one that says they
    /// counted too early.
    #[serde(default, skip_serializing_if = "HealthChecks::is_unrelated")]
    pub health_checks: HealthChecks,
}

/// What a finding says about why health checks (the load balancer's, or
/// the container's own) fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HealthChecks {
    /// Nothing.
    #[default]
    Unrelated,
    /// They fail whatever the timing while this stands: the app listens on
    /// another port or on loopback, answers with a wrong code, or the
    /// probes are dropped on the way.
    FailForever,
    /// They counted before the app was ready: a grace or start period
    /// shorter than the start-up. Only matters once nothing fails them forever.
    CountedTooEarly,
}

impl HealthChecks {
    pub fn is_unrelated(&self) -> bool {
        *self == HealthChecks::Unrelated
    }
}

impl Finding {
    pub fn new(code: Cause, strength: Strength, title: impl Into<String>) -> Self {
        Finding {
            code,
            strength,
            title: title.into(),
            evidence: Vec::new(),
            against: Vec::new(),
            fix: Vec::new(),
            docs: Vec::new(),
            health_checks: HealthChecks::Unrelated,
        }
    }
    /// A cause a stop text names while the lookup that would confirm it could
    /// not be made: it ranks on the text, below a confirmed cause, and says
    /// which lookup is missing.
    pub fn stated_not_confirmed(
        code: Cause,
        title: impl Into<String>,
        stop_text: &str,
        gap: &str,
    ) -> Self {
        Finding::new(code, Strength::Corroborating, title)
            .evidence(format!("stop reason: \"{stop_text}\""))
            .evidence(format!("not confirmed: {gap}"))
    }

    pub fn evidence(mut self, line: impl Into<String>) -> Self {
        self.evidence.push(line.into());
        self
    }
    pub fn against(mut self, line: impl Into<String>) -> Self {
        self.against.push(line.into());
        self
    }
    pub fn fix(mut self, line: impl Into<String>) -> Self {
        self.fix.push(line.into());
        self
    }
    pub fn doc(mut self, url: impl Into<String>) -> Self {
        self.docs.push(url.into());
        self
    }
    /// Say what the finding means for the health checks (see [`HealthChecks`]).
    pub fn health_checks(mut self, what: HealthChecks) -> Self {
        self.health_checks = what;
        self
    }
    pub fn into_verdict(self) -> Verdict {
        Verdict::Found(self)
    }
}

/// What a whole report concludes (`verdict` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Conclusion {
    /// At least one failure cause was found (exit code 1).
    Failure,
    /// Every check that matters ran and none found a failure, or a benign
    /// stop explains the task (exit code 0).
    NoFailure,
    /// No failure cause was found, but a check that could have found one
    /// lacked a fact: the gaps say which (exit code 4).
    Inconclusive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Fail,
    Inconclusive,
    Skipped,
}

/// What one check concluded.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The cause is present.
    Found(Finding),
    /// Looked, and the cause is ruled out: the detail says what was seen.
    Pass(String),
    /// Could not decide: the detail names the missing fact.
    Inconclusive(String),
    /// Does not apply to this task.
    Skipped(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRecord {
    pub id: String,
    pub status: CheckStatus,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub code: Cause,
    pub family: Family,
    pub confidence: f64,
    pub benign: bool,
    pub title: String,
    pub evidence: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub against: Vec<String>,
    pub fix: Vec<String>,
    pub docs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TaskSummary {
    pub arn: String,
    pub cluster: String,
    pub region: String,
    pub last_status: String,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub task_definition: Option<String>,
    pub service: Option<String>,
    pub launch_type: Option<String>,
    pub stopped_at: Option<String>,
    /// Where the task's record came from when AWS no longer returns the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One hop of a network path, e.g. `rtb-1: 0.0.0.0/0 → igw-1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hop {
    pub label: String,
    /// `true` passes, `false` blocks, `None` unknown.
    pub ok: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The path to one destination, hop by hop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkPath {
    /// e.g. `egress to ECR API (api.ecr.us-east-1.amazonaws.com)` or `inbound tcp/3000 from 0.0.0.0/0`.
    pub destination: String,
    pub hops: Vec<Hop>,
}

impl NetworkPath {
    /// `ok` when every hop passes, `blocked` when one blocks, else `unknown`.
    pub fn outcome(&self) -> &'static str {
        if self.hops.iter().any(|h| h.ok == Some(false)) {
            "blocked"
        } else if self.hops.iter().all(|h| h.ok == Some(true)) {
            "ok"
        } else {
            "unknown"
        }
    }

    /// `a → b ✗ note` on one line.
    pub fn chain(&self) -> String {
        let mut out = String::new();
        for (i, hop) in self.hops.iter().enumerate() {
            if i > 0 {
                out.push_str(" → ");
            }
            out.push_str(&hop.label);
            match hop.ok {
                Some(true) => {}
                Some(false) => out.push_str(" ✗"),
                None => out.push_str(" ?"),
            }
            if let Some(note) = &hop.note {
                out.push(' ');
                out.push_str(note);
            }
        }
        out
    }
}

/// The whole diagnosis, in the shape of the public JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    /// What the report answers: `task` (why it stopped) or `exec` (can ECS Exec reach it).
    #[serde(default)]
    pub purpose: crate::question::Question,
    /// The same as `purpose`, under the name sweeps use (`kind`: `task`,
    /// `exec` or `preflight`).
    #[serde(default)]
    pub kind: crate::question::Question,
    /// For a task ECS Exec can reach: the command that opens a shell in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
    /// `failure`, `no-failure` or `inconclusive`.
    pub verdict: Conclusion,
    pub ecs_doctor_version: String,
    pub task: TaskSummary,
    /// Best first.
    pub candidates: Vec<Candidate>,
    pub checks: Vec<CheckRecord>,
    pub gaps: Vec<Gap>,
    #[serde(default)]
    pub network_paths: Vec<NetworkPath>,
    /// Each container's last log lines, with the lines that matter highlighted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<crate::logs::excerpt::LogExcerpt>,
}

impl Report {
    /// True when at least one candidate is a failure (not a benign stop).
    pub fn has_failure(&self) -> bool {
        self.candidates.iter().any(|c| !c.benign)
    }

    /// The conclusion of these candidates and checks: a failure when one
    /// was found; else no failure when a benign stop explains the task or
    /// every check decided; else inconclusive.
    pub fn conclude(candidates: &[Candidate], checks: &[CheckRecord]) -> Conclusion {
        if candidates.iter().any(|c| !c.benign) {
            Conclusion::Failure
        } else if !candidates.is_empty()
            || checks.iter().all(|c| c.status != CheckStatus::Inconclusive)
        {
            Conclusion::NoFailure
        } else {
            Conclusion::Inconclusive
        }
    }
}
