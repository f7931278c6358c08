//! libfuzzer-sys aborts on every panic, even one the code under test catches on purpose (the
//! mail reader contains the parser's panics and quarantines the mail). With the default hook
//! back, a caught panic is just a message; one that escapes still aborts in libfuzzer-sys's
//! wrapper, and is reported as a crash.

/// Puts the default panic hook back, once per process.
pub fn restore_default() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| drop(std::panic::take_hook()));
}
