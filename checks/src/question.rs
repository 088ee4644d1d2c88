//! The questions ecs-doctor answers, each declared in one place: the checks
//! it runs, the facts it needs collected, and how its report is worded.
//!
//! A question is a variant of [`Question`], and everything about it is one
//! [`Spec`] in this file. [`Question::spec`] is the one `match` over the
//! questions: a new question does not compile until it has its spec, and
//! every collector, check and renderer reads the spec instead of comparing
//! the question with `==`.
//!
//! Adding a question: a variant here, its `Spec` constant, its command in
//! the binary (`src/cli.rs`, `src/app.rs`) and, when it needs a new kind of
//! fact, a field of [`Needs`] that the collector reads.

use crate::codes::{Cause, Family};
use serde::{Deserialize, Serialize};

/// The question a diagnosis answers (`purpose` in the evidence and in the
/// JSON report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Question {
    /// Why did this task stop (or why can it not be reached)?
    #[default]
    Task,
    /// Can ECS Exec reach this running task?
    Exec,
    /// Would a task of this task definition start, before one runs?
    Preflight,
}

/// Everything that differs between questions.
#[derive(Debug)]
pub struct Spec {
    /// Which cause codes' checks run.
    pub checks: Selection,
    /// What the collector gathers beyond the task and its task definition.
    pub needs: Needs,
    /// Whether a task that surely failed, with no finding to explain it,
    /// gets `unknown` as its finding (a task question, not a prediction or
    /// an exec readiness check).
    pub explains_unexplained: bool,
    /// Whether a report with no blocker ends with the command to run next
    /// (`aws ecs execute-command …`).
    pub next_step: bool,
    /// How the report is phrased.
    pub wording: Wording,
}

/// Which checks a question runs.
#[derive(Debug, Clone, Copy)]
pub enum Selection {
    /// Every check of these families.
    Families(&'static [Family]),
    /// Every check except these families and these codes.
    AllBut {
        families: &'static [Family],
        codes: &'static [Cause],
    },
    /// Exactly these codes.
    Codes(&'static [Cause]),
}

impl Selection {
    pub fn contains(&self, code: Cause) -> bool {
        match self {
            Selection::Families(families) => families.contains(&code.family()),
            Selection::AllBut { families, codes } => {
                !families.contains(&code.family()) && !codes.contains(&code)
            }
            Selection::Codes(codes) => codes.contains(&code),
        }
    }
}

/// The facts a question's checks read, beyond the task, its task definition,
/// its service and its network placement (which every question reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// What a task needs to start: its images, the execution role and its
    /// simulated access, secrets, log groups, EFS file systems and the
    /// service's load balancers.
    pub start_up: bool,
    /// The containers' last log lines (a task that ran).
    pub logs: bool,
    /// The task role's policies, whatever the volumes (ECS Exec's agent runs
    /// with them). Without this, they are read only when an EFS volume uses
    /// IAM authorization, or when an app's log line says it was refused an
    /// AWS call as the task role (`task-role-permissions`).
    pub task_role: bool,
    /// The cluster's exec configuration and the caller's identity.
    pub exec: bool,
}

/// How a question's report is phrased.
#[derive(Debug)]
pub struct Wording {
    /// What the report is about.
    pub subject: Subject,
    /// The heading of the candidate list.
    pub heading: &'static str,
    /// Put before each finding's title (a preflight predicts).
    pub finding_prefix: &'static str,
    /// The verdict when every check that matters passed.
    pub clear: &'static str,
    /// The verdict when nothing was found but checks lacked a fact; `{n}`
    /// is the number of such checks and `{s}` the plural ending.
    pub undecided: &'static str,
    /// The verdict when a failure was found: `{code}`, `{title}` (without
    /// the finding prefix) and `{confidence}`.
    pub failing: &'static str,
    /// A few words for a heading (a ticket's title): when every check
    /// passed, …
    pub short_clear: &'static str,
    /// … and when a failure was found (`{code}`).
    pub short_failing: &'static str,
}

/// What a report is about, which its one-line summary names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A task that ran: its ARN, status, stop code, service, cluster.
    Task,
    /// A task definition judged before any task of it runs, with the
    /// service and cluster whose network it was judged on.
    TaskDefinition,
}

impl Subject {
    /// The label before the one-line summary.
    pub fn label(self) -> &'static str {
        match self {
            Subject::Task => "Task",
            Subject::TaskDefinition => "Checked",
        }
    }

    /// Whether the task definition gets a line of its own (a preflight's
    /// summary already names it).
    pub fn shows_task_definition(self) -> bool {
        match self {
            Subject::Task => true,
            Subject::TaskDefinition => false,
        }
    }
}

/// The families the task question leaves to the exec question.
const EXEC_ONLY: &[Family] = &[Family::Exec];

/// What a preflight judges: the causes a task definition and its
/// environment decide before any task runs. The rest need a task that ran
/// (an exit, a log line, a stop text) and are not asked.
pub const PREFLIGHT: &[Cause] = &[
    Cause::TaskDefinitionInvalid,
    Cause::ImageNotFound,
    Cause::ImagePlatformMismatch,
    Cause::ExecutionRoleMissing,
    Cause::ExecutionRoleNotFound,
    Cause::ExecutionRoleUntrusted,
    Cause::ExecutionRolePermissions,
    Cause::SecretNotFound,
    Cause::SecretKeyMissing,
    Cause::LogGroupMissing,
    Cause::LogConfigInvalid,
    Cause::NoPublicIp,
    Cause::NoEgressRoute,
    Cause::VpcEndpointMissing,
    Cause::SecurityGroupEgressBlocked,
    Cause::SecurityGroupIngressClosed,
    Cause::NaclBlocked,
    Cause::VpcDnsDisabled,
    Cause::SubnetIpExhausted,
    Cause::EfsMountFailed,
];

const TASK: Spec = Spec {
    // A registered task definition passed ECS's own validation, and a task
    // that ran shows what it got wrong.
    checks: Selection::AllBut {
        families: EXEC_ONLY,
        codes: &[Cause::TaskDefinitionInvalid],
    },
    needs: Needs {
        start_up: true,
        logs: true,
        task_role: false,
        exec: false,
    },
    explains_unexplained: true,
    next_step: false,
    wording: Wording {
        subject: Subject::Task,
        heading: "Root-cause candidates",
        finding_prefix: "",
        clear: "No failure cause found: every check that matters passed.",
        undecided: "Could not decide: no failure cause found, but {n} check{s} lacked a fact (see the gaps).",
        failing: "Most likely cause: {code} — {title} (confidence {confidence}).",
        short_clear: "no failure found",
        short_failing: "{code}",
    },
};

const EXEC: Spec = Spec {
    checks: Selection::Families(EXEC_ONLY),
    // ECS Exec needs the task's network, its task role, the cluster's exec
    // configuration and the caller; nothing about images or logs.
    needs: Needs {
        start_up: false,
        logs: false,
        task_role: true,
        exec: true,
    },
    explains_unexplained: false,
    next_step: true,
    wording: Wording {
        subject: Subject::Task,
        heading: "Blockers",
        finding_prefix: "",
        clear: "ECS Exec can reach this task: every prerequisite holds.",
        undecided: "Could not decide whether ECS Exec can reach the task: no blocker found, but {n} check{s} lacked a fact (see the gaps).",
        failing: "ECS Exec cannot reach this task: {code} — {title}.",
        short_clear: "ECS Exec ready",
        short_failing: "ECS Exec blocked: {code}",
    },
};

const PREFLIGHT_SPEC: Spec = Spec {
    checks: Selection::Codes(PREFLIGHT),
    // No task has run, so there are no logs to read.
    needs: Needs {
        start_up: true,
        logs: false,
        task_role: false,
        exec: false,
    },
    explains_unexplained: false,
    next_step: false,
    wording: Wording {
        subject: Subject::TaskDefinition,
        heading: "What will fail",
        finding_prefix: "Will fail: ",
        clear: "Preflight passed: every check that can run before a task starts passed.",
        undecided: "Could not decide whether a task would start: nothing will fail as far as seen, but {n} check{s} lacked a fact (see the gaps).",
        failing: "A task would not start: {code} — {title}.",
        short_clear: "preflight passed",
        short_failing: "would not start: {code}",
    },
};

impl Question {
    /// Every question, for tests and listings.
    pub const ALL: &'static [Question] = &[Question::Task, Question::Exec, Question::Preflight];

    /// Everything about this question, in one place.
    pub fn spec(self) -> &'static Spec {
        match self {
            Question::Task => &TASK,
            Question::Exec => &EXEC,
            Question::Preflight => &PREFLIGHT_SPEC,
        }
    }

    /// Does the check of `code` answer this question?
    pub fn runs(self, code: Cause) -> bool {
        self.spec().checks.contains(code)
    }

    /// What the collector gathers for this question.
    pub fn needs(self) -> Needs {
        self.spec().needs
    }

    /// How this question's report is phrased.
    pub fn wording(self) -> &'static Wording {
        &self.spec().wording
    }
}

impl Wording {
    /// A finding's title as this question states it.
    pub fn finding_title(&self, title: &str) -> String {
        format!("{}{title}", self.finding_prefix)
    }

    /// The verdict when nothing was found but `undecided` checks lacked a fact.
    pub fn undecided(&self, undecided: usize) -> String {
        let s = if undecided == 1 { "" } else { "s" };
        self.undecided
            .replace("{n}", &undecided.to_string())
            .replace("{s}", s)
    }

    /// The verdict for a failure: the top candidate's code, title (as
    /// [`Wording::finding_title`] stated it) and confidence.
    pub fn failing(&self, code: &str, title: &str, confidence: f64) -> String {
        let title = title.strip_prefix(self.finding_prefix).unwrap_or(title);
        self.failing
            .replace("{code}", code)
            .replace("{confidence}", &format!("{confidence:.2}"))
            .replace("{title}", title)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::IntoEnumIterator;

    #[test]
    fn every_cause_is_asked_by_some_question() {
        for code in Cause::iter() {
            assert!(
                Question::ALL.iter().any(|q| q.runs(code)),
                "{code} is asked by no question"
            );
        }
    }

    #[test]
    fn each_question_runs_its_own_checks() {
        assert!(Question::Exec.runs(Cause::ExecNotEnabled));
        assert!(!Question::Exec.runs(Cause::ImageNotFound));
        assert!(Question::Task.runs(Cause::ImageNotFound));
        assert!(!Question::Task.runs(Cause::ExecNotEnabled));
        assert!(!Question::Task.runs(Cause::TaskDefinitionInvalid));
        assert!(Question::Preflight.runs(Cause::TaskDefinitionInvalid));
        assert!(!Question::Preflight.runs(Cause::AppExitError));
    }

    #[test]
    fn wording_fills_its_blanks() {
        for q in Question::ALL {
            let w = q.wording();
            let one = w.undecided(1);
            let two = w.undecided(2);
            assert!(
                one.contains("1 check lacked") && two.contains("2 checks lacked"),
                "{one} / {two}"
            );
            let failing = w.failing(
                "image-not-found",
                &w.finding_title("Tag `v2` is gone"),
                0.93,
            );
            assert!(failing.contains("image-not-found") && failing.contains("Tag `v2` is gone"));
            assert!(
                !failing.contains('{') && !failing.contains("Will fail"),
                "{failing}"
            );
        }
        assert_eq!(
            Question::Task.wording().failing("x", "y", 0.934),
            "Most likely cause: x — y (confidence 0.93)."
        );
    }

    #[test]
    fn serialises_as_the_json_contract_names_it() {
        let names: Vec<String> = Question::ALL
            .iter()
            .map(|q| serde_json::to_string(q).unwrap())
            .collect();
        assert_eq!(names, ["\"task\"", "\"exec\"", "\"preflight\""]);
    }
}
