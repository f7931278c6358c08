//! The WhatsApp channel, through Meta's WhatsApp Business Cloud API: the client of the API
//! (`api`), the connected numbers (`numbers`, Settings → Channels → WhatsApp, with its Test
//! connection and Sync templates in `connection`), their message templates (`templates`), a ticket's
//! conversation and its 24-hour window (`conversations`), what goes out (`outgoing`, sent by
//! `sender` through the outbox), the states Meta reports back (`statuses`), what Meta posts to a
//! number's Callback URL (`webhook`), the messages that come in (`inbound`) and the worker that
//! fetches their files (`media`), and the console's Send WhatsApp Message (`send`) and opt-ins
//! (`opt_ins`).

pub mod api;
pub mod connection;
pub mod conversations;
pub mod inbound;
pub mod media;
pub mod numbers;
pub mod opt_ins;
pub mod outgoing;
pub mod send;
pub mod sender;
pub mod statuses;
pub mod templates;
pub mod webhook;
