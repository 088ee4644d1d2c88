//! ecs-doctor: parse, run, map errors to exit codes. Everything else lives in
//! the modules below and in the `ecs-doctor-checks` crate.

mod app;
mod cli;
mod collect;
mod deployment;
mod error;
mod explain;
mod lambda;
mod mcp;
mod notify;
mod render;
mod runtime;
mod session;
mod sweep;
mod target;

/// This build's version: what a report and a saved bundle say made them.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

use std::process::ExitCode;

fn main() -> ExitCode {
    let result = if lambda::wanted() {
        lambda::run()
    } else {
        app::run(cli::parse())
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(err) => {
            let code = err
                .downcast_ref::<error::DoctorError>()
                .map(|e| e.exit_code())
                .unwrap_or(error::exit::CANNOT_RUN);
            eprintln!(
                "ecs-doctor: {}",
                ecs_doctor_checks::redact::redact(&format!("{err:#}"))
            );
            ExitCode::from(code as u8)
        }
    }
}
