//! The `frontdesk` binary: reads settings, sets up logging and runs the chosen subcommand.

use clap::Parser;

// sqlx's SQLite driver allocates per row on worker threads; glibc's allocator spends a fifth of
// a list page's time there under load (measured with perf), mimalloc a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use frontdesk::config::{Cli, Command};
use frontdesk::{seed, startup::Application, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(&cli.settings.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => Application::build(cli.settings).await?.run().await?,
        Command::Seed(args) => seed::run(&cli.settings, &args).await?,
    }
    Ok(())
}
