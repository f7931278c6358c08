//! The `frontdesk` binary: reads settings, sets up logging and runs the chosen subcommand.

use clap::Parser;
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
