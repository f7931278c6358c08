//! The HTML of an inbound mail, made safe to show inside the console and the Help Center.
//!
//! `ammonia` keeps a safe subset (no `script`, `style`, forms or frames, no event handlers, no
//! `style` attributes, so nothing can hide part of the message or dress up as our own page),
//! links only to `http`, `https` and `mailto`. Remote images are then turned into links, so a
//! tracking pixel loads only when someone clicks it; inline (`cid:`) and `data:` images are
//! dropped (the files are listed with the ticket's attachments). Quoted history
//! (`blockquote`) is folded into a `<details>` that opens on click, without JavaScript.

use std::collections::HashSet;
use std::sync::LazyLock;

static SANITISER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        // A relative link in a mail would point into Frontdesk itself.
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_clean_content_tags(["title"])
        // Only a bare <blockquote> is folded (see `fold_quotes`).
        .rm_tag_attributes("blockquote", &["cite"]);
    builder
});

/// `html` from a mail, safe to insert into a page.
#[must_use]
pub fn sanitise(html: &str) -> String {
    let clean = SANITISER.clean(html).to_string();
    fold_quotes(&images_as_links(&clean))
}

/// Rewrites every `<img …>` of ammonia's output into a link to the image. Its serialiser
/// double-quotes every attribute value and escapes `&`, `"`, `<` and `>` inside it, so `<img`
/// and `<blockquote>` can only be real tags; the label is escaped again all the same, so that
/// this stays safe whatever the serialiser does.
fn images_as_links(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<img") {
        out.push_str(&rest[..start]);
        let tag = &rest[start + 4..];
        let Some((attrs, consumed)) = attributes(tag) else {
            // Not a tag ammonia wrote: leave the text as it is.
            out.push_str("&lt;img");
            rest = tag;
            continue;
        };
        let get = |name: &str| attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        if let Some(src) = get("src").filter(|s| s.starts_with("http://") || s.starts_with("https://")) {
            let label =
                get("alt").filter(|a| !a.trim().is_empty()).map_or_else(String::new, |a| format!(": {}", escape(a)));
            out.push_str(&format!(
                "<a class=\"remote-image\" href=\"{}\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">Show image{label}</a>",
                escape(src)
            ));
        }
        rest = &tag[consumed..];
    }
    out.push_str(rest);
    out
}

/// `<`, `>` and `"` of an attribute value as character references (`&` is escaped already).
fn escape(value: &str) -> String {
    value.replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The `name="value"` pairs after `<img` up to the closing `>`, values left escaped as they
/// are; and how many bytes the tag took.
fn attributes(tag: &str) -> Option<(Vec<(String, String)>, usize)> {
    let mut attrs = Vec::new();
    let mut i = 0;
    let bytes = tag.as_bytes();
    loop {
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        match bytes.get(i)? {
            b'>' => return Some((attrs, i + 1)),
            b'/' if bytes.get(i + 1) == Some(&b'>') => return Some((attrs, i + 2)),
            _ => {}
        }
        let name_end = i + tag[i..].find(['=', '>', ' '])?;
        let name = tag[i..name_end].to_owned();
        if bytes.get(name_end) != Some(&b'=') {
            attrs.push((name, String::new()));
            i = name_end;
            continue;
        }
        if bytes.get(name_end + 1) != Some(&b'"') {
            // Not how ammonia writes attributes: give up on this tag (it is dropped).
            return None;
        }
        let value_start = name_end + 2;
        let value_end = value_start + tag[value_start..].find('"')?;
        attrs.push((name, tag[value_start..value_end].to_owned()));
        i = value_end + 1;
    }
}

fn fold_quotes(html: &str) -> String {
    html.replace("<blockquote>", "<details class=\"quoted\"><summary>Show quoted text</summary><blockquote>")
        .replace("</blockquote>", "</blockquote></details>")
}

/// A plain-text body split into what was written and the quoted history below it (the
/// "On … wrote:" line and the `>` lines), so the page can fold the history away.
#[must_use]
pub fn split_quoted(text: &str) -> (&str, Option<&str>) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        let intro = trimmed.starts_with("On ") && trimmed.ends_with("wrote:");
        let rule = trimmed.starts_with("-----Original Message-----");
        if intro || rule || trimmed.starts_with('>') {
            let written = text[..offset].trim_end();
            if !written.is_empty() {
                return (written, Some(&text[offset..]));
            }
            return (text, None);
        }
        offset += line.len();
    }
    (text, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_styles_and_handlers_are_gone() {
        let html = sanitise(
            "<style>p{display:none}</style><p style=\"display:none\" onclick=\"x()\">Hi</p><script>alert(1)</script>\
             <a href=\"javascript:alert(1)\">x</a><iframe src=\"https://evil\"></iframe>",
        );
        for bad in ["<script", "alert(1)", "style", "onclick", "javascript:", "iframe", "display:none"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains("<p>Hi</p>"), "{html}");
    }

    #[test]
    fn remote_images_become_links_and_inline_ones_go() {
        let html = sanitise(
            "<p>a<img src=\"https://t.example.com/p.gif?u=1&amp;x=2\" alt=\"logo\" width=\"1\">b<img src=\"cid:x@y\"><img src=\"data:image/png;base64,AAA\"></p>",
        );
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("<a class=\"remote-image\" href=\"https://t.example.com/p.gif?u=1&amp;x=2\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">Show image: logo</a>"),
            "{html}"
        );
        assert_eq!(html.matches("Show image").count(), 1, "{html}");
    }

    #[test]
    fn tags_inside_attribute_values_stay_text() {
        let html = sanitise(
            "<p title=\"<img src=x>\">a</p><p title='<blockquote><script>alert(1)</script>'>b</p>\
             <img src=\"https://t.example.com/a.gif\" alt='\"><script>alert(2)</script>'><a href=\"/agent/settings\">in</a>",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("alert(1)</script>\">") && !html.contains("<details"), "{html}");
        assert_eq!(html.matches("class=\"remote-image\"").count(), 1, "{html}");
        assert!(!html.contains("href=\"/agent"), "relative links are dropped: {html}");
    }

    #[test]
    fn a_blockquote_with_a_cite_is_folded_whole() {
        let html = sanitise("<blockquote cite=\"https://x.example\">old</blockquote>");
        assert_eq!(html.matches("<details").count(), html.matches("</details>").count(), "{html}");
    }

    #[test]
    fn quotes_are_folded() {
        let html = sanitise("<p>Thanks</p><blockquote>old</blockquote>");
        assert!(
            html.contains(
                "<details class=\"quoted\"><summary>Show quoted text</summary><blockquote>old</blockquote></details>"
            ),
            "{html}"
        );
    }

    #[test]
    fn splits_quoted_history_from_text() {
        let text = "Still broken.\n\nOn Mon, 1 Jan 2026, Support <s@x.com> wrote:\n> Try again\n";
        let (written, quoted) = split_quoted(text);
        assert_eq!(written, "Still broken.");
        assert!(quoted.unwrap().starts_with("On Mon"));
        assert_eq!(split_quoted("> only a quote\n"), ("> only a quote\n", None));
        assert_eq!(split_quoted("plain"), ("plain", None));
    }
}
