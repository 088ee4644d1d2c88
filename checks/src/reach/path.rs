//! A network path as evaluated: its hops (each with the causes it decides,
//! the facts and fixes for a finding), where traffic leaves the subnet, and
//! which way it goes.

use super::*;

/// One hop of a path and the cause codes it decides.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub hop: Hop,
    /// For a blocking hop: the cause that blocks. For a passing or unknown
    /// hop: the causes it rules out or leaves open.
    pub causes: Vec<Cause>,
    /// Evidence lines for a finding.
    pub facts: Vec<String>,
    /// Concrete fixes for a finding.
    pub fixes: Vec<String>,
    /// A short phrase for a finding's title, when the label is not enough.
    pub hint: Option<String>,
}

impl Step {
    pub(super) fn new(label: impl Into<String>, ok: Option<bool>, causes: &[Cause]) -> Step {
        Step {
            hop: Hop {
                label: label.into(),
                ok,
                note: None,
            },
            causes: causes.to_vec(),
            facts: Vec::new(),
            fixes: Vec::new(),
            hint: None,
        }
    }
    pub(super) fn ok(label: impl Into<String>, causes: &[Cause]) -> Step {
        Step::new(label, Some(true), causes)
    }
    pub(super) fn blocked(label: impl Into<String>, cause: Cause, note: impl Into<String>) -> Step {
        Step::new(label, Some(false), &[cause]).note(note)
    }
    pub(super) fn unknown(
        label: impl Into<String>,
        causes: &[Cause],
        note: impl Into<String>,
    ) -> Step {
        Step::new(label, None, causes).note(note)
    }
    pub(super) fn note(mut self, note: impl Into<String>) -> Step {
        let note = note.into();
        if !note.is_empty() {
            self.hop.note = Some(note);
        }
        self
    }
    pub(super) fn fact(mut self, fact: impl Into<String>) -> Step {
        self.facts.push(fact.into());
        self
    }
    pub(super) fn fix(mut self, fix: impl Into<String>) -> Step {
        self.fixes.push(fix.into());
        self
    }
    pub(super) fn hint(mut self, hint: impl Into<String>) -> Step {
        self.hint = Some(hint.into());
        self
    }
    /// A blocking hop that a missing fact could open or rename: unknown,
    /// saying what is missing.
    pub(super) fn undecided_unless(mut self, unless: &str) -> Step {
        if self.is_blocked() {
            self.hop.ok = None;
            let note = self.hop.note.take().unwrap_or_default();
            self.hop.note = Some(format!("{note} — {unless}"));
        }
        self
    }

    pub fn is_blocked(&self) -> bool {
        self.hop.ok == Some(false)
    }
    pub fn is_unknown(&self) -> bool {
        self.hop.ok.is_none()
    }
    /// The note, or the label when there is none (for "inconclusive" details).
    pub fn explanation(&self) -> String {
        match &self.hop.note {
            Some(n) => format!("{}: {n}", self.hop.label),
            None => self.hop.label.clone(),
        }
    }
}

/// How traffic to a destination leaves the subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// Through the route table's route (IGW, NAT, or something ecs-doctor cannot see past).
    Route(String),
    /// An interface endpoint that private DNS points the host name at.
    InterfaceEndpoint(String),
    /// The S3 gateway endpoint, by its prefix-list route.
    GatewayEndpoint(String),
    /// Inside the VPC (the `local` route).
    Local,
    /// No route at all, or unknown.
    Nowhere,
}

/// Egress to a destination, or inbound to a container port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Direction {
    Egress(Destination),
    Inbound {
        container: String,
        port: u16,
        /// How the report names the source: `203.0.113.0/24`, `load balancer web (sg-1)`.
        from: String,
        source: Source,
    },
}

/// One evaluated path.
#[derive(Debug, Clone, PartialEq)]
pub struct PathEval {
    pub direction: Direction,
    pub subnet_id: String,
    pub via: Via,
    pub steps: Vec<Step>,
    /// The stop text's network failure that concerns this path.
    pub observed: Option<Observed>,
    /// How the report names the path.
    pub title: String,
}

impl PathEval {
    pub fn to_network_path(&self) -> NetworkPath {
        NetworkPath {
            destination: self.title.clone(),
            hops: self
                .steps
                .iter()
                .filter(|s| !s.hop.label.is_empty())
                .map(|s| s.hop.clone())
                .collect(),
        }
    }

    pub fn destination(&self) -> Option<&Destination> {
        match &self.direction {
            Direction::Egress(d) => Some(d),
            Direction::Inbound { .. } => None,
        }
    }

    pub fn is_inbound(&self) -> bool {
        matches!(self.direction, Direction::Inbound { .. })
    }

    /// The load balancer an inbound path starts from (its name and groups).
    pub fn from_load_balancer(&self) -> Option<(&str, &[String])> {
        match &self.direction {
            Direction::Inbound {
                source: Source::LoadBalancer { name, groups },
                ..
            } => Some((name.as_str(), groups.as_slice())),
            _ => None,
        }
    }

    /// The network given with `--from` that an inbound path starts from.
    pub fn from_cidr(&self) -> Option<&str> {
        match &self.direction {
            Direction::Inbound {
                source: Source::Cidr,
                from,
                ..
            } => Some(from.as_str()),
            _ => None,
        }
    }

    /// The destination's short name: `ECR API`, `tcp/3000 from 0.0.0.0/0`.
    pub fn short(&self) -> String {
        match &self.direction {
            Direction::Egress(d) => d.label(),
            Direction::Inbound {
                container,
                port,
                from,
                ..
            } => format!("inbound tcp/{port} to {container} from {from}"),
        }
    }
}
