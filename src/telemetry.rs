//! Structured logs through `tracing`, filtered by `--log` / `RUST_LOG`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber, logging to standard output; in colour only on a terminal, so
/// that a log file or the journal gets plain text. Calling it twice (as tests do) is harmless.
pub fn init(default_filter: &str) {
    let filter = filter(default_filter);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .try_init();
}

/// Logs to standard error: for commands whose standard output belongs to someone else (a mail
/// server's pipe).
pub fn init_stderr(default_filter: &str) {
    let filter = filter(default_filter);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .try_init();
}

/// `RUST_LOG`, else `default_filter`; never the HTML parser's own warnings.
///
/// html5ever (through the mail sanitiser) logs one warning per parse error of the HTML it
/// reads: a 160 KB mail of misplaced table tags wrote 20,002 lines. Those say nothing an
/// administrator can act on, and anyone who can send mail could fill the log with them.
fn filter(default_filter: &str) -> EnvFilter {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    ["html5ever=off", "markup5ever=off"]
        .into_iter()
        .filter_map(|directive| directive.parse().ok())
        .fold(filter, EnvFilter::add_directive)
}
