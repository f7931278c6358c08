//! Links the `frontdesk` executable at a fixed address on Linux instead of as a
//! position-independent executable, unless the `pie` feature is on; and, with glibc, links the
//! unwinder (`libgcc_eh`) in statically instead of loading `libgcc_s.so`.
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
    // Rust's standard library asks for `libgcc_s.so` for unwinding. Loading it, and its
    // constructor, which reads the CPU's features with a dozen CPUID instructions (each one a
    // trip to the hypervisor in a virtual machine, 6 microseconds on the test VM), cost each
    // `ingest-mail` process about a tenth of its start-up (benches/README.md). With the static
    // unwinder named first the linker resolves the unwinding functions from it, and drops the
    // shared library as not needed (rustc links with `--as-needed`). Panics still unwind; the
    // mail reader relies on that to quarantine a message the MIME parser chokes on.
    if linux && std::env::var("CARGO_CFG_TARGET_ENV").is_ok_and(|env| env == "gnu") {
        println!("cargo:rustc-link-lib=static:-bundle=gcc_eh");
    }
}
