//! Rendering pages: the layout context every console page carries, and response helpers.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use askama::Template;

use crate::auth::CurrentAgent;
use crate::domain::{Action, Module};
use crate::error::AppResult;

/// What the console layout needs: who is logged in, which nav item is active, the one-time
/// message, the CSRF token for forms.
pub struct Layout {
    pub title: String,
    pub nav: &'static str,
    pub agent_name: String,
    pub is_admin: bool,
    pub can_view_contacts: bool,
    pub can_view_accounts: bool,
    pub flash: Option<String>,
    pub csrf: String,
}

impl Layout {
    /// The layout for `agent`'s page titled `title` under nav item `nav`.
    #[must_use]
    pub fn new(agent: &CurrentAgent, nav: &'static str, title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            nav,
            agent_name: agent.name.clone(),
            is_admin: agent.actor().is_admin(),
            can_view_contacts: agent.can(Module::Contacts, Action::View),
            can_view_accounts: agent.can(Module::Accounts, Action::View),
            flash: agent.take_flash(),
            csrf: agent.csrf.clone(),
        }
    }
}

/// Renders `page` with `status`.
///
/// # Errors
/// When the template fails to render.
pub fn render<T: Template>(status: StatusCode, page: &T) -> AppResult<HttpResponse> {
    let body = page.render()?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// Renders `page` with 200 OK.
///
/// # Errors
/// When the template fails to render.
pub fn ok<T: Template>(page: &T) -> AppResult<HttpResponse> {
    render(StatusCode::OK, page)
}

/// Renders a form again with its errors: 422.
///
/// # Errors
/// When the template fails to render.
pub fn invalid<T: Template>(page: &T) -> AppResult<HttpResponse> {
    render(StatusCode::UNPROCESSABLE_ENTITY, page)
}

/// 303 See Other to `location`: the answer to a successful form post.
#[must_use]
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

/// A local path to go to after login: only paths on this site. Browsers drop tabs and
/// newlines from URLs and read `\\` as `/`, so `/<TAB>/evil.example` would become
/// `//evil.example`: any control character or backslash makes the path unsafe.
#[must_use]
pub fn safe_next(next: Option<&str>, fallback: &str) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.chars().any(|c| c.is_control() || c == '\\' || c.is_whitespace())
                && n.len() <= 2000 =>
        {
            n.to_owned()
        }
        _ => fallback.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next(Some("/agent/accounts?q=a"), "/x"), "/agent/accounts?q=a");
        for bad in ["//evil.example", "/\\evil.example", "/\t/evil.example", "/\n", "https://evil.example", "evil"] {
            assert_eq!(safe_next(Some(bad), "/x"), "/x", "{bad:?}");
        }
    }
}
