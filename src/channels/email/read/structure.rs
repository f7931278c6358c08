//! A mail's MIME structure, counted on its raw bytes before the parser builds it.
//!
//! mail-parser builds every part it finds and has no limit of its own: a 20 MB mail of 537,731
//! empty parts took 1.1 GB of memory to read. So the parts are counted first, as an upper
//! bound of what the parser would build, in one pass over the bytes and without building
//! anything:
//!
//! - a part that is a container (a multipart section, an attached message) needs a
//!   `Content-Type` header, so every such header line counts; each is read with mail-parser's
//!   own header parser, so a boundary is found exactly as the parser will find it
//!   (continuations, quoting, any case);
//! - every other part starts after a delimiter `--boundary`, which the parser finds anywhere
//!   (not only at the start of a line), so every occurrence of a declared boundary counts;
//! - an attached message sent base64 or quoted-printable encoded, which the parser decodes and
//!   reads again (three levels deep), is decoded here too and counted by the same rules.

use aho_corasick::AhoCorasick;
use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{MessageParser, MimeHeaders};

/// Most parts a mail may have, attached messages' parts included. Real mail has a few dozen
/// at most (a forwarded thread with every picture attached); the parser needs about 2 KB a
/// part, so this keeps a mail's structure to a few megabytes.
pub const MAX_PARTS: usize = 1_000;
/// Most containers (multipart sections and attached messages) a mail may have, which bounds
/// how deep its parts can nest.
pub const MAX_CONTAINERS: usize = 200;
/// How many times an encoded attached message is decoded and read again: mail-parser's own
/// limit.
const ENCODED_DEPTH: usize = 3;
/// Longest boundary looked for (RFC 2046 allows 70 characters); a longer one is looked for by
/// its start, which finds at least as many delimiters.
const MAX_BOUNDARY_LEN: usize = 200;

/// Why a mail's structure is not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TooComplex {
    #[error("It has more than 1,000 MIME parts, the most a mail may have.")]
    Parts,
    #[error("It has more than 200 multipart sections and attached messages, the most a mail may have.")]
    Containers,
}

/// Checks that `raw` stays within [`MAX_PARTS`] and [`MAX_CONTAINERS`].
///
/// # Errors
/// Which limit it passes.
pub fn check(raw: &[u8]) -> Result<(), TooComplex> {
    Count::default().scan(raw, ENCODED_DEPTH)
}

#[derive(Default)]
struct Count {
    parts: usize,
    containers: usize,
}

impl Count {
    fn part(&mut self) -> Result<(), TooComplex> {
        self.parts += 1;
        if self.parts > MAX_PARTS {
            return Err(TooComplex::Parts);
        }
        Ok(())
    }

    fn container(&mut self) -> Result<(), TooComplex> {
        self.containers += 1;
        if self.containers > MAX_CONTAINERS {
            return Err(TooComplex::Containers);
        }
        self.part()
    }

    fn scan(&mut self, raw: &[u8], depth: usize) -> Result<(), TooComplex> {
        let mut boundaries: Vec<Vec<u8>> = Vec::new();
        // Attached messages whose body the parser decodes first: where the body starts, how.
        let mut encoded: Vec<(usize, Encoding)> = Vec::new();
        for start in line_starts_with(raw, b"content-type") {
            let header = [header_at(raw, start), b"\r\n\r\n"].concat();
            let Some(parsed) = MessageParser::default().parse_headers(&header) else {
                continue;
            };
            let Some(content_type) = parsed.content_type() else { continue };
            match (content_type.ctype().to_ascii_lowercase().as_str(), content_type.subtype()) {
                ("multipart", _) => {
                    self.container()?;
                    if let Some(b) = content_type.attribute("boundary").filter(|b| !b.is_empty()) {
                        boundaries.push([b"--", &b.as_bytes()[..b.len().min(MAX_BOUNDARY_LEN)]].concat());
                    }
                }
                ("message", Some(sub)) if sub.eq_ignore_ascii_case("rfc822") || sub.eq_ignore_ascii_case("global") => {
                    self.container()?;
                    if let Some(found) = encoding_of_block(raw, start) {
                        encoded.push(found);
                    }
                }
                _ => self.part()?,
            }
        }
        if boundaries.is_empty() {
            return self.decode_and_scan(raw, &encoded, None, depth);
        }
        // A boundary set the matcher cannot build is no mail anyone sends.
        let delimiters = AhoCorasick::new(&boundaries).map_err(|_| TooComplex::Containers)?;
        for _ in delimiters.find_iter(raw) {
            self.part()?;
        }
        self.decode_and_scan(raw, &encoded, Some(&delimiters), depth)
    }

    /// Reads again what the parser would decode and read again: each encoded attached message,
    /// its body up to the next delimiter.
    fn decode_and_scan(
        &mut self,
        raw: &[u8],
        encoded: &[(usize, Encoding)],
        delimiters: Option<&AhoCorasick>,
        depth: usize,
    ) -> Result<(), TooComplex> {
        if depth == 0 {
            return Ok(());
        }
        for &(body_start, encoding) in encoded {
            let body = &raw[body_start..];
            let end = delimiters.and_then(|d| d.find(body)).map_or(body.len(), |m| m.start());
            let body = &body[..end];
            let decoded = match encoding {
                Encoding::Base64 => {
                    let clean: Vec<u8> =
                        body.iter().copied().filter(|b| b.is_ascii_alphanumeric() || b"+/=".contains(b)).collect();
                    base64_decode(&clean)
                }
                Encoding::QuotedPrintable => quoted_printable_decode(body),
            };
            if let Some(decoded) = decoded {
                self.scan(&decoded, depth - 1)?;
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug)]
enum Encoding {
    Base64,
    QuotedPrintable,
}

/// The offsets of the lines of `raw` that start with `prefix` (ASCII, any case).
fn line_starts_with<'a>(raw: &'a [u8], prefix: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', raw).map(|i| i + 1))
        .filter(move |&i| raw.get(i..i + prefix.len()).is_some_and(|s| s.eq_ignore_ascii_case(prefix)))
}

/// The header starting at `start`, with its folded continuation lines.
fn header_at(raw: &[u8], start: usize) -> &[u8] {
    let mut end = start;
    loop {
        match memchr::memchr(b'\n', &raw[end..]) {
            Some(i) if raw.get(end + i + 1).is_some_and(|b| *b == b' ' || *b == b'\t') => end += i + 1,
            Some(i) => return &raw[start..end + i],
            None => return &raw[start..],
        }
    }
}

/// The Content-Transfer-Encoding of the header block around `at`, when it is one the parser
/// decodes, and where the block's body starts.
fn encoding_of_block(raw: &[u8], at: usize) -> Option<(usize, Encoding)> {
    let block_start = [&b"\n\r\n"[..], b"\n\n"]
        .iter()
        .filter_map(|blank| memchr::memmem::rfind(&raw[..at], blank).map(|i| i + blank.len()))
        .max()
        .unwrap_or(0);
    let (block_end, body_start) = [&b"\r\n\r\n"[..], b"\n\n"]
        .iter()
        .filter_map(|blank| memchr::memmem::find(&raw[at..], blank).map(|i| (at + i, at + i + blank.len())))
        .min()?;
    let block = &raw[block_start..block_end];
    let encoding = line_starts_with(block, b"content-transfer-encoding").find_map(|i| {
        let value = header_at(block, i).splitn(2, |b| *b == b':').nth(1)?.trim_ascii();
        if value.eq_ignore_ascii_case(b"base64") {
            Some(Encoding::Base64)
        } else if value.eq_ignore_ascii_case(b"quoted-printable") {
            Some(Encoding::QuotedPrintable)
        } else {
            None
        }
    })?;
    Some((body_start, encoding))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn multipart(parts: usize) -> Vec<u8> {
        let mut raw = b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n".to_vec();
        for i in 0..parts {
            raw.extend_from_slice(format!("--b1\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n").as_bytes());
        }
        raw.extend_from_slice(b"--b1--\r\n");
        raw
    }

    #[test]
    fn ordinary_mail_passes() {
        assert_eq!(check(b"From: a@example.com\r\nSubject: x\r\n\r\nHello\r\n"), Ok(()));
        assert_eq!(check(&multipart(40)), Ok(()));
    }

    #[test]
    fn too_many_parts_are_refused() {
        assert_eq!(check(&multipart(600)), Err(TooComplex::Parts));
        // Parts without a header of their own count by their delimiters, found anywhere.
        let mut raw =
            b"From: a@example.com\r\nContent-Type: multipart/mixed;\r\n boundary*0=\"x\"; boundary*1=\"y\"\r\n\r\n"
                .to_vec();
        raw.extend(b"--xy\r\n\r\n.".repeat(1_500));
        assert_eq!(check(&raw), Err(TooComplex::Parts));
    }

    #[test]
    fn deep_nesting_of_attached_messages_is_refused() {
        let raw = [&b"From: a@example.com\r\n"[..], &b"Content-Type: message/rfc822\r\n\r\n".repeat(300)].concat();
        assert_eq!(check(&raw), Err(TooComplex::Containers));
    }

    #[test]
    fn parts_inside_a_base64_attached_message_count() {
        use base64::Engine;
        let inner = base64::engine::general_purpose::STANDARD.encode(multipart(1_200));
        let wrapped: Vec<u8> = inner.as_bytes().chunks(76).flat_map(|l| [l, b"\r\n"].concat()).collect();
        let raw = [
            &b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\n\
               Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"[..],
            &wrapped,
            b"--outer--\r\n",
        ]
        .concat();
        assert_eq!(check(&raw), Err(TooComplex::Parts));
    }
}
