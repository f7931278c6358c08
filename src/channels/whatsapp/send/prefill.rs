//! What the Send WhatsApp Message form fills in by itself: a parameter that is obviously the
//! contact's first name (`Hi {{1}}`, `{{first_name}}`) gets it as a default the agent may
//! change; one that is obviously the ticket's number (`your ticket {{2}}`, `{{ticket_number}}`)
//! gets the number of the ticket the message goes into.

use crate::channels::whatsapp::templates::model::{Content, Key, Parameter, Part};

/// A parameter whose value the form knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prefill {
    FirstName,
    TicketNumber,
}

/// What `p` of a template with `content` obviously is, from its name or the words before it.
#[must_use]
pub fn prefill(content: &Content, p: &Parameter) -> Option<Prefill> {
    let name = match &p.key {
        Key::Name(name) => name.as_str(),
        Key::Position(_) => "",
    };
    let text = match p.part {
        Part::Header => content.header.as_deref().unwrap_or_default(),
        Part::Body => content.body.as_str(),
        Part::Button(_) => return None,
    };
    let before = text.find(&p.key.placeholder()).map_or("", |at| &text[..at]).trim_end().to_ascii_lowercase();
    let after_word = |words: &[&str]| words.iter().any(|w| before == *w || before.ends_with(&format!(" {w}")));
    if ["first_name", "firstname", "name", "customer_name"].contains(&name)
        || after_word(&["hi", "hello", "dear", "hey"])
    {
        return Some(Prefill::FirstName);
    }
    if ["ticket", "ticket_number", "ticket_id"].contains(&name)
        || before.ends_with("ticket")
        || before.ends_with("ticket #")
        || before.ends_with("ticket no.")
    {
        return Some(Prefill::TicketNumber);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(body: &str) -> Content {
        Content::parse(&serde_json::json!([{"type": "BODY", "text": body}]).to_string())
    }

    #[test]
    fn the_first_name_and_the_ticket_number_are_recognised_by_the_words_before_them() {
        let c = content("Hi {{1}}, your ticket {{2}} was updated. {{3}}");
        let found: Vec<_> = c.parameters().iter().map(|p| prefill(&c, p)).collect();
        assert_eq!(found, [Some(Prefill::FirstName), Some(Prefill::TicketNumber), None]);
        let c = content("{{order}} for {{first_name}}: see {{ticket_number}}");
        let found: Vec<_> = c.parameters().iter().map(|p| prefill(&c, p)).collect();
        assert_eq!(found, [None, Some(Prefill::FirstName), Some(Prefill::TicketNumber)]);
    }
}
