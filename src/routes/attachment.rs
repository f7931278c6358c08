//! Sending a stored file: always as a download (`Content-Disposition: attachment`), never
//! sniffed, never allowed to run anything, whatever the sender claimed it was.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType, ExtendedValue};
use actix_web::HttpResponse;

use crate::services::tickets::files::{safe_content_type, Download};

/// The response that downloads `file`.
#[must_use]
pub fn download(file: Download) -> HttpResponse {
    let ascii: String =
        file.filename.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' }).collect::<String>();
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: actix_web::http::header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: file.filename.clone().into_bytes(),
            }),
        ],
    };
    HttpResponse::Ok()
        .content_type(safe_content_type(&file.content_type))
        .insert_header(disposition)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Security-Policy", "default-src 'none'; sandbox"))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(file.data)
}
