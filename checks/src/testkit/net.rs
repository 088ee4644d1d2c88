//! Small network evidence fixtures for the network checks' tests: a Fargate
//! task in us-east-1 with an ECR image, awslogs and one Secrets Manager
//! secret, in VPC 10.0.0.0/16, in one of three shapes (private subnet behind
//! a NAT gateway, public subnet, or endpoints only). Tests mutate the parts.

use crate::evidence::*;

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";
pub const S3_PL: &str = "pl-63a5400a";

pub fn route(cidr: &str, target: &str) -> Route {
    Route {
        destination_cidr: Some(cidr.into()),
        target: target.into(),
        state: Some("active".into()),
        ..Default::default()
    }
}

pub fn pl_route(pl: &str, target: &str) -> Route {
    Route {
        destination_prefix_list_id: Some(pl.into()),
        target: target.into(),
        state: Some("active".into()),
        ..Default::default()
    }
}

pub fn table(id: &str, main: bool, subnets: &[&str], routes: Vec<Route>) -> RouteTable {
    let mut all = vec![route("10.0.0.0/16", "local")];
    all.extend(routes);
    RouteTable {
        id: id.into(),
        vpc_id: "vpc-1".into(),
        main,
        subnet_ids: subnets.iter().map(|s| s.to_string()).collect(),
        routes: all,
    }
}

pub fn subnet(id: &str, cidr: &str, az: &str) -> Subnet {
    Subnet {
        id: id.into(),
        vpc_id: "vpc-1".into(),
        availability_zone: Some(az.into()),
        cidr_block: Some(cidr.into()),
        available_ip_address_count: Some(200),
        map_public_ip_on_launch: Some(false),
    }
}

pub fn sg_rule(proto: &str, port: Option<i32>, cidr: &str) -> SecurityGroupRule {
    SecurityGroupRule {
        protocol: proto.into(),
        from_port: port,
        to_port: port,
        ipv4_ranges: vec![cidr.into()],
        ..Default::default()
    }
}

pub fn sg_from_group(port: i32, group: &str) -> SecurityGroupRule {
    SecurityGroupRule {
        protocol: "tcp".into(),
        from_port: Some(port),
        to_port: Some(port),
        group_ids: vec![group.into()],
        ..Default::default()
    }
}

pub fn group(
    id: &str,
    ingress: Vec<SecurityGroupRule>,
    egress: Vec<SecurityGroupRule>,
) -> SecurityGroup {
    SecurityGroup {
        id: id.into(),
        name: Some(id.into()),
        vpc_id: Some("vpc-1".into()),
        ingress,
        egress,
    }
}

pub fn acl_entry(
    n: i32,
    egress: bool,
    proto: &str,
    action: &str,
    cidr: &str,
    ports: Option<(i32, i32)>,
) -> NetworkAclEntry {
    NetworkAclEntry {
        rule_number: n,
        egress,
        protocol: proto.into(),
        action: action.into(),
        cidr_block: Some(cidr.into()),
        ipv6_cidr_block: None,
        port_from: ports.map(|p| p.0),
        port_to: ports.map(|p| p.1),
    }
}

/// A network ACL with the given entries plus the default `*` deny rules.
pub fn acl(id: &str, default: bool, subnets: &[&str], entries: Vec<NetworkAclEntry>) -> NetworkAcl {
    let mut all = entries;
    all.push(acl_entry(32767, true, "-1", "deny", "0.0.0.0/0", None));
    all.push(acl_entry(32767, false, "-1", "deny", "0.0.0.0/0", None));
    NetworkAcl {
        id: id.into(),
        vpc_id: Some("vpc-1".into()),
        is_default: default,
        subnet_ids: subnets.iter().map(|s| s.to_string()).collect(),
        entries: all,
    }
}

/// The task subnet's ACL denies outbound tcp/443 (rule 90) before it allows
/// everything (rule 100); the other subnets allow all.
pub fn acls_denying_https_out() -> Vec<NetworkAcl> {
    vec![
        acl(
            "acl-app",
            false,
            &["subnet-a"],
            vec![
                acl_entry(90, true, "6", "deny", "0.0.0.0/0", Some((443, 443))),
                acl_entry(100, true, "-1", "allow", "0.0.0.0/0", None),
                acl_entry(100, false, "-1", "allow", "0.0.0.0/0", None),
            ],
        ),
        allow_all_acl("acl-default", true, &["subnet-pub", "subnet-b"]),
    ]
}

pub fn allow_all_acl(id: &str, default: bool, subnets: &[&str]) -> NetworkAcl {
    acl(
        id,
        default,
        subnets,
        vec![
            acl_entry(100, true, "-1", "allow", "0.0.0.0/0", None),
            acl_entry(100, false, "-1", "allow", "0.0.0.0/0", None),
        ],
    )
}

pub fn interface_endpoint(
    id: &str,
    service: &str,
    subnets: &[&str],
    groups: &[&str],
) -> VpcEndpoint {
    VpcEndpoint {
        id: id.into(),
        service_name: format!("com.amazonaws.{REGION}.{service}"),
        endpoint_type: "Interface".into(),
        state: Some("available".into()),
        private_dns_enabled: Some(true),
        subnet_ids: subnets.iter().map(|s| s.to_string()).collect(),
        security_group_ids: groups.iter().map(|s| s.to_string()).collect(),
        route_table_ids: Vec::new(),
        policy: None,
    }
}

pub fn s3_gateway(id: &str, tables: &[&str]) -> VpcEndpoint {
    VpcEndpoint {
        id: id.into(),
        service_name: format!("com.amazonaws.{REGION}.s3"),
        endpoint_type: "Gateway".into(),
        state: Some("available".into()),
        private_dns_enabled: None,
        subnet_ids: Vec::new(),
        security_group_ids: Vec::new(),
        route_table_ids: tables.iter().map(|s| s.to_string()).collect(),
        policy: None,
    }
}

/// The parts of one fixture, mutable before `ev()` assembles them.
#[derive(Debug, Clone)]
pub struct Fx {
    pub task: Task,
    pub td: TaskDefinition,
    pub placement: TaskPlacement,
    pub vpc: Vpc,
    pub subnets: Vec<Subnet>,
    pub tables: Vec<RouteTable>,
    pub igws: Vec<InternetGateway>,
    pub nats: Vec<NatGateway>,
    pub endpoints: Vec<VpcEndpoint>,
    pub groups: Vec<SecurityGroup>,
    pub acls: Vec<NetworkAcl>,
    pub prefix_lists: Vec<PrefixList>,
    pub from_cidr: Option<String>,
    pub efs: Vec<EfsEvidence>,
    pub task_role: Fact<Role>,
    /// The service that launched the task (none: a standalone task).
    pub service: Option<Service>,
    pub load_balancing: Vec<TargetGroupEvidence>,
}

fn base() -> Fx {
    // The kit's one task, in the shape the network checks judge.
    let common = super::stopped("", "");
    let image = format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/web:1.4");
    let mut options = std::collections::BTreeMap::new();
    options.insert("awslogs-group".to_string(), "/ecs/web".to_string());
    options.insert("awslogs-region".to_string(), REGION.to_string());
    options.insert("awslogs-stream-prefix".to_string(), "ecs".to_string());
    Fx {
        task: Task {
            stop_code: None,
            stopped_reason: None,
            started_by: None,
            // Never started: the start-up paths decide.
            timestamps: TaskTimestamps::default(),
            availability_zone: Some("us-east-1a".into()),
            containers: vec![Container {
                name: "web".into(),
                image: Some(image.clone()),
                last_status: Some("STOPPED".into()),
                ..Default::default()
            }],
            eni_attachment: Some(EniAttachment {
                status: Some("DELETED".into()),
                eni_id: Some("eni-0task".into()),
                subnet_id: Some("subnet-a".into()),
                private_ip: Some("10.0.1.25".into()),
            }),
            ..common.task.clone()
        },
        td: TaskDefinition {
            containers: vec![ContainerDefinition {
                name: "web".into(),
                image,
                essential: true,
                port_mappings: vec![PortMapping {
                    container_port: Some(3000),
                    host_port: Some(3000),
                    protocol: Some("tcp".into()),
                }],
                secrets: vec![SecretRef {
                    name: "DB_URL".into(),
                    value_from: format!(
                        "arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-url-AbCdEf"
                    ),
                }],
                log_configuration: Some(LogConfiguration {
                    driver: "awslogs".into(),
                    options,
                    secret_options: Vec::new(),
                }),
                ..Default::default()
            }],
            ..common
                .task_def()
                .expect("the kit's task has a task definition")
                .clone()
        },
        placement: TaskPlacement {
            subnet_ids: vec!["subnet-a".into()],
            subnet_source: NetworkSource::TaskAttachment,
            security_group_ids: vec!["sg-task".into()],
            security_groups_source: NetworkSource::Service,
            assign_public_ip: Some(false),
            assign_public_ip_source: NetworkSource::Service,
            private_ip: Some("10.0.1.25".into()),
            public_ip: None,
        },
        vpc: Vpc {
            id: "vpc-1".into(),
            cidr_blocks: vec!["10.0.0.0/16".into()],
            enable_dns_support: Fact::gathered(true),
            enable_dns_hostnames: Fact::gathered(true),
        },
        subnets: vec![
            subnet("subnet-a", "10.0.1.0/24", "us-east-1a"),
            subnet("subnet-b", "10.0.2.0/24", "us-east-1b"),
            subnet("subnet-pub", "10.0.0.0/24", "us-east-1a"),
        ],
        tables: Vec::new(),
        igws: vec![InternetGateway {
            id: "igw-1".into(),
            attached_vpc_ids: vec!["vpc-1".into()],
        }],
        nats: Vec::new(),
        endpoints: Vec::new(),
        groups: vec![
            group("sg-task", vec![], vec![sg_rule("-1", None, "0.0.0.0/0")]),
            group("sg-default", vec![], vec![sg_rule("-1", None, "0.0.0.0/0")]),
        ],
        acls: vec![allow_all_acl(
            "acl-default",
            true,
            &["subnet-a", "subnet-b", "subnet-pub"],
        )],
        prefix_lists: vec![PrefixList {
            id: S3_PL.into(),
            name: format!("com.amazonaws.{REGION}.s3"),
            cidrs: vec!["52.216.0.0/15".into(), "54.231.0.0/16".into()],
        }],
        from_cidr: None,
        efs: Vec::new(),
        task_role: Fact::not_applicable("no check needs the task role's permissions"),
        service: None,
        load_balancing: Vec::new(),
    }
}

impl Fx {
    /// Healthy: the task in private subnet-a, whose main route table sends
    /// 0.0.0.0/0 to nat-1 in subnet-pub, which routes to igw-1.
    pub fn private_nat() -> Fx {
        let mut fx = base();
        fx.tables = vec![
            table("rtb-main", true, &[], vec![route("0.0.0.0/0", "nat-1")]),
            table(
                "rtb-pub",
                false,
                &["subnet-pub"],
                vec![route("0.0.0.0/0", "igw-1")],
            ),
        ];
        fx.nats = vec![NatGateway {
            id: "nat-1".into(),
            subnet_id: Some("subnet-pub".into()),
            state: Some("available".into()),
            connectivity_type: Some("public".into()),
            public_ip: Some("198.51.100.7".into()),
        }];
        fx
    }

    /// The task in subnet-a whose explicit table routes 0.0.0.0/0 to igw-1.
    pub fn public(assign_public_ip: bool) -> Fx {
        let mut fx = base();
        fx.tables = vec![
            table("rtb-main", true, &[], vec![]),
            table(
                "rtb-a",
                false,
                &["subnet-a", "subnet-pub"],
                vec![route("0.0.0.0/0", "igw-1")],
            ),
        ];
        fx.placement.assign_public_ip = Some(assign_public_ip);
        if assign_public_ip {
            fx.placement.public_ip = Some("54.80.1.2".into());
            fx.placement.assign_public_ip_source = NetworkSource::Eni;
        }
        fx
    }

    /// Healthy: no internet path at all, every endpoint the task needs, and
    /// the S3 gateway on the main table.
    pub fn endpoints_only() -> Fx {
        let mut fx = base();
        fx.tables = vec![table(
            "rtb-main",
            true,
            &[],
            vec![pl_route(S3_PL, "vpce-s3")],
        )];
        fx.groups.push(group(
            "sg-endpoints",
            vec![sg_rule("tcp", Some(443), "10.0.0.0/16")],
            vec![],
        ));
        for (id, service) in [
            ("vpce-api", "ecr.api"),
            ("vpce-dkr", "ecr.dkr"),
            ("vpce-logs", "logs"),
            ("vpce-sm", "secretsmanager"),
        ] {
            fx.endpoints.push(interface_endpoint(
                id,
                service,
                &["subnet-a", "subnet-b"],
                &["sg-endpoints"],
            ));
        }
        fx.endpoints.push(s3_gateway("vpce-s3", &["rtb-main"]));
        fx
    }

    /// Container `web` mounts EFS file system `fs-0123456789abcdef0` (volume
    /// `data`, read-write, TLS, no IAM authorization) at `/data`; the file
    /// system has a mount target in each task AZ, `fsmt-a` in subnet-a
    /// (10.0.1.57) behind `sg-efs`, which admits NFS from `sg-task`, and no
    /// file system policy.
    pub fn with_efs(mut self) -> Fx {
        self.td.volumes.push(Volume {
            name: "data".into(),
            efs: Some(EfsVolume {
                file_system_id: EFS_ID.into(),
                transit_encryption: Some("ENABLED".into()),
                ..Default::default()
            }),
            configured_at_launch: false,
        });
        self.td.containers[0].mount_points.push(MountPoint {
            source_volume: "data".into(),
            container_path: "/data".into(),
            read_only: false,
        });
        self.groups.push(group(
            "sg-efs",
            vec![sg_from_group(2049, "sg-task")],
            vec![],
        ));
        let target = |id: &str, subnet: &str, az: &str, ip: &str| MountTarget {
            id: id.into(),
            subnet_id: subnet.into(),
            availability_zone: Some(az.into()),
            ip_address: Some(ip.into()),
            life_cycle_state: Some("available".into()),
            security_groups: Fact::gathered(vec!["sg-efs".into()]),
        };
        self.efs.push(EfsEvidence {
            file_system_id: EFS_ID.into(),
            file_system: Fact::gathered(FileSystem {
                arn: Some(format!(
                    "arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/{EFS_ID}"
                )),
                life_cycle_state: Some("available".into()),
                availability_zone: None,
            }),
            mount_targets: Fact::gathered(vec![
                target("fsmt-a", "subnet-a", "us-east-1a", "10.0.1.57"),
                target("fsmt-b", "subnet-b", "us-east-1b", "10.0.2.57"),
            ]),
            policy: Fact::absent(format!("file system {EFS_ID} has no file system policy")),
            access_points: Vec::new(),
        });
        self
    }

    pub fn stopped(mut self, code: &str, reason: &str) -> Fx {
        self.task.last_status = "STOPPED".into();
        self.task.stop_code = Some(code.into());
        self.task.stopped_reason = Some(reason.into());
        self
    }

    pub fn running(mut self) -> Fx {
        self.task.last_status = "RUNNING".into();
        self.task.desired_status = Some("RUNNING".into());
        self.task.stop_code = None;
        self.task.stopped_reason = None;
        self.task.timestamps.started_at = Some("2026-11-20T10:00:00Z".into());
        self.task.containers[0].last_status = Some("RUNNING".into());
        if let Some(a) = self.task.eni_attachment.as_mut() {
            a.status = Some("ATTACHED".into());
        }
        self.placement.subnet_source = NetworkSource::Eni;
        self.placement.security_groups_source = NetworkSource::Eni;
        self.placement.assign_public_ip_source = NetworkSource::Eni;
        self
    }

    /// Service `web` sends to container `web` on port 3000 through target
    /// group `web` of the internet-facing ALB `web` in subnet-pub, whose
    /// security group is `sg-lb`; the task's group admits `sg-lb` on 3000
    /// (and nothing else), and its target is healthy.
    pub fn behind_lb(mut self) -> Fx {
        let tg = super::lb::TG;
        self.service = Some(Service {
            name: "web".into(),
            arn: format!("arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/web"),
            load_balancers: vec![ServiceLoadBalancer {
                target_group_arn: Some(tg.into()),
                container_name: Some("web".into()),
                container_port: Some(3000),
                ..Default::default()
            }],
            health_check_grace_period_seconds: Some(60),
            ..Default::default()
        });
        self.groups.push(group(
            "sg-lb",
            vec![sg_rule("tcp", Some(443), "0.0.0.0/0")],
            vec![sg_rule("-1", None, "0.0.0.0/0")],
        ));
        self.group_mut("sg-task").ingress = vec![sg_from_group(3000, "sg-lb")];
        self.load_balancing = vec![TargetGroupEvidence {
            arn: tg.into(),
            target_group: Fact::gathered(TargetGroup {
                name: "web".into(),
                protocol: Some("HTTP".into()),
                port: Some(3000),
                target_type: Some("ip".into()),
                health_check_port: Some("traffic-port".into()),
                health_check_path: Some("/health".into()),
                load_balancer_arns: vec![super::lb::LB.into()],
                ..Default::default()
            }),
            target_health: Fact::gathered(vec![TargetHealth {
                target_id: "10.0.1.25".into(),
                port: Some(3000),
                state: Some("healthy".into()),
                ..Default::default()
            }]),
            load_balancer_security_groups: Fact::gathered(vec!["sg-lb".into()]),
            load_balancers: Fact::gathered(vec![LoadBalancer {
                arn: super::lb::LB.into(),
                name: "web".into(),
                lb_type: Some("application".into()),
                scheme: Some("internet-facing".into()),
                security_groups: vec!["sg-lb".into()],
                subnet_ids: vec!["subnet-pub".into()],
            }]),
        }];
        self
    }

    pub fn group_mut(&mut self, id: &str) -> &mut SecurityGroup {
        self.groups
            .iter_mut()
            .find(|g| g.id == id)
            .expect("fixture group")
    }

    pub fn table_mut(&mut self, id: &str) -> &mut RouteTable {
        self.tables
            .iter_mut()
            .find(|t| t.id == id)
            .expect("fixture table")
    }

    pub fn endpoint_mut(&mut self, id: &str) -> &mut VpcEndpoint {
        self.endpoints
            .iter_mut()
            .find(|e| e.id == id)
            .expect("fixture endpoint")
    }

    pub fn ev(&self) -> Evidence {
        Evidence {
            region: REGION.into(),
            account: Some(ACCOUNT.into()),
            task: self.task.clone(),
            task_definition: Fact::gathered(self.td.clone()),
            network: Network {
                placement: Fact::gathered(self.placement.clone()),
                eni: Fact::absent("eni-0task no longer exists"),
                vpc: Fact::gathered(self.vpc.clone()),
                subnets: Fact::gathered(self.subnets.clone()),
                route_tables: Fact::gathered(self.tables.clone()),
                internet_gateways: Fact::gathered(self.igws.clone()),
                nat_gateways: Fact::gathered(self.nats.clone()),
                vpc_endpoints: Fact::gathered(self.endpoints.clone()),
                security_groups: Fact::gathered(self.groups.clone()),
                network_acls: Fact::gathered(self.acls.clone()),
                prefix_lists: Fact::gathered(self.prefix_lists.clone()),
            },
            efs: self.efs.clone(),
            task_role: self.task_role.clone(),
            service: match &self.service {
                Some(s) => Fact::gathered(s.clone()),
                None => Fact::not_applicable("the task was not started by a service"),
            },
            load_balancing: self.load_balancing.clone(),
            inputs: Inputs {
                from_cidr: self.from_cidr.clone(),
                log_lines: 20,
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

/// The file system of [`Fx::with_efs`].
pub const EFS_ID: &str = "fs-0123456789abcdef0";

/// The EFS mount helper timing out on NFS.
pub const EFS_TIMEOUT: &str = "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: mount.nfs4: Connection timed out : unsuccessful EFS utils command execution; code: 32";

/// A typical start-up failure on the network, naming the ECR API by host and public IP.
pub const ECR_API_TIMEOUT: &str = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post \"https://api.ecr.us-east-1.amazonaws.com/\": dial tcp 52.46.157.21:443: i/o timeout";
