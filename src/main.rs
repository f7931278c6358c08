//! The `frontdesk` binary: reads settings, sets up logging and runs the chosen subcommand.

use clap::Parser;

// sqlx's SQLite driver allocates per row on worker threads; glibc's allocator spends a fifth of
// a list page's time there under load (measured with perf), mimalloc a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use frontdesk::config::{Cli, Command};
use frontdesk::{ingest_mail, seed, startup::Application, telemetry};

fn main() -> anyhow::Result<std::process::ExitCode> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            telemetry::init(&cli.settings.log);
            runtime()?.block_on(async { anyhow::Ok(Application::build(cli.settings).await?.run().await?) })?;
        }
        Command::Seed(args) => {
            telemetry::init(&cli.settings.log);
            runtime()?.block_on(seed::run(&cli.settings, &args))?;
        }
        Command::IngestMail => return Ok(ingest_mail::run(&cli.settings)),
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()
}
