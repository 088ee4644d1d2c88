//! Command-line interface (clap derive).

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const TASK_EXAMPLES: &str = "\
Examples:
  ecs-doctor task arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef
  ecs-doctor task 0123456789abcdef0123456789abcdef --cluster prod --region eu-west-1
  ecs-doctor task 'https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/0123…/configuration'
  ecs-doctor task <arn> -o markdown > ticket.md
  ecs-doctor task <arn> -o json | jq '.candidates[0].code'
  ecs-doctor task <arn> --save-evidence evidence.json      # replay it later, offline
  ecs-doctor task <arn1> <arn2> <arn3> -o json             # several tasks: an array of reports
  ecs-doctor task <arn> --endpoint-url http://localhost:4566  # LocalStack or moto
";

const EXEC_EXAMPLES: &str = "\
Examples:
  ecs-doctor exec arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef
  ecs-doctor exec 0123456789abcdef0123456789abcdef --cluster prod -o markdown

Checks what `aws ecs execute-command` needs: enableExecuteCommand on the task (and
the service), the ExecuteCommandAgent running, the Fargate platform version, the
task role's ssmmessages (and KMS / session-log) permissions, a network path to
ssmmessages, and the caller's own ecs:ExecuteCommand. When ECS Exec can work, the
report ends with the command to run.

For exec, 0 means ECS Exec can work, 1 a blocker was found, 4 a deciding fact could not be read.
";

/// The exit codes, the same for every command: the footer of every `--help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  a report, no failure cause found (every check that matters ran)
  1  a report, a failure cause found
  2  bad usage or input: a malformed ARN or flag, an unknown cause code, a file that is not an
     evidence bundle or an event
  3  the diagnosis could not run: no credentials, AWS unreachable or refusing the first call, or
     AWS does not know what was named (a task, cluster, service or task definition)
  4  a report, no failure cause found, but a check that could have found one lacked a fact
     (the gaps say which)
  5  `deployment` only: the deployment was still in progress (with --wait: --wait-timeout ran out)
";

#[derive(Debug, Parser)]
#[command(
    name = "ecs-doctor",
    version,
    about = "Explain why an Amazon ECS task stopped (or cannot be reached): ranked root causes, the evidence, the fix",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print each AWS call on stderr as it completes: the operation, the HTTP status or error
    /// code, and how long it took (never a request or response body).
    #[arg(long, global = true)]
    pub debug: bool,
}

/// The command line, with the exit codes at the foot of every subcommand's help.
pub fn command() -> clap::Command {
    Cli::command().mut_subcommands(|sub| {
        let help = match sub.get_after_help() {
            Some(own) => format!("{}\n\n{EXIT_CODES}", own.to_string().trim_end()),
            None => EXIT_CODES.to_string(),
        };
        sub.after_help(help)
    })
}

/// Parse the process's arguments (clap's own message and exit code 2 on bad usage).
pub fn parse() -> Cli {
    let matches = command().get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Args, Clone)]
pub struct RenderArgs {
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Never colour the output (colour is only used on a terminal; NO_COLOR is respected too).
    #[arg(long)]
    pub no_color: bool,
    /// List every check that passed, not only how many (table output).
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

/// How a report is rendered: built once from [`RenderArgs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub format: OutputFormat,
    /// Colour, only for a table on a terminal.
    pub color: bool,
    /// List the checks that passed.
    pub verbose: bool,
}

impl Style {
    /// `format` without colour or the passed checks (files, logs, tests).
    pub fn plain(format: OutputFormat) -> Style {
        Style {
            format,
            color: false,
            verbose: false,
        }
    }
}

impl RenderArgs {
    /// JSON without colour: what the Lambda and the MCP server render first.
    pub fn json() -> RenderArgs {
        RenderArgs {
            output: OutputFormat::Json,
            no_color: true,
            verbose: false,
        }
    }

    /// The style these flags ask for: colour only for a table on a terminal,
    /// without `--no-color` or `NO_COLOR`.
    pub fn style(&self) -> Style {
        use std::io::IsTerminal;
        Style {
            format: self.output,
            color: self.output == OutputFormat::Table
                && !self.no_color
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal(),
            verbose: self.verbose,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose one task.
    #[command(after_help = TASK_EXAMPLES)]
    Task(Box<TaskArgs>),
    /// Can ECS Exec reach this running task, and if not, why.
    #[command(after_help = EXEC_EXAMPLES)]
    Exec(Box<TaskArgs>),
    /// Before deploying: would a task of this task definition start?
    #[command(after_help = PREFLIGHT_EXAMPLES)]
    Preflight(Box<PreflightArgs>),
    /// A service's recent stopped tasks, diagnosed and grouped by root cause, with its events and deployments.
    #[command(after_help = SERVICE_EXAMPLES)]
    Service(Box<ServiceArgs>),
    /// Every service and task group of a cluster with failures in the window, worst first.
    #[command(after_help = CLUSTER_EXAMPLES)]
    Cluster(Box<ClusterArgs>),
    /// A service's newest deployment: completed, failed or rolled back, and why (a CI gate with --wait).
    #[command(after_help = DEPLOYMENT_EXAMPLES)]
    Deployment(Box<DeploymentArgs>),
    /// Diagnose tasks from EventBridge "ECS Task State Change" events (for tasks AWS has forgotten).
    #[command(after_help = EVENT_EXAMPLES)]
    Event(Box<EventArgs>),
    /// Diagnose a saved evidence bundle offline (no AWS account needed).
    #[command(
        after_help = "Examples:\n  ecs-doctor replay examples/app-exit-error.json -o markdown\n  ecs-doctor replay examples/no-public-ip.json --assign-public-ip ENABLED\n  gunzip -c evidence.json.gz | ecs-doctor replay -"
    )]
    Replay {
        /// A file written by `ecs-doctor task … --save-evidence FILE`, or `-` for standard input.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        assume: ReplayAssumptions,
        #[command(flatten)]
        render: RenderArgs,
    },
    /// Print the documentation of a cause code (or list them all).
    #[command(
        after_help = "Examples:\n  ecs-doctor explain no-public-ip\n  ecs-doctor explain --list"
    )]
    Explain {
        /// A cause code such as `image-not-found`.
        #[arg(required_unless_present = "list")]
        code: Option<String>,
        /// List every cause code with its one-line description.
        #[arg(long)]
        list: bool,
    },
    /// Serve the diagnoses to an AI assistant: an MCP server on standard input and output.
    #[command(after_help = MCP_EXAMPLES)]
    Mcp(Box<McpArgs>),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(
        after_help = "Examples:\n  ecs-doctor completions bash > /etc/bash_completion.d/ecs-doctor\n  ecs-doctor completions zsh > \"${fpath[1]}/_ecs-doctor\""
    )]
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff), or write every page (one per subcommand) to a directory.
    #[command(
        after_help = "Examples:\n  ecs-doctor man > ecs-doctor.1 && man ./ecs-doctor.1\n  ecs-doctor man --dir ~/.local/share/man/man1 && man ecs-doctor-task"
    )]
    Man {
        /// Write `ecs-doctor.1` and one page per subcommand (`ecs-doctor-task.1`, …) to DIR,
        /// creating it if needed, instead of printing the top page.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

const SERVICE_EXAMPLES: &str = "\
Examples:
  ecs-doctor service web --cluster prod
  ecs-doctor service web --cluster prod --since 30m -o markdown > ticket.md
  ecs-doctor service arn:aws:ecs:us-east-1:123456789012:service/prod/web --since 2026-12-03T09:00:00Z -o json

Lists the service's stopped tasks in the window (ECS keeps a stopped task for about an hour),
diagnoses each one (shared evidence -- task definition, roles, images, network -- is fetched
once), and groups them by root cause: \"7 of 8 stopped tasks: image-not-found (...), since
deployment ecs-svc/123 at 10:42\". The service's events and deployments are read too, so a
service that never placed a task is diagnosed from what the scheduler said.
";

const CLUSTER_EXAMPLES: &str = "\
Examples:
  ecs-doctor cluster prod
  ecs-doctor cluster prod --since 6h -o json | jq '.rows[] | select(.verdict == \"failure\")'

One line per service (or standalone task group) and cause, with how many of its stopped tasks
stopped for it and when the latest did, worst first.
";

const DEPLOYMENT_EXAMPLES: &str = "\
Examples:
  ecs-doctor deployment web --cluster prod
  ecs-doctor deployment web --cluster prod --wait --wait-timeout 20m -o markdown >> \"$GITHUB_STEP_SUMMARY\"

Reads the service's newest deployment (ListServiceDeployments, DescribeServiceDeployments,
DescribeServiceRevisions): its state and ECS's reason, the circuit breaker, alarms and lifecycle
hooks that watched it, the task definitions it went from and to, and its own stopped tasks,
diagnosed and grouped by cause as `service` does. With no task to diagnose, the scheduler's
events say why.

--wait follows the deployment until it completes, fails or rolls back. It polls every 5 s at
first, then 1.5 times longer each time up to every 30 s; a poll is 2 requests for a deployment
started in the last day (so at most 24 requests a minute), 1 when it follows DescribeServices
because the deployments API is refused. Progress goes to stderr: a spinner on a terminal, else
one line per change of state.

For a deployment, 0 means it completed (steady state with the new revision), 1 that it failed,
was stopped or rolled back, and 4 that its state could not be read (the gaps say why).
";

const EVENT_EXAMPLES: &str = "\
Examples:
  ecs-doctor event stopped-task-event.json
  aws logs filter-log-events --log-group-name /aws/events/ecs-stopped | ecs-doctor event -
  ecs-doctor event events.jsonl -o json

Takes one EventBridge event, a JSON array of them, JSON lines, or CloudWatch Logs output
(filter-log-events / get-log-events, or an export with a timestamp before each event).
The event's `detail` stands in for DescribeTasks when AWS no longer returns the task; the task
definition, roles, network and logs are read live.
";

/// `--since`: a duration back from now (`90m`, `2h`, `1d`) or an RFC 3339 time.
#[derive(Debug, Clone, Copy)]
pub struct Since(pub std::time::SystemTime);

impl Since {
    /// RFC 3339 in UTC, to the second.
    pub fn rfc3339(&self) -> String {
        humantime::format_rfc3339_seconds(self.0).to_string()
    }
}

pub(crate) fn parse_since(s: &str) -> Result<Since, String> {
    let now = std::time::SystemTime::now();
    if let Ok(d) = humantime::parse_duration(s) {
        return now
            .checked_sub(d)
            .map(Since)
            .ok_or_else(|| format!("{s} reaches back too far"));
    }
    match humantime::parse_rfc3339_weak(s) {
        Ok(t) if t <= now => Ok(Since(t)),
        Ok(_) => Err(format!("{s} is in the future")),
        Err(_) => Err(format!(
            "{s:?} is neither a duration (90m, 2h, 1d) nor an RFC 3339 time (2026-12-03T09:00:00Z)"
        )),
    }
}

/// The window and size of a sweep.
#[derive(Debug, Args, Clone)]
pub struct SweepArgs {
    /// Tasks that stopped since then: a duration back from now (90m, 2h, 1d) or an RFC 3339 time.
    /// ECS keeps stopped tasks for about an hour, so older ones are only found through `event`.
    #[arg(long, default_value = "2h", value_parser = parse_since)]
    pub since: Since,
    /// Diagnose at most this many stopped tasks (the newest) per service or task group.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// How many log lines to read per container (0 reads none).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub log_lines: u32,
}

#[derive(Debug, Args)]
pub struct ServiceArgs {
    /// The service: a name (with --cluster) or a service ARN.
    #[arg(value_name = "SERVICE")]
    pub service: String,
    /// The service's cluster (name or ARN); a service ARN that names its cluster needs none.
    #[arg(long)]
    pub cluster: Option<String>,
    #[command(flatten)]
    pub sweep: SweepArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub render: RenderArgs,
}

/// `--wait-timeout`: a duration (`90s`, `20m`, `1h`), at most a day.
pub(crate) fn parse_wait(s: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|_| format!("{s:?} is not a duration (90s, 20m, 1h)"))?;
    if d.is_zero() || d > std::time::Duration::from_secs(24 * 3600) {
        return Err(format!("{s} is not between 1 second and 24 hours"));
    }
    Ok(d)
}

#[derive(Debug, Args)]
pub struct DeploymentArgs {
    /// The service: a name (with --cluster) or a service ARN.
    #[arg(value_name = "SERVICE")]
    pub service: String,
    /// The service's cluster (name or ARN); a service ARN that names its cluster needs none.
    #[arg(long)]
    pub cluster: Option<String>,
    /// Follow the deployment until it completes, fails or rolls back (or --wait-timeout runs out).
    #[arg(long)]
    pub wait: bool,
    /// How long --wait follows the deployment (90s, 20m, 1h).
    #[arg(long, default_value = "30m", value_parser = parse_wait, requires = "wait")]
    pub wait_timeout: std::time::Duration,
    /// Diagnose at most this many of the deployment's stopped tasks (the newest).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// How many log lines to read per container (0 reads none).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub log_lines: u32,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub render: RenderArgs,
    /// The newest deployment as of this time (a deployment event's), not now.
    #[arg(skip)]
    pub as_of: Option<std::time::SystemTime>,
}

impl DeploymentArgs {
    /// The deployment read once (no `--wait`), as the Lambda and the MCP
    /// server ask for it; JSON rendering.
    pub fn once(
        service: String,
        cluster: Option<String>,
        limit: u32,
        log_lines: u32,
        aws: AwsArgs,
        as_of: Option<std::time::SystemTime>,
    ) -> DeploymentArgs {
        DeploymentArgs {
            service,
            cluster,
            wait: false,
            wait_timeout: std::time::Duration::from_secs(30 * 60),
            limit,
            log_lines,
            aws,
            render: RenderArgs::json(),
            as_of,
        }
    }
}

#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// The cluster: a name or an ARN.
    #[arg(value_name = "CLUSTER")]
    pub cluster: String,
    #[command(flatten)]
    pub sweep: SweepArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub render: RenderArgs,
}

#[derive(Debug, Args)]
pub struct EventArgs {
    /// A file of EventBridge events, or `-` for standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// How many log lines to read per container (0 reads none).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub log_lines: u32,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub render: RenderArgs,
}

#[derive(Debug, Args)]
pub struct TaskArgs {
    /// A task ARN, a task id (with --cluster), or an ECS console task URL. Give several to
    /// diagnose them together: JSON output is then an array of reports.
    #[arg(required = true, value_name = "TASK")]
    pub tasks: Vec<String>,
    /// The cluster, when TASK is a bare task id.
    #[arg(long)]
    pub cluster: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// How many log lines to read per container (0 reads none).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub log_lines: u32,
    /// Write the collected (redacted) evidence to FILE, for `ecs-doctor replay`.
    #[arg(long, value_name = "FILE")]
    pub save_evidence: Option<PathBuf>,
    #[command(flatten)]
    pub placement: PlacementArgs,
    /// For a running task: the network its clients come from (no default:
    /// without it, inbound traffic is checked from the service's load
    /// balancers only; 0.0.0.0/0 asks about the whole internet).
    #[arg(long = "from", value_name = "CIDR", value_parser = parse_cidr)]
    pub from_cidr: Option<String>,
    #[command(flatten)]
    pub render: RenderArgs,
}

/// Where a task ran (when AWS no longer holds it) or would run (preflight
/// without a service); values given here are marked as assumed.
#[derive(Debug, Args, Clone, Default)]
pub struct PlacementArgs {
    /// The task's subnet (repeatable).
    #[arg(long = "subnet", value_name = "SUBNET_ID")]
    pub subnets: Vec<String>,
    /// The task's security group (repeatable).
    #[arg(long = "security-group", value_name = "SG_ID")]
    pub security_groups: Vec<String>,
    /// Whether the task has a public IP: ENABLED or DISABLED (AWS's default).
    #[arg(long, value_parser = parse_enabled)]
    pub assign_public_ip: Option<bool>,
}

/// What a replay may assume beyond the bundle: the inputs that change how
/// the saved facts are judged, not which facts were read (a subnet or a
/// security group needs AWS, and `task` takes those).
#[derive(Debug, Args, Clone, Default)]
pub struct ReplayAssumptions {
    /// Whether the task had a public IP: ENABLED or DISABLED (marked as assumed).
    #[arg(long, value_parser = parse_enabled)]
    pub assign_public_ip: Option<bool>,
    /// For a running task: the network its clients come from (as for `task`).
    #[arg(long = "from", value_name = "CIDR", value_parser = parse_cidr)]
    pub from_cidr: Option<String>,
}

/// How to reach AWS, as the AWS CLI takes it.
#[derive(Debug, Args, Clone)]
pub struct AwsArgs {
    /// AWS Region (default: the ARN's Region, then AWS_REGION / the profile).
    #[arg(long)]
    pub region: Option<String>,
    /// Named profile from the AWS config files.
    #[arg(long, env = "AWS_PROFILE", hide_env_values = true)]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (LocalStack, moto).
    #[arg(long, env = "AWS_ENDPOINT_URL", hide_env_values = true)]
    pub endpoint_url: Option<String>,
    /// A deadline for the whole diagnosis, in seconds (1 to 600): no AWS call
    /// starts after it, and what was gathered by then is judged (the rest are gaps).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    /// A long-lived session's AWS configurations (`ecs-doctor mcp`), reused
    /// by its calls; none for a command run once.
    #[arg(skip)]
    pub session: Option<std::sync::Arc<crate::session::Session>>,
}

const MCP_EXAMPLES: &str = "\
Examples:
  ecs-doctor mcp --profile readonly --region eu-west-1
  claude mcp add ecs-doctor -- ecs-doctor mcp --profile readonly

Speaks the Model Context Protocol on standard input and output (logs go to stderr): one tool
per question (diagnose_task, diagnose_service, diagnose_deployment, diagnose_cluster,
diagnose_event, preflight, exec_readiness, explain_code, list_codes), each answering with the
JSON report as structured content and the Markdown report as text. The flags set the session's AWS configuration; a call
may name another Region or profile. Every tool only reads (describe, get, list).
";

/// `ecs-doctor mcp`: the session's AWS settings, as for every command.
#[derive(Debug, Args)]
pub struct McpArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
}

const PREFLIGHT_EXAMPLES: &str = "\
Examples:
  ecs-doctor preflight --service web --cluster prod
  ecs-doctor preflight --service web --cluster prod --task-definition web:42
  ecs-doctor preflight --service web --cluster prod --file taskdef.json
  ecs-doctor preflight --file taskdef.json --subnet subnet-0a1b --security-group sg-0c2d -o json

Runs every check that does not need a task to have run -- the image exists for the task's
platform, the execution role may pull and read the secrets, the log groups exist, the subnets
have a way out, the endpoints and security groups admit the traffic, the EFS volumes mount, and
the task definition's own mistakes -- and reports what will fail, with the same cause codes.
FILE is the register-task-definition input (or a describe-task-definition output).

For preflight, 0 means every check passed, 1 a start would fail, 4 a deciding fact could not be read.
";

#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// The service whose task definition and network configuration to check.
    #[arg(long, requires = "cluster")]
    pub service: Option<String>,
    /// The service's cluster.
    #[arg(long)]
    pub cluster: Option<String>,
    /// A registered task definition (family, family:revision or ARN) instead of the service's.
    #[arg(long, value_name = "FAMILY[:REVISION]", conflicts_with = "file")]
    pub task_definition: Option<String>,
    /// A task definition JSON file (register-task-definition input), `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub placement: PlacementArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub render: RenderArgs,
}

/// An IPv4 CIDR (`203.0.113.0/24`, `0.0.0.0/0`); a bare address is one host.
pub(crate) fn parse_cidr(s: &str) -> Result<String, String> {
    let (ip, len) = s.split_once('/').unwrap_or((s, "32"));
    match (ip.parse::<std::net::Ipv4Addr>(), len.parse::<u8>()) {
        (Ok(_), Ok(n)) if n <= 32 => Ok(format!("{ip}/{n}")),
        _ => Err(format!("{s} is not an IPv4 CIDR such as 203.0.113.0/24")),
    }
}

fn parse_enabled(s: &str) -> Result<bool, String> {
    match s.to_ascii_uppercase().as_str() {
        "ENABLED" | "TRUE" | "YES" => Ok(true),
        "DISABLED" | "FALSE" | "NO" => Ok(false),
        _ => Err("expected ENABLED or DISABLED".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_cidr, parse_since};
    use std::time::SystemTime;

    #[test]
    fn from_takes_an_ipv4_cidr_and_has_no_default() {
        assert_eq!(parse_cidr("203.0.113.0/24").unwrap(), "203.0.113.0/24");
        assert_eq!(parse_cidr("0.0.0.0/0").unwrap(), "0.0.0.0/0");
        assert_eq!(parse_cidr("198.51.100.7").unwrap(), "198.51.100.7/32");
        assert!(parse_cidr("anywhere").is_err());
        assert!(parse_cidr("10.0.0.0/33").is_err());
        use clap::Parser;
        let cli = super::Cli::try_parse_from([
            "ecs-doctor",
            "task",
            "arn:aws:ecs:us-east-1:123456789012:task/prod/abc",
        ])
        .unwrap();
        let super::Command::Task(args) = cli.command else {
            panic!("a task command")
        };
        assert_eq!(args.from_cidr, None, "the internet is never assumed");
    }

    #[test]
    fn since_takes_durations_and_rfc3339() {
        let now = SystemTime::now();
        for (text, back) in [("90m", 90 * 60), ("2h", 7200), ("1d", 86400)] {
            let since = parse_since(text).unwrap().0;
            let ago = now.duration_since(since).unwrap();
            assert!(ago.as_secs().abs_diff(back) < 60, "{text}: {ago:?}");
        }
        let fixed = parse_since("2026-01-02T03:04:05Z").unwrap();
        assert_eq!(fixed.rfc3339(), "2026-01-02T03:04:05Z");
        assert!(parse_since("3000-01-01T00:00:00Z")
            .unwrap_err()
            .contains("future"));
        assert!(parse_since("yesterday")
            .unwrap_err()
            .contains("neither a duration"));
    }
}
