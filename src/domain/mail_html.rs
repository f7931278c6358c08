//! The HTML of an inbound mail, made safe to show inside the console and the Help Center.
//!
//! `ammonia` keeps a safe subset (no `script`, `style`, forms or frames, no event handlers, no
//! `style` attributes, so nothing can hide part of the message or dress up as our own page),
//! links only to `http`, `https` and `mailto`. Remote images are then turned into links, so a
//! tracking pixel loads only when someone clicks it; inline (`cid:`) and `data:` images are
//! dropped (the files are listed with the ticket's attachments). Quoted history (a
//! `blockquote`, or what follows the reply header of Outlook, Gmail, Yahoo or Thunderbird) is
//! folded into a `<details>` that opens on click, without JavaScript.
//!
//! The HTML parser's cost grows with the depth of nesting times the number of tags (its scope
//! checks walk the open elements): 100,000 nested `<div>` took 28 s of CPU. So HTML is
//! sanitised only when [`too_costly`] finds it within [`MAX_HTML_BYTES`] and [`MAX_DEPTH`];
//! past them the mail keeps its text part.

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

/// The most HTML sanitised; more is kept as the mail's text only. Newsletters run to a few
/// hundred kilobytes.
pub const MAX_HTML_BYTES: usize = 2 * 1024 * 1024;
/// The deepest nesting of elements sanitised. Real mail rarely nests past 50 (Outlook's tables
/// in tables).
pub const MAX_DEPTH: usize = 256;

/// Why `html` would cost too much to sanitise, if it would: over [`MAX_HTML_BYTES`], or nested
/// deeper than [`MAX_DEPTH`], or with more than [`MAX_FOSTERED`] misplaced table parts, as far as
/// [`shape`] can tell.
#[must_use]
pub fn too_costly(html: &str) -> Option<String> {
    if html.len() > MAX_HTML_BYTES {
        return Some(format!("its HTML is larger than {} KB", MAX_HTML_BYTES / 1024));
    }
    match shape(html, MAX_DEPTH, MAX_FOSTERED)? {
        Costly::Deep => Some(format!("its HTML nests elements deeper than {MAX_DEPTH}")),
        Costly::Fostered => Some(format!("its HTML has more than {MAX_FOSTERED} misplaced table parts")),
    }
}

/// Elements that never hold others.
const VOID: [&str; 14] =
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"];
/// Elements a parser closes by itself when the next one of the same kind starts.
const SELF_CLOSING_SIBLINGS: [&str; 9] = ["p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup"];
/// Elements that end the search for the element an end tag closes (the HTML parser's scope
/// boundaries): an end tag beyond one of them is ignored by the parser, so it is here too.
const SCOPE_BOUNDARIES: [&str; 12] =
    ["applet", "caption", "html", "table", "td", "th", "marquee", "object", "template", "svg", "math", "button"];

/// Most elements and runs of text the parser would have to move out of a table (foster
/// parenting): each move searches the table's siblings, so a mail of misplaced table content
/// costs time quadratic in their number (2 MB of `<b>x</b>` inside a `<table>` took 20 s).
/// Real mail has a handful.
pub const MAX_FOSTERED: usize = 500;

/// What makes HTML costly to parse, as far as [`shape`] could tell before giving up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Costly {
    /// Elements nest deeper than allowed.
    Deep,
    /// Too much content sits where a table allows none.
    Fostered,
}

/// Whether the elements of `html` nest deeper than `max_depth`, or more than `max_fostered`
/// elements and runs of text sit directly in a table, following the parser's rules closely
/// enough to never say less than it builds: an end tag closes only an element open within its
/// scope, and an element closed by a sibling is closed only when it is the innermost one (so
/// this may say more than the parser builds, never less). Linear in the length of `html` but for
/// the walk from an end tag to the nearest scope boundary, which `max_depth` bounds.
#[must_use]
pub fn shape(html: &str, max_depth: usize, max_fostered: usize) -> Option<Costly> {
    let bytes = html.as_bytes();
    // Each open element, and whether what it holds directly is a table's content.
    let mut open: Vec<(String, bool)> = Vec::new();
    let mut fostered = 0;
    let mut at = 0;
    // Where the text before the next tag starts: after the last tag's `>`.
    let mut text_from = 0;
    while let Some(offset) = memchr::memchr(b'<', &bytes[at..]) {
        let in_table = open.last().is_some_and(|(_, table)| *table);
        let text = bytes.get(text_from..at + offset).unwrap_or_default();
        if in_table && !text.iter().all(u8::is_ascii_whitespace) {
            fostered += 1;
        }
        at += offset + 1;
        text_from = memchr::memchr(b'>', &bytes[at..]).map_or(bytes.len(), |i| at + i + 1);
        let closing = bytes.get(at) == Some(&b'/');
        let start = at + usize::from(closing);
        let len = bytes[start..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
        if len == 0 || !bytes[start].is_ascii_alphabetic() {
            continue;
        }
        let name = html[start..start + len].to_ascii_lowercase();
        if closing {
            for i in (0..open.len()).rev() {
                if open[i].0 == name {
                    open.truncate(i);
                    break;
                }
                if SCOPE_BOUNDARIES.contains(&open[i].0.as_str()) {
                    break;
                }
            }
            continue;
        }
        if in_table && !TABLE_CONTENT.contains(&name.as_str()) {
            fostered += 1;
        }
        if fostered > max_fostered {
            return Some(Costly::Fostered);
        }
        let tag_end = memchr::memchr(b'>', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        if VOID.contains(&name.as_str()) || bytes[..tag_end].ends_with(b"/") {
            continue;
        }
        if SELF_CLOSING_SIBLINGS.contains(&name.as_str()) && open.last().is_some_and(|(n, _)| *n == name) {
            continue;
        }
        let table = match name.as_str() {
            "table" | "tbody" | "thead" | "tfoot" | "tr" => true,
            "td" | "th" | "caption" => false,
            _ => in_table,
        };
        open.push((name, table));
        if open.len() > max_depth {
            return Some(Costly::Deep);
        }
    }
    (fostered > max_fostered).then_some(Costly::Fostered)
}

/// What a table may hold directly without the parser moving it out.
const TABLE_CONTENT: [&str; 15] = [
    "table", "tbody", "thead", "tfoot", "tr", "td", "th", "caption", "colgroup", "col", "script", "style", "template",
    "input", "form",
];

/// `html` from a mail, safe to insert into a page. Callers bound its cost with
/// [`too_costly`] first.
#[must_use]
pub fn sanitise(html: &str) -> String {
    if let Some(at) = history_start(html) {
        let written = clean(&html[..at]);
        if has_text(&written) {
            // The history is cut off before sanitising, so that each half is parsed, and its
            // open tags closed, on its own: nothing of the history can wrap what was written.
            let history = images_as_links(&SANITISER.clean(&html[at..]).to_string());
            return format!(
                "{written}<details class=\"quoted\"><summary>Show quoted text</summary>{history}</details>"
            );
        }
    }
    clean(html)
}

fn clean(html: &str) -> String {
    fold_quotes(&images_as_links(&SANITISER.clean(html).to_string()))
}

/// Where the quoted history of a reply starts in mail clients that do not put it in a
/// `<blockquote>` (or put an attribution line before it): the tag carrying one of these
/// markers, and everything after it. Compared in lower case.
const HISTORY_MARKERS: [&str; 8] = [
    // Outlook on the web and new Outlook: the rule and the From/Sent/To block.
    "id=\"appendonsend\"",
    "id=\"divrplyfwdmsg\"",
    // Outlook for Windows: the header block's top border.
    "border-top:solid #e1e1e1",
    "border-top:solid #b5c4df",
    // Gmail, Yahoo and Thunderbird: the "On … wrote:" line and the quote after it.
    "class=\"gmail_quote",
    "class=\"yahoo_quoted",
    "class=\"moz-cite-prefix",
    "class=\"moz-forward-container",
];

/// The byte offset of the tag that opens the quoted history, if the mail has one.
fn history_start(html: &str) -> Option<usize> {
    let lower = html.to_ascii_lowercase();
    let marker = HISTORY_MARKERS.iter().filter_map(|m| lower.find(m)).min()?;
    lower[..marker].rfind('<')
}

/// Whether sanitised HTML shows any text (outside its tags).
fn has_text(html: &str) -> bool {
    let mut inside = false;
    let mut text = String::new();
    for c in html.chars() {
        match c {
            '<' => inside = true,
            '>' => inside = false,
            c if !inside => text.push(c),
            _ => {}
        }
    }
    !text.replace("&nbsp;", " ").trim().is_empty()
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
        // Outlook: "-----Original Message-----", or a line of underscores above "From: …".
        let rule = trimmed.starts_with("-----Original Message-----")
            || (trimmed.len() >= 10 && trimmed.bytes().all(|b| b == b'_'));
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
    fn outlook_and_gmail_history_without_a_blockquote_is_folded() {
        let outlook = "<div><p>The fix worked, thanks.</p></div><div id=\"appendonsend\"></div>\
            <hr style=\"display:inline-block;width:98%\"><div id=\"divRplyFwdMsg\" dir=\"ltr\"><b>From:</b> Support\
            <br><b>Sent:</b> Monday</div><div><p>Please try again.</p>";
        let html = sanitise(outlook);
        assert!(html.starts_with("<div><p>The fix worked, thanks.</p></div><details class=\"quoted\">"), "{html}");
        assert!(html.ends_with("<p>Please try again.</p></div></details>"), "{html}");
        let desktop = "<p class=MsoNormal>Done.</p><div style='border:none;border-top:solid #E1E1E1 1.0pt'>\
            <p><b>From:</b> Support</p></div><p>Old text</p>";
        let html = sanitise(desktop);
        assert!(html.starts_with("<p>Done.</p><details"), "{html}");
        assert!(html.contains("Old text</p></details>"), "{html}");
        let gmail =
            "<div dir=\"ltr\">Yes</div><br><div class=\"gmail_quote\"><div class=\"gmail_attr\">On Mon, Support wrote:\
            <br></div><blockquote class=\"gmail_quote\">Is it fixed?</blockquote></div>";
        let html = sanitise(gmail);
        assert!(html.starts_with("<div>Yes</div><br><details class=\"quoted\">"), "{html}");
        assert_eq!(html.matches("<details").count(), 1, "one fold, not one inside another: {html}");
    }

    #[test]
    fn history_markers_alone_fold_nothing_and_cannot_wrap_the_reply() {
        // Nothing written above the history: shown as it is.
        let html = sanitise("<div id=\"divRplyFwdMsg\">From: a</div><p>old</p>");
        assert!(!html.contains("<details"), "{html}");
        // An unclosed tag before the history is closed before the fold starts.
        let html = sanitise("<p>new <b>bold<div class=\"gmail_quote\">old</div>");
        let fold = html.find("<details").expect("folded");
        assert!(html[..fold].ends_with("</b></p>"), "{html}");
    }

    #[test]
    fn deep_nesting_is_too_costly_and_ordinary_mail_is_not() {
        assert!(too_costly(&"<div>".repeat(MAX_DEPTH + 1)).is_some());
        assert!(too_costly(&"<ul><li>".repeat(MAX_DEPTH)).is_some());
        // An end tag the parser ignores (beyond a scope boundary) closes nothing here either.
        assert!(too_costly(&"<div><object></div>".repeat(MAX_DEPTH)).is_some());
        // Closed elements, void ones and siblings the parser closes by itself do not add up.
        let newsletter = "<table><tr><td><p>a<p>b<br><img src=x><li>c<li>d</td></tr></table><div><span>e</span></div>";
        assert!(too_costly(&newsletter.repeat(5_000)).is_none());
        assert!(too_costly(&format!("{}{}", "<div>".repeat(MAX_DEPTH), "</div>".repeat(MAX_DEPTH))).is_none());
        assert!(too_costly(&"a".repeat(MAX_HTML_BYTES + 1)).is_some());
        // Content a table does not allow is moved out of it one piece at a time.
        assert!(too_costly(&format!("<table>{}</table>", "<b>x</b>".repeat(MAX_FOSTERED + 1))).is_some());
        assert!(too_costly(&format!("<table>{}</table>", "x<br>".repeat(MAX_FOSTERED + 1))).is_some());
        let cells = "<tr><td><b>in a cell</b> text</td></tr>\n".repeat(MAX_FOSTERED * 2);
        assert!(too_costly(&format!("<table>{cells}</table>")).is_none());
    }

    #[test]
    fn splits_outlook_text_history() {
        let text =
            "Works now.\n\n________________________________\nFrom: Support <s@x.com>\nSent: Monday\n\nTry again\n";
        let (written, quoted) = split_quoted(text);
        assert_eq!(written, "Works now.");
        assert!(quoted.unwrap().contains("From: Support"));
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
