//! libfuzzer-sys aborts on every panic, even one the code under test catches on purpose (the
//! mail reader contains the parser's panics and quarantines the mail). With this hook instead,
//! a panic is one line on standard error; one that escapes the code under test still aborts in
//! libfuzzer-sys's wrapper, and is reported as a crash with that line before it.

/// Replaces libfuzzer-sys's aborting panic hook, once per process.
pub fn one_line_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}"))));
}
