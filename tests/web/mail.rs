//! Reading the mail the app sent, as a mail client would: headers, the decoded body, the links.

use chrono::{Duration, Utc};
use frontdesk::services::deliveries;

use crate::helpers::{spawn_app_with, TestApp};
use crate::smtp_sink::{free_port, SmtpSink};

/// An app whose mail goes to a real SMTP sink; the test sends queued mail with [`deliver`].
pub async fn spawn_app_with_mail() -> (TestApp, SmtpSink) {
    spawn_app_with_mail_and(|_| {}).await
}

/// [`spawn_app_with_mail`] with more settings changed by `tweak`.
pub async fn spawn_app_with_mail_and(tweak: impl FnOnce(&mut frontdesk::config::Settings)) -> (TestApp, SmtpSink) {
    let port = free_port();
    let sink = SmtpSink::start(port).await;
    let app = spawn_app_with(|s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        s.mail_from = Some("support@frontdesk.test".into());
        s.outbox_interval = 3600; // the test sends queued mail itself
        s.mail_poll_interval = 3600; // and polls mailboxes itself
        tweak(s);
    })
    .await;
    (app, sink)
}

/// Runs one round of the outbox worker, as it would run in the background.
pub async fn deliver(app: &TestApp) -> u32 {
    let report =
        deliveries::send_due(&app.state.db, &app.state.mailer, Utc::now() + Duration::seconds(1)).await.expect("round");
    report.sent
}

/// One received message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub raw: String,
}

impl Mail {
    /// The value of header `name` (unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or_default().replace("\r\n ", " ").replace("\r\n\t", " ");
        let prefix = format!("{}:", name.to_ascii_lowercase());
        head.lines().find(|l| l.to_ascii_lowercase().starts_with(&prefix)).map(|l| l[prefix.len()..].trim().to_owned())
    }

    /// The recipient address.
    pub fn to(&self) -> String {
        self.header("To").unwrap_or_default()
    }

    /// The body, decoded from its transfer encoding.
    pub fn body(&self) -> String {
        let body = self.raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        match self.header("Content-Transfer-Encoding").map(|e| e.to_ascii_lowercase()).as_deref() {
            Some("quoted-printable") => decode_qp(body),
            Some("base64") => {
                use base64::Engine;
                let joined: String = body.split_whitespace().collect();
                String::from_utf8(base64::engine::general_purpose::STANDARD.decode(joined).expect("base64"))
                    .expect("utf8")
            }
            _ => body.to_owned(),
        }
    }

    /// The path of the first link in the body that starts with `prefix` (e.g. `/help/invitation/`).
    pub fn link(&self, prefix: &str) -> String {
        let body = self.body();
        let start = body.find(prefix).unwrap_or_else(|| panic!("no link {prefix} in {body}"));
        body[start..].split_whitespace().next().expect("link").to_owned()
    }
}

fn decode_qp(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() + 1 {
            if let Ok(b) =
                u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..(i + 3).min(bytes.len())]).unwrap_or(""), 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every message the sink received, delivering what is queued first.
pub async fn inbox(app: &TestApp, sink: &SmtpSink) -> Vec<Mail> {
    // A round sends a limited number of messages: go on until the outbox is drained.
    while deliver(app).await > 0 {}
    sink.messages().into_iter().map(|raw| Mail { raw }).collect()
}

/// The newest message to `address` whose text contains `text`.
pub async fn mail_to_saying(app: &TestApp, sink: &SmtpSink, address: &str, text: &str) -> Mail {
    let all = inbox(app, sink).await;
    all.iter()
        .rev()
        .find(|m| m.to().contains(address) && m.body().contains(text))
        .cloned()
        .unwrap_or_else(|| panic!("no mail to {address} saying {text:?} in {all:#?}"))
}

/// The newest message to `address` whose subject contains `subject`.
pub async fn last_mail_to(app: &TestApp, sink: &SmtpSink, address: &str, subject: &str) -> Mail {
    let all = inbox(app, sink).await;
    all.iter()
        .rev()
        .find(|m| m.to().contains(address) && m.header("Subject").unwrap_or_default().contains(subject))
        .cloned()
        .unwrap_or_else(|| panic!("no mail to {address} about {subject:?} in {all:#?}"))
}
