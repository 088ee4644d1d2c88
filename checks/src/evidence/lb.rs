//! The load balancer target groups the service registers the task with.

use super::Fact;
use serde::{Deserialize, Serialize};

/// A load balancer target group the service registers the task with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TargetGroupEvidence {
    pub arn: String,
    pub target_group: Fact<TargetGroup>,
    pub target_health: Fact<Vec<TargetHealth>>,
    /// Security groups of the load balancer(s) in front of the target group.
    pub load_balancer_security_groups: Fact<Vec<String>>,
    /// The load balancers in front of the target group: where the traffic
    /// to the task comes from (their security groups and subnets).
    #[serde(default)]
    pub load_balancers: Fact<Vec<LoadBalancer>>,
}

/// A load balancer, as `DescribeLoadBalancers` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LoadBalancer {
    pub arn: String,
    pub name: String,
    /// `application`, `network` or `gateway`.
    pub lb_type: Option<String>,
    /// `internet-facing` or `internal`.
    pub scheme: Option<String>,
    /// Empty for a Network Load Balancer created without security groups.
    pub security_groups: Vec<String>,
    /// The subnets its nodes sit in (one per enabled Availability Zone).
    pub subnet_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TargetGroup {
    pub name: String,
    pub protocol: Option<String>,
    pub port: Option<i32>,
    pub target_type: Option<String>,
    pub health_check_protocol: Option<String>,
    pub health_check_port: Option<String>,
    pub health_check_path: Option<String>,
    pub health_check_interval_seconds: Option<i32>,
    pub health_check_timeout_seconds: Option<i32>,
    pub healthy_threshold_count: Option<i32>,
    pub unhealthy_threshold_count: Option<i32>,
    pub matcher: Option<String>,
    pub load_balancer_arns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TargetHealth {
    pub target_id: String,
    pub port: Option<i32>,
    pub state: Option<String>,
    pub reason: Option<String>,
    pub description: Option<String>,
}
