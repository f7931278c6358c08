//! The WhatsApp channel. So far what goes out: a reply on a ticket that came in by WhatsApp is
//! queued as a WhatsApp delivery (`outgoing`). Receiving messages, the Cloud API sender and the
//! channel's settings come with the channel itself.

pub mod outgoing;
