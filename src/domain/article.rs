//! Knowledge-base articles and categories: their forms as posted, the validated input, the
//! status and visibility values, and the slug made from a title.

use serde::Deserialize;

use super::form::{has_control, optional, optional_text};
use super::FieldErrors;

/// The longest title.
pub const TITLE_MAX: usize = 200;
/// The longest body, in characters of Markdown.
pub const BODY_MAX: usize = 100_000;
/// The longest category name.
pub const CATEGORY_NAME_MAX: usize = 100;
/// The longest slug made from a title; a suffix for uniqueness may follow.
pub const SLUG_MAX: usize = 80;

/// Whether an article is being written or is out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArticleStatus {
    Draft,
    Published,
}

impl ArticleStatus {
    /// Every status, in the order the form offers them.
    pub const ALL: [Self; 2] = [Self::Draft, Self::Published];

    /// The stored (and posted) value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
        }
    }

    /// The label people read.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::Published => "Published",
        }
    }

    /// Parses a stored or posted value.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// Who may read a published article in the Help Center.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Anyone, logged in or not.
    Everyone,
    /// Only Help Center users who are logged in; to anyone else the article does not exist.
    Registered,
}

impl Visibility {
    /// Every visibility, in the order the form offers them.
    pub const ALL: [Self; 2] = [Self::Everyone, Self::Registered];

    /// The stored (and posted) value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Everyone => "everyone",
            Self::Registered => "registered",
        }
    }

    /// The label people read.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Everyone => "Everyone",
            Self::Registered => "Registered users only",
        }
    }

    /// Parses a stored or posted value.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == value)
    }

    /// The stored values a Help Center viewer may read: a logged-in user (`registered`) reads
    /// both, a visitor only `everyone`.
    #[must_use]
    pub fn readable_by(registered: bool) -> &'static [&'static str] {
        if registered {
            &["everyone", "registered"]
        } else {
            &["everyone"]
        }
    }
}

/// The Add/Edit article form as posted.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct ArticleForm {
    pub title: String,
    pub body: String,
    /// A category id, or "" for none.
    pub category: String,
    pub status: String,
    pub visibility: String,
}

impl Default for ArticleForm {
    /// A new article starts as a draft for everyone.
    fn default() -> Self {
        Self {
            title: String::new(),
            body: String::new(),
            category: String::new(),
            status: ArticleStatus::Draft.as_str().to_owned(),
            visibility: Visibility::Everyone.as_str().to_owned(),
        }
    }
}

impl ArticleForm {
    /// The submitted text of `field` ("" for an unknown field).
    #[must_use]
    pub fn value(&self, field: &str) -> &str {
        match field {
            "title" => &self.title,
            "body" => &self.body,
            "category" => &self.category,
            "status" => &self.status,
            "visibility" => &self.visibility,
            _ => "",
        }
    }

    /// Validates the form.
    ///
    /// # Errors
    /// Messages per field.
    pub fn parse(&self) -> Result<ArticleInput, FieldErrors> {
        let mut errors = FieldErrors::default();
        let title = match optional(&self.title) {
            None => {
                errors.add("title", "Title is required.");
                None
            }
            Some(t) if t.chars().count() > TITLE_MAX || t.chars().any(char::is_control) => {
                errors.add("title", format!("Use at most {TITLE_MAX} ordinary characters."));
                None
            }
            Some(t) => Some(t),
        };
        // The body keeps its leading spaces (indented code) but not trailing blank lines.
        let body = self.body.trim_end().to_owned();
        if body.chars().count() > BODY_MAX {
            errors.add("body", format!("Use at most {BODY_MAX} characters."));
        } else if has_control(&body) {
            errors.add("body", "Remove the control characters.");
        }
        let category_id = match optional(&self.category) {
            None => None,
            Some(c) => errors.check("category", c.parse::<i64>().map_err(|_| "Choose a category.")),
        };
        let status = errors.check("status", ArticleStatus::parse(&self.status).ok_or("Choose Draft or Published."));
        let visibility = errors.check(
            "visibility",
            Visibility::parse(&self.visibility).ok_or("Choose Everyone or Registered users only."),
        );
        match (title, status, visibility) {
            (Some(title), Some(status), Some(visibility)) if errors.is_empty() => {
                Ok(ArticleInput { title, body, category_id, status, visibility })
            }
            _ => Err(errors),
        }
    }
}

/// A validated article.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArticleInput {
    pub title: String,
    /// Markdown.
    pub body: String,
    pub category_id: Option<i64>,
    pub status: ArticleStatus,
    pub visibility: Visibility,
}

/// The add/rename category form as posted.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct CategoryForm {
    pub name: String,
    pub description: String,
}

impl CategoryForm {
    /// Validates the form.
    ///
    /// # Errors
    /// Messages per field.
    pub fn parse(&self) -> Result<CategoryInput, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = match optional(&self.name) {
            None => {
                errors.add("name", "Name is required.");
                None
            }
            Some(n) if n.chars().count() > CATEGORY_NAME_MAX || n.chars().any(char::is_control) => {
                errors.add("name", format!("Use at most {CATEGORY_NAME_MAX} ordinary characters."));
                None
            }
            Some(n) => Some(n),
        };
        let description = errors.check("description", optional_text(&self.description, 1000)).flatten();
        match name {
            Some(name) if errors.is_empty() => Ok(CategoryInput { name, description }),
            _ => Err(errors),
        }
    }
}

/// A validated category.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryInput {
    pub name: String,
    pub description: Option<String>,
}

/// The address-friendly form of `title`: lowercase ASCII letters and digits joined by single
/// dashes, at most [`SLUG_MAX`] long. Letters with accents lose them where that is a plain
/// ASCII letter (é → e); other scripts are dropped, and a title with nothing left becomes
/// `article`. Uniqueness is the service's concern.
#[must_use]
pub fn slugify(title: &str) -> String {
    let mut slug = String::with_capacity(title.len().min(SLUG_MAX));
    let mut dash = false;
    for c in title.chars().flat_map(fold_accent) {
        if c.is_ascii_alphanumeric() {
            if dash && !slug.is_empty() {
                slug.push('-');
            }
            dash = false;
            slug.push(c.to_ascii_lowercase());
            if slug.len() > SLUG_MAX {
                // Cut at the last whole word that fits, or mid-word when one word is longer.
                let cut = slug[..=SLUG_MAX].rfind('-').unwrap_or(SLUG_MAX);
                slug.truncate(cut);
                break;
            }
        } else {
            dash = true;
        }
    }
    if slug.is_empty() {
        "article".to_owned()
    } else {
        slug
    }
}

/// The ASCII letter(s) a common Latin letter with a diacritic stands for.
fn fold_accent(c: char) -> impl Iterator<Item = char> {
    let folded: &str = match c {
        'à'..='å' | 'À'..='Å' => "a",
        'æ' | 'Æ' => "ae",
        'ç' | 'Ç' => "c",
        'è'..='ë' | 'È'..='Ë' => "e",
        'ì'..='ï' | 'Ì'..='Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò'..='ö' | 'ø' | 'Ò'..='Ö' | 'Ø' => "o",
        'ù'..='ü' | 'Ù'..='Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'ß' => "ss",
        _ => "",
    };
    let keep = folded.is_empty().then_some(c);
    folded.chars().chain(keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(title: &str) -> ArticleForm {
        ArticleForm { title: title.into(), body: "Body".into(), ..ArticleForm::default() }
    }

    #[test]
    fn a_valid_form_parses() {
        let input = ArticleForm {
            category: "3".into(),
            status: "published".into(),
            visibility: "registered".into(),
            ..form("  How to reset  ")
        }
        .parse();
        assert_eq!(
            input,
            Ok(ArticleInput {
                title: "How to reset".into(),
                body: "Body".into(),
                category_id: Some(3),
                status: ArticleStatus::Published,
                visibility: Visibility::Registered,
            })
        );
    }

    #[test]
    fn title_is_required_and_bounded() {
        assert!(form(" ").parse().is_err_and(|e| !e.get("title").is_empty()));
        assert!(form(&"x".repeat(TITLE_MAX + 1)).parse().is_err_and(|e| !e.get("title").is_empty()));
        assert!(form(&"x".repeat(TITLE_MAX)).parse().is_ok());
    }

    #[test]
    fn body_is_bounded_and_status_and_visibility_are_checked() {
        let long = ArticleForm { body: "x".repeat(BODY_MAX + 1), ..form("T") };
        assert!(long.parse().is_err_and(|e| !e.get("body").is_empty()));
        let bad =
            ArticleForm { status: "live".into(), visibility: "friends".into(), category: "x".into(), ..form("T") };
        let errors = bad.parse().err().unwrap_or_default();
        for field in ["status", "visibility", "category"] {
            assert!(!errors.get(field).is_empty(), "{field}");
        }
    }

    #[test]
    fn slugs_are_lowercase_ascii_with_dashes() {
        assert_eq!(slugify("How to Reset your Password?"), "how-to-reset-your-password");
        assert_eq!(slugify("  --Crème brûlée & Co.--  "), "creme-brulee-co");
        assert_eq!(slugify("Straße 2.0"), "strasse-2-0");
        assert_eq!(slugify("日本語"), "article");
        assert_eq!(slugify("!!!"), "article");
        let long = slugify(&"word ".repeat(50));
        assert!(long.len() <= SLUG_MAX && long.ends_with("-word"), "{long}");
        assert_eq!(slugify(&"x".repeat(100)).len(), SLUG_MAX);
    }

    #[test]
    fn only_logged_in_viewers_read_registered_articles() {
        assert_eq!(Visibility::readable_by(false), ["everyone"]);
        assert!(Visibility::readable_by(true).contains(&"registered"));
    }
}
