//! Mail: reading what comes in (`inbound`); for what goes out, a durable outbox in the
//! database and the worker that sends it over SMTP.

pub mod imap;
pub mod inbound;
pub mod messages;
pub mod outbox;
pub mod sender;

pub use outbox::{enqueue, enqueue_many, send_due, OutgoingMail, SendReport};
pub use sender::Mailer;
