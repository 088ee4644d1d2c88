use super::Renderer;
use ecs_doctor_checks::Report;

/// The public JSON contract (`schema_version` 1).
pub struct JsonRenderer;

impl Renderer for JsonRenderer {
    fn render(&self, report: &Report) -> String {
        let mut out = serde_json::to_string_pretty(report).expect("report serialises");
        out.push('\n');
        out
    }
}
