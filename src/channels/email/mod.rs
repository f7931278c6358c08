//! The email channel, all of it: reading a message (`read`), storing it as a ticket or a thread
//! entry (`ingest`, with `threading` and the `quarantine` inside), the ways mail comes in (the
//! IMAP poller in `poll` over `imap`, the support mailboxes it polls in `mailboxes`, and
//! `frontdesk ingest-mail` in `pipe`), and what goes out: the texts (`messages`), the rows it
//! queues in the outbox (`outgoing`) and the SMTP sender.

pub mod imap;
pub mod ingest;
pub mod mailboxes;
pub mod messages;
pub mod outgoing;
pub mod pipe;
pub mod poll;
pub mod read;
pub mod sender;

pub use outgoing::{enqueue, enqueue_many, OutgoingMail};
pub use sender::Mailer;
