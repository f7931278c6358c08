//! Turning an outbox row into a MIME message and handing it to the SMTP server (lettre).

use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Settings;
use crate::entities::outbox::{self, DeliveryChannel};
use crate::services::deliveries::Sender;

/// The SMTP connection settings and the From address. Without an SMTP URL nothing is sent and
/// mail stays queued.
#[derive(Clone)]
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    /// The domain of our Message-IDs.
    pub domain: String,
}

impl Mailer {
    /// The mailer the settings describe.
    ///
    /// # Errors
    /// A malformed SMTP URL or From address.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let base = settings.base_url.clone().unwrap_or_else(|| format!("http://{}", settings.listen));
        let host =
            base.split("://").nth(1).unwrap_or("localhost").split(['/', ':']).next().unwrap_or("localhost").to_owned();
        let from_text = settings.mail_from.clone().unwrap_or_else(|| format!("support@{host}"));
        let from: Mailbox = from_text
            .parse()
            .or_else(|_| "support@localhost".parse())
            .map_err(|e| anyhow::anyhow!("FRONTDESK_MAIL_FROM {from_text:?} is not an address: {e}"))?;
        let transport = match &settings.smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("FRONTDESK_SMTP_URL is not usable: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(20)))
                    .build(),
            ),
            None => None,
        };
        let domain = from.email.domain().to_owned();
        Ok(Self { transport, from, domain })
    }

    /// The default From address, lowercased.
    #[must_use]
    pub fn from_address(&self) -> String {
        self.from.email.to_string().to_lowercase()
    }
}

/// Mail's way out of the outbox.
impl Sender for Mailer {
    fn channel(&self) -> DeliveryChannel {
        DeliveryChannel::Email
    }

    /// Whether mail can be sent at all.
    fn configured(&self) -> bool {
        self.transport.is_some()
    }

    /// Sends one queued message; the error is the reason it could not be built or the server
    /// refused it.
    async fn send(&self, row: &outbox::Model) -> anyhow::Result<()> {
        let Some(transport) = &self.transport else { anyhow::bail!("no SMTP server is configured") };
        let to = Mailbox::new(row.to_name.clone(), row.to_address.parse()?);
        let from = match row.from_address.as_deref().map(str::parse) {
            Some(Ok(address)) => Mailbox::new(self.from.name.clone(), address),
            _ => self.from.clone(),
        };
        let mut builder = Message::builder()
            .from(from)
            .to(to)
            .subject(row.subject.clone())
            .message_id(Some(format!("<{}>", row.message_id)))
            .header(ContentType::TEXT_PLAIN);
        if let Some(parent) = &row.in_reply_to {
            builder = builder.in_reply_to(format!("<{parent}>"));
        }
        if let Some(references) = &row.references {
            builder = builder.references(references.clone());
        }
        transport.send(builder.body(row.body_text.clone())?).await?;
        Ok(())
    }
}
