//! `GET /help`, and `GET /help/theme.css`: the company's colours as a style sheet, so that the
//! pages themselves carry no inline style (the Content-Security-Policy forbids it).

use actix_session::Session;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::page::HelpLayout;
use crate::auth::CurrentContact;
use crate::error::AppResult;
use crate::routes::page;
use crate::services::articles::{self, HomeArticles};
use crate::startup::AppState;

#[derive(Template)]
#[template(path = "help_center/home.html")]
struct HomePage {
    layout: HelpLayout,
    kb: HomeArticles,
    q: String,
}

/// `GET /help`
pub async fn home(
    state: web::Data<AppState>,
    session: Session,
    contact: Option<CurrentContact>,
) -> AppResult<HttpResponse> {
    let kb = articles::home(&state.db, contact.is_some()).await?;
    let layout = HelpLayout::new(&state, &session, contact.as_ref(), "home", "Help Center", false).await?;
    page::ok(&HomePage { layout, kb, q: String::new() })
}

/// `GET /help/theme.css`
pub async fn theme(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let b = state.branding.get(&state.db.conn).await?;
    let css = format!(":root {{ --brand: {}; --brand-text: {}; }}\n", b.brand_color, b.brand_color.text_color());
    Ok(HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .body(css))
}
