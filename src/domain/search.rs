//! Turning text into search terms: the words a record is found by, and the words of a query.

/// At most this many words of a query are used.
pub const MAX_QUERY_WORDS: usize = 5;

/// Lowercase words of `text`, split on anything that is not a letter, digit, `@`, `.`, `+`,
/// `_` or `-`.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || "@.+_-".contains(c)))
        .map(|w| w.trim_matches(|c: char| ".-_".contains(c)).to_lowercase())
        .filter(|w| !w.is_empty())
}

/// The words of a search query, deduplicated, at most [`MAX_QUERY_WORDS`]. A query that looks
/// like a phone number is reduced to its digits so that "(415) 555" finds "+1415555…".
#[must_use]
pub fn query_terms(query: &str) -> Vec<String> {
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    let phone_like = digits.len() >= 3 && query.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if phone_like {
        return vec![digits];
    }
    let mut terms: Vec<String> = Vec::new();
    for word in words(query) {
        let word: String = word.chars().take(64).collect();
        if !terms.contains(&word) {
            terms.push(word);
        }
        if terms.len() == MAX_QUERY_WORDS {
            break;
        }
    }
    terms
}

/// The upper bound of a prefix range: every string starting with `prefix` is `>= prefix` and
/// `< prefix_end(prefix)` in bytewise order.
#[must_use]
pub fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercased_and_split() {
        let w: Vec<String> = words("Melissa O'Brien-Ortiz, m.ortiz@Example.com").collect();
        assert_eq!(w, ["melissa", "o", "brien-ortiz", "m.ortiz@example.com"]);
    }

    #[test]
    fn a_phone_query_becomes_digits() {
        assert_eq!(query_terms("(415) 555-26"), ["41555526"]);
        assert_eq!(query_terms("Ann  ann SMITH"), ["ann", "smith"]);
    }

    #[test]
    fn sql_looking_input_is_just_words() {
        assert_eq!(query_terms("'; DROP TABLE contacts; --"), ["drop", "table", "contacts"]);
    }

    #[test]
    fn a_prefix_range_holds_every_extension() {
        let end = prefix_end("ann");
        assert!("ann" < end.as_str() && "annabelle" < end.as_str() && "anno\u{FFFF}" < end.as_str());
        assert!("anp" > end.as_str());
    }
}
