//! Links the `frontdesk` executable at a fixed address on Linux instead of as a
//! position-independent executable, unless the `pie` feature is on.
//!
//! Why: a mail server's pipe transport starts one `frontdesk ingest-mail` per message, and a
//! position-independent `frontdesk` spends half its start-up in the dynamic loader patching
//! 64,000 pointers (each patched page a copy-on-write fault). At a fixed address there is
//! nothing to patch: 1.0 against 1.8 ms of CPU per process, 400 against 500 piped messages/s
//! (benches/README.md). The cost is that the executable's own code is not moved by address
//! space randomisation (libraries, heap and stack still are), the same trade Go makes by
//! default; `cargo build --release --features pie` when a hardening policy wants PIE.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if linux && std::env::var_os("CARGO_FEATURE_PIE").is_none() {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
