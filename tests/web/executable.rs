//! How the `frontdesk` executable is linked: position-independent, so that address space
//! randomisation moves its own code too, unless built with the `fixed-address` feature.

/// The ELF header's object file type (`e_type`, bytes 16 and 17): 2 for an executable at a
/// fixed address (`ET_EXEC`), 3 for a position-independent one (`ET_DYN`).
#[cfg(target_os = "linux")]
fn elf_type(path: &str) -> u16 {
    let bytes = std::fs::read(path).expect("the frontdesk executable");
    assert_eq!(&bytes[..4], b"\x7fELF", "{path} is not an ELF file");
    // x86-64 and aarch64 Linux are little-endian (EI_DATA, byte 5, is 1).
    assert_eq!(bytes[5], 1, "a big-endian executable");
    u16::from_le_bytes([bytes[16], bytes[17]])
}

#[cfg(target_os = "linux")]
#[test]
fn the_server_is_a_position_independent_executable_unless_built_for_a_fixed_address() {
    let expected = if cfg!(feature = "fixed-address") { 2 } else { 3 };
    assert_eq!(elf_type(env!("CARGO_BIN_EXE_frontdesk")), expected);
}
