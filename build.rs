//! Links `frontdesk` at a fixed address on Linux when the `fixed-address` feature is on (it is
//! a position-independent executable by default); and, with glibc, links the unwinder
//! (`libgcc_eh`) in statically instead of loading `libgcc_s.so`.
//!
//! Position-independent is the default because `frontdesk` serves a network: at a fixed
//! address its own code (and the SQLite and other C code linked into it) sits at the same
//! address in every process of every install of a build, so an exploit of a memory bug there
//! can reuse it without first leaking an address; address space randomisation then covers only
//! the shared libraries, heap and stack. What the fixed address buys is start-up time for the
//! one-process-per-message pipe (`frontdesk ingest-mail`): a position-independent `frontdesk`
//! spends about half its start-up in the dynamic loader patching 64,000 pointers (each patched
//! page a copy-on-write fault), and at a fixed address there is nothing to patch: 1.0 against
//! 1.8 ms of CPU per process, 500 against 400 piped messages/s on a 2-core VM
//! (benches/README.md). A site that pipes a lot of mail and accepts that trade builds with
//! `cargo build --release --features fixed-address`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if linux && std::env::var_os("CARGO_FEATURE_FIXED_ADDRESS").is_some() {
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
