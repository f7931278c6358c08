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
            runtime(true)?.block_on(async { anyhow::Ok(Application::build(cli.settings).await?.run().await?) })?;
        }
        Command::Seed(args) => {
            telemetry::init(&cli.settings.log);
            runtime(true)?.block_on(seed::run(&cli.settings, &args))?;
        }
        Command::IngestMail => {
            // Quiet unless something is wrong: the outcome line is printed anyway. One thread:
            // a mail server starts one process per message, and threads cost more than they
            // give for one message.
            telemetry::init_stderr("error");
            return Ok(runtime(false)?.block_on(ingest_mail::run(&cli.settings)));
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn runtime(threaded: bool) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = if threaded {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build()
}
