use super::Renderer;
use ecs_doctor_checks::sweep::deployment::DeploymentReport;
use ecs_doctor_checks::sweep::{ClusterReport, ServiceReport};
use ecs_doctor_checks::Report;

/// The public JSON contract (`schema_version` 1).
pub struct JsonRenderer;

impl Renderer for JsonRenderer {
    fn render(&self, report: &Report) -> String {
        pretty(report)
    }
    fn service(&self, report: &ServiceReport) -> String {
        pretty(report)
    }
    fn cluster(&self, report: &ClusterReport) -> String {
        pretty(report)
    }
    fn deployment(&self, report: &DeploymentReport) -> String {
        pretty(report)
    }
}

fn pretty(value: &impl serde::Serialize) -> String {
    let mut out = serde_json::to_string_pretty(value).expect("report serialises");
    out.push('\n');
    out
}
