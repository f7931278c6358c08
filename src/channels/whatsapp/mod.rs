//! The WhatsApp channel, through Meta's WhatsApp Business Cloud API: the client of the API
//! (`api`), the connected numbers (`numbers`, Settings → Channels → WhatsApp), a ticket's
//! conversation and its 24-hour window (`conversations`), what goes out (`outgoing`, sent by
//! `sender` through the outbox) and the states Meta reports back (`statuses`); what Meta posts
//! to a number's Callback URL (`webhook`), the messages that come in (`inbound`) and the
//! worker that fetches their files (`media`).

pub mod api;
pub mod conversations;
pub mod inbound;
pub mod media;
pub mod numbers;
pub mod outgoing;
pub mod sender;
pub mod statuses;
pub mod webhook;
