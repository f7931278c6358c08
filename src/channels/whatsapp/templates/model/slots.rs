//! The values a send gives besides text placeholders: the file of a media header (IMAGE, VIDEO,
//! DOCUMENT), given as an `https://` link the Cloud API fetches, with a document's file name; the
//! place of a LOCATION header; and the code of a COPY_CODE button. Each is one form field, checked
//! here and turned into its part of the Cloud API's `template` object.
//!
//! A file is sent by link, not uploaded: Frontdesk then never holds it, and the agent gives the
//! link of a file that is already published (an invoice in the shop, a product photo). The link
//! must be `https://` (Meta fetches it; a page of ours shows it only as a link, never embeds it).

use serde_json::{json, Value};
use url::Url;

/// The longest link to a header's file kept (the longest URL browsers and CDNs reliably take).
pub const LINK_MAX: usize = 2048;
/// The longest file name of a document (as an uploaded file's name is kept).
const FILENAME_MAX: usize = 150;
/// The longest coupon code (Meta's limit for a copy-code button).
pub const CODE_MAX: usize = 15;
/// The longest name or address of a place.
const PLACE_MAX: usize = 256;

/// What a media header carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Image,
    Video,
    Document,
}

impl FileKind {
    /// From Meta's header `format`.
    #[must_use]
    pub fn from_format(format: &str) -> Option<Self> {
        match format {
            "IMAGE" => Some(Self::Image),
            "VIDEO" => Some(Self::Video),
            "DOCUMENT" => Some(Self::Document),
            _ => None,
        }
    }

    /// Its word in the Cloud API (`image`), which is also the key of its object.
    #[must_use]
    pub fn api(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Document => "document",
        }
    }

    /// Its word for an agent (`Image`).
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            Self::Image => "Image",
            Self::Video => "Video",
            Self::Document => "Document",
        }
    }
}

/// A header that is not text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderMedia {
    /// A file, with the example Meta stored with the template (`example.header_handle`), when
    /// there is one.
    File { kind: FileKind, example: Option<String> },
    /// A map pin: the place is given at each send.
    Location,
}

/// One value a send gives that is not a text placeholder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The link of the header's file.
    Link(FileKind),
    /// A document's file name, as the customer sees it (optional).
    Filename,
    Latitude,
    Longitude,
    /// The place's name and address (optional).
    PlaceName,
    PlaceAddress,
    /// A copy-code button's code, by the button's position among the template's buttons.
    Code(usize),
}

impl Slot {
    /// Its form field's name: `header_link`, `button1_code`.
    #[must_use]
    pub fn field(self) -> String {
        match self {
            Self::Link(_) => "header_link".into(),
            Self::Filename => "header_filename".into(),
            Self::Latitude => "header_latitude".into(),
            Self::Longitude => "header_longitude".into(),
            Self::PlaceName => "header_place_name".into(),
            Self::PlaceAddress => "header_place_address".into(),
            Self::Code(i) => format!("button{i}_code"),
        }
    }

    /// Its label: `Image link`, `Button 2 code`.
    #[must_use]
    pub fn label(self) -> String {
        match self {
            Self::Link(kind) => format!("{} link", kind.word()),
            Self::Filename => "File name".into(),
            Self::Latitude => "Latitude".into(),
            Self::Longitude => "Longitude".into(),
            Self::PlaceName => "Place name".into(),
            Self::PlaceAddress => "Place address".into(),
            Self::Code(i) => format!("Button {} code", i + 1),
        }
    }

    /// Whether a send must give it.
    #[must_use]
    pub fn required(self) -> bool {
        !matches!(self, Self::Filename | Self::PlaceName | Self::PlaceAddress)
    }

    /// The HTML input type of its field.
    #[must_use]
    pub fn input_type(self) -> &'static str {
        match self {
            Self::Link(_) => "url",
            _ => "text",
        }
    }

    /// What the agent reads under its field.
    #[must_use]
    pub fn hint(self) -> String {
        match self {
            Self::Link(kind) => format!(
                "An https:// link to the {}, which WhatsApp fetches when it sends the message.",
                kind.word().to_lowercase()
            ),
            Self::Filename => "Optional: the name the customer sees, with its extension (invoice.pdf).".into(),
            Self::Latitude | Self::Longitude => "In decimal degrees (51.5072).".into(),
            Self::PlaceName | Self::PlaceAddress => "Optional.".into(),
            Self::Code(_) => format!("The code the button copies: at most {CODE_MAX} characters."),
        }
    }

    /// What is wrong with `value` (trimmed, not empty), if anything.
    #[must_use]
    pub fn problem(self, value: &str) -> Option<String> {
        let too_long = |max: usize| (value.chars().count() > max).then(|| format!("Use at most {max} characters."));
        match self {
            Self::Link(_) => too_long(LINK_MAX).or_else(|| link_problem(value)),
            Self::Filename => too_long(FILENAME_MAX).or_else(|| {
                (crate::domain::upload::clean_filename(value, "") != value)
                    .then(|| "Use a plain file name: no folders, quotes, semicolons or control characters.".to_owned())
            }),
            Self::Latitude => degrees_problem(value, 90.0),
            Self::Longitude => degrees_problem(value, 180.0),
            Self::PlaceName | Self::PlaceAddress => too_long(PLACE_MAX).or_else(|| one_line(value)),
            Self::Code(_) => too_long(CODE_MAX).or_else(|| one_line(value)),
        }
    }
}

/// Why `value` is no link the Cloud API may fetch a file from: not an absolute `https://` URL
/// with a host, or with a user name or password in it, or with spaces.
fn link_problem(value: &str) -> Option<String> {
    let refused = || Some("Enter a link that starts with https://.".to_owned());
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("A link has no spaces: copy it again from the address bar.".to_owned());
    }
    let Ok(url) = Url::parse(value) else { return refused() };
    if url.scheme() != "https" || url.host_str().is_none_or(str::is_empty) {
        return refused();
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Some("Leave the user name and password out of the link.".to_owned());
    }
    None
}

/// Whether `value` is a usable link to a header's file.
#[must_use]
pub fn is_link(value: &str) -> bool {
    value.chars().count() <= LINK_MAX && link_problem(value).is_none()
}

/// Why `value` is no angle in decimal degrees between `-limit` and `limit`.
fn degrees_problem(value: &str, limit: f64) -> Option<String> {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    let plain = !digits.is_empty()
        && digits.len() <= 20
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1
        && !digits.starts_with('.')
        && !digits.ends_with('.');
    match value.parse::<f64>() {
        Ok(n) if plain && n.abs() <= limit => None,
        _ => Some(format!("Enter a number of degrees from -{limit} to {limit}.")),
    }
}

fn one_line(value: &str) -> Option<String> {
    value.contains(['\n', '\r', '\t']).then(|| "Keep it on one line.".to_owned())
}

/// The header component sending `media` with `value` (a slot's trimmed value by slot).
pub(super) fn header_component(media: &HeaderMedia, value: impl Fn(Slot) -> String) -> Value {
    let parameter = match media {
        HeaderMedia::File { kind, .. } => {
            let mut file = json!({"link": value(Slot::Link(*kind))});
            let filename = value(Slot::Filename);
            if *kind == FileKind::Document && !filename.is_empty() {
                file["filename"] = Value::String(filename);
            }
            json!({"type": kind.api(), kind.api(): file})
        }
        HeaderMedia::Location => {
            let mut place = json!({"latitude": value(Slot::Latitude), "longitude": value(Slot::Longitude)});
            for (key, slot) in [("name", Slot::PlaceName), ("address", Slot::PlaceAddress)] {
                let given = value(slot);
                if !given.is_empty() {
                    place[key] = Value::String(given);
                }
            }
            json!({"type": "location", "location": place})
        }
    };
    json!({"type": "header", "parameters": [parameter]})
}

/// The button component giving copy-code button `index` its `code`.
pub(super) fn code_component(index: usize, code: &str) -> Value {
    json!({"type": "button", "sub_type": "copy_code", "index": index.to_string(),
           "parameters": [{"type": "coupon_code", "coupon_code": code}]})
}

/// The header's line of the message as the customer will read it: `[Image: https://…]`.
pub(super) fn header_line(media: &HeaderMedia, value: impl Fn(Slot) -> String) -> String {
    match media {
        HeaderMedia::File { kind, .. } => {
            let link = value(Slot::Link(*kind));
            let link = if link.is_empty() { "(no link yet)".to_owned() } else { link };
            match value(Slot::Filename) {
                name if *kind == FileKind::Document && !name.is_empty() => format!("[{}: {name}, {link}]", kind.word()),
                _ => format!("[{}: {link}]", kind.word()),
            }
        }
        HeaderMedia::Location => format!("[Location: {}]", place(value)),
    }
}

/// A location header's place in words: `Head office, 1 Main St (51.5072, -0.1276)`.
pub(super) fn place(value: impl Fn(Slot) -> String) -> String {
    let words: Vec<String> =
        [Slot::PlaceName, Slot::PlaceAddress].into_iter().map(&value).filter(|v| !v.is_empty()).collect();
    let at = format!("{}, {}", value(Slot::Latitude), value(Slot::Longitude));
    if words.is_empty() {
        at
    } else {
        format!("{} ({at})", words.join(", "))
    }
}
