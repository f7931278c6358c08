//! The `frontdesk` binary: reads settings, sets up logging and runs the chosen subcommand.

use clap::Parser;

// sqlx's SQLite driver allocates per row on worker threads; glibc's allocator spends a fifth of
// a list page's time there under load (measured with perf), mimalloc a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use frontdesk::channels::email::pipe as ingest_mail;
use frontdesk::config::{Cli, Command};
use frontdesk::{seed, startup::Application, telemetry};

fn main() -> anyhow::Result<std::process::ExitCode> {
    // First thing, though not before the first allocation: Rust's runtime allocates before
    // `main`, so mimalloc has already reserved its arena (see `huge_pages`).
    huge_pages::hold_off();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            huge_pages::allow();
            telemetry::init(&cli.settings.log);
            runtime()?.block_on(async { anyhow::Ok(Application::build(cli.settings).await?.run().await?) })?;
        }
        Command::Seed(args) => {
            huge_pages::allow();
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

/// Transparent huge pages: the kernel zeroes a whole 2 MB page on the first touch of each, paid
/// once per piped mail by a one-message `ingest-mail` process. mimalloc is built not to ask for
/// them (its `no_thp` feature): on a kernel set to `madvise` it gets none, which saved about a
/// tenth of that process's CPU, and `serve` measured no slower without. On a kernel set to
/// `always` they come unasked, so they are held off as early as `main` can (not before the
/// first allocation: Rust's runtime allocates before `main`) and allowed again by the commands
/// that run long. Measured in benches/README.md.
mod huge_pages {
    pub fn hold_off() {
        #[cfg(target_os = "linux")]
        let _ = nix::sys::prctl::set_thp_disable(true);
    }

    pub fn allow() {
        #[cfg(target_os = "linux")]
        let _ = nix::sys::prctl::set_thp_disable(false);
    }
}
