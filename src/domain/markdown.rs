//! Markdown as agents write it, turned into HTML that is safe to put on a page.
//!
//! `pulldown-cmark` renders the Markdown, raw HTML included (agents may want a `<kbd>` or a
//! table); `ammonia` then keeps only a safe subset: no `script`, `style` or `iframe` (nor their
//! content), no event-handler or `style` attributes, and links and images only to `http`,
//! `https`, `mailto` or relative addresses. Every link gets `rel="noopener noreferrer nofollow"`
//! so that an article cannot reach back into the Help Center's window or lend it search rank.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{html, Event, Options, Parser, TagEnd};

/// The sanitiser, built once: its allow-lists are the same for every article.
static SANITISER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder.url_schemes(HashSet::from(["http", "https", "mailto"])).link_rel(Some("noopener noreferrer nofollow"));
    builder
});

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_FOOTNOTES
}

/// Renders `markdown` as sanitised HTML.
#[must_use]
pub fn to_safe_html(markdown: &str) -> String {
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(markdown, options()));
    SANITISER.clean(&raw).to_string()
}

/// The words of `markdown` without its markup, whitespace folded: for excerpts in search
/// results and listings, which are shown as text (escaped), never as HTML.
#[must_use]
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item) => {
                out.push(' ');
            }
            // Raw HTML is markup, not words.
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::{plain_text, to_safe_html};

    #[test]
    fn markdown_becomes_html() {
        let html = to_safe_html("# Reset\n\nUse **Settings** then `Reset`.\n\n- one\n- two");
        assert!(html.contains("<h1>Reset</h1>"), "{html}");
        assert!(html.contains("<strong>Settings</strong>") && html.contains("<code>Reset</code>"), "{html}");
        assert!(html.contains("<li>one</li>"), "{html}");
    }

    #[test]
    fn scripts_are_removed_with_their_content() {
        for md in ["<script>alert(1)</script>", "text <script>alert(1)</script> more", "<SCRIPT SRC=//x.example/x.js>"]
        {
            let html = to_safe_html(md);
            assert!(!html.to_lowercase().contains("script"), "{md:?} gave {html}");
            assert!(!html.contains("alert(1)"), "{md:?} gave {html}");
        }
    }

    #[test]
    fn event_handlers_and_styles_are_removed() {
        let html = to_safe_html("<img src=x onerror=alert(1)> <p onclick=\"steal()\" style=\"position:fixed\">hi</p>");
        assert!(!html.contains("onerror") && !html.contains("onclick") && !html.contains("style"), "{html}");
        assert!(html.contains("hi"), "{html}");
    }

    #[test]
    fn javascript_and_data_urls_are_dropped_but_safe_links_kept() {
        for md in [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "![i](javascript:alert(1))",
            "[x](vbscript:msgbox)",
        ] {
            let html = to_safe_html(md);
            let lower = html.to_lowercase();
            assert!(
                !lower.contains("javascript:") && !lower.contains("data:") && !lower.contains("vbscript"),
                "{md:?} gave {html}"
            );
        }
        let html = to_safe_html("[docs](https://example.com/a) [mail](mailto:a@example.com) [rel](/help/articles/x)");
        assert!(html.contains("href=\"https://example.com/a\""), "{html}");
        assert!(html.contains("href=\"mailto:a@example.com\""), "{html}");
        assert!(html.contains("href=\"/help/articles/x\""), "{html}");
        assert_eq!(html.matches("rel=\"noopener noreferrer nofollow\"").count(), 3, "{html}");
    }

    #[test]
    fn raw_html_blocks_keep_only_safe_tags() {
        let md = "<div>\n<iframe src=\"https://evil.example\"></iframe>\n<style>body{display:none}</style>\n\
                  <form action=\"https://evil.example\"><input name=p></form>\n<object data=x></object>\n\
                  <kbd>Ctrl</kbd>\n</div>";
        let html = to_safe_html(md);
        for bad in ["iframe", "<style", "display:none", "<form", "<input", "<object"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains("<kbd>Ctrl</kbd>"), "{html}");
    }

    #[test]
    fn plain_text_drops_markup() {
        assert_eq!(
            plain_text("# Title\n\nSee [the **docs**](https://x.example) <b>now</b>."),
            "Title See the docs now."
        );
    }
}
