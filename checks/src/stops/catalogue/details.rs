//! The specific facts a text may state: [`DETAILS`], by fragments and by
//! the text's structure ([`Gate`]).

use super::{DetailPattern, Gate};
use crate::stops::chain::{Domain, Outcome};
use crate::stops::Detail;

/// Outcomes of the network path: a text that ends on one states no missing
/// thing and no missing credential.
const NETWORK: &[Outcome] = &[
    Outcome::TimedOut,
    Outcome::ConnectionFailed,
    Outcome::DnsFailed,
    Outcome::Killed,
];

/// The specific facts a stop text may state. Order does not matter: a text
/// has every detail that matches.
pub const DETAILS: &[DetailPattern] = &[
    // Every pull failure says "failed to resolve ref": only a text whose innermost
    // link says "not found" of an image states a missing image.
    DetailPattern {
        detail: Detail::ImageMissing,
        any: &[],
        with: &[],
        without: &[],
        gate: Gate::ends(&[Outcome::NotFound], &[Domain::Image]),
    },
    DetailPattern {
        detail: Detail::ImagePullFailed,
        any: &[
            "cannotpullcontainer",
            "pull image",
            "failed to resolve ref",
            "manifest unknown",
            "check whether the image exists",
            "can't pull the image",
        ],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    DetailPattern {
        detail: Detail::PlatformMismatch,
        any: &[
            "descriptor matching platform",
            "descriptor for platform",
            "no matching manifest for",
            "does not match the detected host platform",
            "does not match the specified platform",
            "exec format error",
            "platform mismatch",
        ],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    DetailPattern {
        detail: Detail::RegistryAuthRefused,
        any: &[
            "pull access denied",
            "check that the role has the permissions to pull images",
            "no basic auth credentials",
            "incorrect username or password",
        ],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    DetailPattern {
        detail: Detail::RegistryAuthRefused,
        any: &[],
        with: &[],
        without: &[],
        gate: Gate::ends(&[Outcome::Unauthorized, Outcome::NotFoundOrDenied], &[]),
    },
    // A 403 from the registry itself; a 403 on a layer download is the storage
    // bucket's (below).
    DetailPattern {
        detail: Detail::RegistryAuthRefused,
        any: &[],
        with: &[],
        without: &[],
        gate: Gate::ends(
            &[Outcome::Forbidden],
            &[Domain::Image, Domain::RegistryAuth],
        ),
    },
    DetailPattern {
        detail: Detail::RateLimited,
        any: &[
            "toomanyrequests",
            "too many requests",
            "pull rate limit",
            "increase-rate-limits",
        ],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    // A key or version of a secret that exists; the secret-missing row below
    // would also match these texts, so its check defers to this detail.
    DetailPattern {
        detail: Detail::SecretKeyMissing,
        any: &[
            "did not contain json key",
            "does not contain json key",
            "json key",
            "secret value for staging label",
            "secret value for versionid",
            "secret value for version id",
            "version stage",
            "versionstage",
        ],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    DetailPattern {
        detail: Detail::KmsDenied,
        any: &[
            "access to kms is not allowed",
            "kms:decrypt",
            "kmsaccessdenied",
            "kms.accessdenied",
            "kmsinvalidstate",
            "kms.kmsinvalidstate",
            "key is disabled",
        ],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    // A refusal or missing key in the innermost link about KMS.
    DetailPattern {
        detail: Detail::KmsDenied,
        any: &[],
        with: &[],
        without: &[],
        gate: Gate::ends(
            &[Outcome::Denied, Outcome::NotFound, Outcome::Forbidden],
            &[Domain::Kms],
        ),
    },
    DetailPattern {
        detail: Detail::EfsAccessDenied,
        any: &[
            "access denied by server",
            "permission denied",
            "accessdenied",
            "access denied",
        ],
        with: &["efs", "mount", "nfs", "elasticfilesystem"],
        without: &[],
        gate: Gate::ANY,
    },
    DetailPattern {
        detail: Detail::EfsUnreachable,
        any: &[
            "connection timed out",
            "timed out",
            "failed to resolve",
            "could not resolve",
            "name or service not known",
            "no route to host",
            "connection refused",
        ],
        with: &["efs", "mount.nfs", "mount target", "elasticfilesystem"],
        without: &[],
        gate: Gate::ANY,
    },
    DetailPattern {
        detail: Detail::SecretMissing,
        any: &[
            "can't find the specified secret",
            "check whether the secret exists",
            "parameternotfound",
            "invalid ssm parameters",
            "parameter does not exist",
            "secret not found",
        ],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    // A not-found of a secret or parameter: CloudWatch Logs' ResourceNotFoundException
    // is a log group's.
    DetailPattern {
        detail: Detail::SecretMissing,
        any: &[],
        with: &[],
        without: &[],
        gate: Gate::ends(&[Outcome::NotFound], &[Domain::Secrets, Domain::Parameters]),
    },
    DetailPattern {
        detail: Detail::LogGroupMissing,
        any: &[
            "log group does not exist",
            "cannot find the amazon cloudwatch log group",
            "can't find the amazon cloudwatch log group",
        ],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    // A not-found of the logs area. A refused logs:CreateLogGroup is a permission,
    // and a driver that failed for no stated reason states no missing group.
    DetailPattern {
        detail: Detail::LogGroupMissing,
        any: &[],
        with: &[],
        without: &[],
        gate: Gate::ends(&[Outcome::NotFound], &[Domain::Logs]),
    },
    // The logging driver did not start, whatever the reason.
    DetailPattern {
        detail: Detail::LogDriverFailed,
        any: &[
            "failed to initialize logging driver",
            "failed to validate logger args",
            "failed to create cloudwatch log",
        ],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    DetailPattern {
        detail: Detail::LogDriverRefused,
        any: &[
            "unknown log opt",
            "log opt",
            "invalid log",
            "not a valid log",
        ],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    // No credentials, unless the text ends on the network: a pull of registry auth
    // that timed out, or was killed for want of a path (AWS's documented symptom),
    // states nothing about credentials.
    DetailPattern {
        detail: Detail::NoCredentials,
        any: &[
            "no basic auth credentials",
            "nocredentialproviders",
            "no valid providers in chain",
            "unable to retrieve ecr registry auth",
            "unable to pull secrets or registry auth",
            "execution role",
            "executionrolearn",
            "authorization token",
        ],
        with: &[],
        without: &[],
        gate: Gate {
            outcomes: &[],
            domains: &[],
            not_outcomes: NETWORK,
        },
    },
    DetailPattern {
        detail: Detail::AssumeRoleFailed,
        any: &[
            "unable to assume the role",
            "unable to assume role",
            "could not assume role",
            "not authorized to perform: sts:assumerole",
            "nosuchentity",
            "role does not exist",
        ],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    DetailPattern {
        detail: Detail::ResourceRetrievalFailed,
        any: &[
            "cannotpullcontainer",
            "can't pull the image",
            "resourceinitializationerror",
            "unable to pull secrets or registry auth",
            "unable to retrieve secret",
            "unable to retrieve ecr registry auth",
            "failed to validate logger args",
            "failed to initialize logging driver",
            "accessdenied",
            "access denied",
        ],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    DetailPattern {
        detail: Detail::NoFreeAddresses,
        any: &[
            "unexpected ec2 error while attempting to create network interface",
            "insufficientfreeaddressesinsubnet",
            "insufficient free addresses",
            "no free addresses",
            "not enough ip",
            "no available ip",
        ],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    DetailPattern {
        detail: Detail::EniProvisioning,
        any: &[
            "waiting for network interface provisioning",
            "network interface provisioning",
            "eni provisioning",
            "waiting for eni",
            "timed out waiting for network interface",
        ],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    // A network interface that timed out or hit an internal error, in other words.
    DetailPattern {
        detail: Detail::EniProvisioning,
        any: &["network interface", " eni"],
        with: &["internalerror", "timeout", "timed out"],
        without: &[],
        gate: Gate::ANY,
    },
    DetailPattern {
        detail: Detail::ConnectionFailed,
        any: &[
            "connection issue between the task and",
            "statuscode: 0",
            "check your network configuration",
            "check your task network configuration",
            "check your network connection",
        ],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    // The innermost link says the connection failed (a killed pull command is
    // AWS's documented symptom of no network path on Fargate).
    DetailPattern {
        detail: Detail::ConnectionFailed,
        any: &[],
        with: &[],
        without: &[],
        gate: Gate::ends(
            &[
                Outcome::TimedOut,
                Outcome::ConnectionFailed,
                Outcome::Killed,
            ],
            &[],
        ),
    },
    DetailPattern {
        detail: Detail::DnsFailed,
        any: &[],
        with: &[],
        without: &[],
        gate: Gate::ends(&[Outcome::DnsFailed], &[]),
    },
    // Why a command could not run (a stop text or a log line of an exec failure).
    DetailPattern {
        detail: Detail::NotExecutable,
        any: &["permission den", "cannot execute", "not executable"],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    DetailPattern {
        detail: Detail::BadInterpreter,
        any: &["bad interpreter", "exec user process caused"],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    // The area of a start-up failure, to tie it to a refused IAM action: the
    // innermost link that names one (the wrapper "unable to pull secrets or
    // registry auth" names none).
    DetailPattern {
        detail: Detail::AboutImages,
        any: &[],
        with: &[],
        without: &[],
        gate: Gate::about(&[Domain::Image, Domain::Layer, Domain::RegistryAuth]),
    },
    DetailPattern {
        detail: Detail::AboutLogs,
        any: &[],
        with: &[],
        without: &[],
        gate: Gate::about(&[Domain::Logs]),
    },
    DetailPattern {
        detail: Detail::AboutSecretsManager,
        any: &[],
        with: &[],
        without: &[],
        gate: Gate::about(&[Domain::Secrets]),
    },
    // Environment files: a download that failed on the network path is the
    // network's (connection-failed), not a fact about the file.
    DetailPattern {
        detail: Detail::AboutEnvFiles,
        any: &[],
        with: &[],
        without: &[],
        gate: Gate {
            outcomes: &[],
            domains: &[Domain::EnvFiles],
            not_outcomes: NETWORK,
        },
    },
    DetailPattern {
        detail: Detail::AboutParameterStore,
        any: &[],
        with: &[],
        without: &[],
        gate: Gate::about(&[Domain::Parameters]),
    },
    DetailPattern {
        detail: Detail::AboutKms,
        any: &[],
        with: &[],
        without: &[],
        gate: Gate::about(&[Domain::Kms, Domain::Secrets, Domain::Parameters]),
    },
    // A load balancer's health checks, in a stop text or a service event.
    DetailPattern {
        detail: Detail::HealthCheckCodeMismatch,
        any: &["failed with these codes"],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    // The storage bucket behind a registry refused a layer download (ECR's layers
    // come from prod-<region>-starport-layer-bucket).
    DetailPattern {
        detail: Detail::LayerRefused,
        any: &[],
        with: &[],
        without: &[],
        gate: Gate::ends(&[Outcome::Forbidden, Outcome::Denied], &[Domain::Layer]),
    },
    // AWS names a VPC endpoint policy as what refused the call: the innermost
    // link is a refusal, and the message's policy clause says which kind.
    DetailPattern {
        detail: Detail::EndpointPolicyDenied,
        any: &[
            "because no vpc endpoint policy allows",
            "with an explicit deny in a vpc endpoint policy",
        ],
        with: &[],
        without: &[],
        gate: Gate::ends(&[Outcome::Denied], &[]),
    },
    // ECS-managed EBS volumes: the status reasons of the task's EBS attachment,
    // as the developer guide lists them (troubleshoot-ebs-volumes-scenarios).
    DetailPattern {
        detail: Detail::EbsRoleUnassumable,
        any: &["unable to assume the configured ecs infrastructure role"],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    DetailPattern {
        detail: Detail::EbsSetupFailed,
        any: &["failed to set up the ebs volume"],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    DetailPattern {
        detail: Detail::EbsAttachTimedOut,
        any: &["timed out while configuring the ebs volume attachment"],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    // The runtime cannot pull what the manifest lists (an attestation manifest, a
    // media type it does not know).
    DetailPattern {
        detail: Detail::UnsupportedManifest,
        any: &[
            "unsupported media type",
            "no processor for media-type",
            "unknown media type",
        ],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
    // A port a container binds is taken (Docker's text in a container reason).
    DetailPattern {
        detail: Detail::PortAllocated,
        any: &[
            "port is already allocated",
            "address already in use",
            "eaddrinuse",
        ],
        with: &[],
        without: &[],
        gate: Gate::ANY,
    },
];
