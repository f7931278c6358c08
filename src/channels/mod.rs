//! The ways customers reach the desk, one folder each. A channel reads what arrives in its own
//! format and hands it to the channel-neutral use-cases in `services`; it also sends what the
//! desk answers. Email is the first (`email`); WhatsApp (`whatsapp`) is on its way.

pub mod email;
pub mod whatsapp;
