//! The WhatsApp Cloud API (Meta's Graph API), as Frontdesk calls it: send a message, read a
//! number's details (Test connection), read the templates (every page), fetch media (two
//! steps). Every call carries the number's Access Token; every answer is read up to a bound,
//! and an error answer becomes an [`ApiError`] whose [`ErrorKind`] says what the help desk does
//! about it (the table in `whatsapp-cloud-api.md` of the design notes).

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

mod errors;

use errors::error_answer;
pub use errors::{ApiError, ErrorKind};

/// The most bytes read of an API answer (a page of templates is the largest, well under it).
const MAX_ANSWER: usize = 2 * 1024 * 1024;
/// The most template pages read in one sync (100 templates a page).
const MAX_TEMPLATE_PAGES: usize = 50;

/// A client of the Cloud API at one base URL (`FRONTDESK_WHATSAPP_API_URL`).
#[derive(Clone, Debug)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

/// What a call needs to know of the connected number.
#[derive(Clone, Copy, Debug)]
pub struct Credentials<'a> {
    /// The Graph API version, the first path segment (`v23.0`).
    pub version: &'a str,
    pub phone_number_id: &'a str,
    pub waba_id: &'a str,
    pub token: &'a str,
}

/// Meta accepted a message for sending (not delivered yet: statuses say that later).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub wamid: String,
    /// The recipient's WhatsApp id, when Meta gave one.
    pub wa_id: Option<String>,
}

/// A number's details, as Meta has them.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct NumberInfo {
    #[serde(default)]
    pub display_phone_number: Option<String>,
    #[serde(default)]
    pub verified_name: Option<String>,
    #[serde(default)]
    pub quality_rating: Option<String>,
}

/// A message template, as Meta describes it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Template {
    pub name: String,
    pub language: String,
    pub status: String,
    #[serde(default)]
    pub category: String,
    #[serde(default = "positional")]
    pub parameter_format: String,
    #[serde(default)]
    pub components: Value,
}

fn positional() -> String {
    "POSITIONAL".to_owned()
}

/// Media fetched from the API.
#[derive(Clone, Debug)]
pub struct Media {
    pub bytes: Vec<u8>,
    pub mime_type: String,
}

#[derive(Deserialize)]
struct SendAnswer {
    #[serde(default)]
    contacts: Vec<SendContact>,
    #[serde(default)]
    messages: Vec<SendMessage>,
}

#[derive(Deserialize)]
struct SendContact {
    #[serde(default)]
    wa_id: Option<String>,
}

#[derive(Deserialize)]
struct SendMessage {
    id: String,
}

#[derive(Deserialize)]
struct TemplatePage {
    #[serde(default)]
    data: Vec<Template>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct Paging {
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
struct MediaInfo {
    url: String,
    #[serde(default)]
    mime_type: Option<String>,
}

impl Api {
    /// A client for the API at `base_url` (`https://graph.facebook.com`).
    ///
    /// # Errors
    /// When the HTTP client cannot be built (no TLS roots).
    pub fn new(base_url: &str) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            // Answers are read as they are: a redirect would carry the token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Frontdesk/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, base: base_url.trim_end_matches('/').to_owned() })
    }

    fn url(&self, c: &Credentials<'_>, path: &str) -> String {
        format!("{}/{}/{}", self.base, c.version, path)
    }

    /// Sends `message` (the Cloud API's message object) from the number.
    ///
    /// # Errors
    /// What Meta answered, or that it could not be reached.
    pub async fn send(&self, c: &Credentials<'_>, message: &Value) -> Result<Accepted, ApiError> {
        let url = self.url(c, &format!("{}/messages", c.phone_number_id));
        let answer: SendAnswer = self.call(self.http.post(url).bearer_auth(c.token).json(message)).await?;
        let wamid = answer
            .messages
            .into_iter()
            .next()
            .map(|m| m.id)
            .ok_or_else(|| ApiError::unavailable("WhatsApp accepted the message but gave no id"))?;
        Ok(Accepted { wamid, wa_id: answer.contacts.into_iter().next().and_then(|c| c.wa_id) })
    }

    /// The number's display number, name and quality: Test connection.
    ///
    /// # Errors
    /// What Meta answered, or that it could not be reached.
    pub async fn number(&self, c: &Credentials<'_>) -> Result<NumberInfo, ApiError> {
        let url = self.url(c, c.phone_number_id);
        let query = [("fields", "display_phone_number,verified_name,quality_rating")];
        self.call(self.http.get(url).bearer_auth(c.token).query(&query)).await
    }

    /// Every template of the business account, following `paging.next` to the last page.
    ///
    /// # Errors
    /// What Meta answered, or that it could not be reached.
    pub async fn templates(&self, c: &Credentials<'_>) -> Result<Vec<Template>, ApiError> {
        let first = self.url(c, &format!("{}/message_templates", c.waba_id));
        let mut request = self.http.get(first).query(&[("limit", "100")]);
        let mut all = Vec::new();
        for _ in 0..MAX_TEMPLATE_PAGES {
            let page: TemplatePage = self.call(request.bearer_auth(c.token)).await?;
            all.extend(page.data);
            // Only a next page on the API itself: the token goes nowhere else.
            match page.paging.and_then(|p| p.next).filter(|next| next.starts_with(&format!("{}/", self.base))) {
                Some(next) => request = self.http.get(next),
                None => return Ok(all),
            }
        }
        Ok(all)
    }

    /// The media `media_id`, at most `max_bytes`: its URL first, then its bytes, both with the
    /// token.
    ///
    /// # Errors
    /// What Meta answered, that it could not be reached, or that the file is larger than
    /// `max_bytes` (an error of kind `Media`).
    pub async fn media(&self, c: &Credentials<'_>, media_id: &str, max_bytes: usize) -> Result<Media, ApiError> {
        let info: MediaInfo = self.call(self.http.get(self.url(c, media_id)).bearer_auth(c.token)).await?;
        if !(info.url.starts_with("https://") || info.url.starts_with(&format!("{}/", self.base))) {
            return Err(ApiError { kind: ErrorKind::Media, code: None, message: "the media URL is not HTTPS".into() });
        }
        let response = self.http.get(&info.url).bearer_auth(c.token).send().await.map_err(unreachable)?;
        let status = response.status();
        let bytes = read_capped(response, max_bytes.max(MAX_ANSWER)).await?;
        if !status.is_success() {
            return Err(error_answer(status, &bytes));
        }
        if bytes.len() > max_bytes {
            let message = format!("the file is larger than {} MB", max_bytes / (1024 * 1024));
            return Err(ApiError { kind: ErrorKind::Media, code: None, message });
        }
        let mime_type = info.mime_type.unwrap_or_else(|| "application/octet-stream".to_owned());
        Ok(Media { bytes, mime_type })
    }

    async fn call<T: for<'de> Deserialize<'de>>(&self, request: reqwest::RequestBuilder) -> Result<T, ApiError> {
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let bytes = read_capped(response, MAX_ANSWER).await?;
        if !status.is_success() {
            return Err(error_answer(status, &bytes));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::unavailable(format!("WhatsApp answered unexpectedly: {e}")))
    }
}

fn unreachable(e: reqwest::Error) -> ApiError {
    let what = if e.is_timeout() { "WhatsApp did not answer in time" } else { "WhatsApp could not be reached" };
    ApiError::unavailable(format!("{what}: {e}"))
}

/// The answer's body, refusing one longer than `cap` (past it, the connection is dropped).
async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, ApiError> {
    if response.content_length().is_some_and(|n| n > cap as u64 + 1) {
        return Err(ApiError { kind: ErrorKind::Media, code: None, message: "the answer is too large".into() });
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        if bytes.len() + chunk.len() > cap + 1 {
            return Err(ApiError { kind: ErrorKind::Media, code: None, message: "the answer is too large".into() });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
