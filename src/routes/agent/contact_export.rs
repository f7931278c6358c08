//! Export Contacts: `GET /agent/contacts/export` answers the contacts of a Contacts Home view,
//! search and sort as a CSV download, streamed as it is made; `GET /agent/contacts/exports` is
//! Export History. Registered before the contact routes, whose `/contacts/{id}` would take
//! `/contacts/export` for a contact's page.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;
use futures_util::StreamExt;
use serde::Deserialize;

use super::contacts::IndexQuery;
use crate::auth::CurrentAgent;
use crate::error::AppResult;
use crate::routes::page::{self, Layout};
use crate::services::contacts::export::{self, ExportHistory};
use crate::startup::AppState;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/contacts/export", web::get().to(download)).route("/contacts/exports", web::get().to(history));
}

/// `GET /agent/contacts/export?view=&sort=&dir=&q=`: the CSV file.
pub async fn download(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    query: web::Query<IndexQuery>,
) -> AppResult<HttpResponse> {
    let list_query = query.into_inner().into_list_query();
    let export = export::start(&state.db, agent.actor(), list_query, chrono::Utc::now()).await?;
    let disposition = format!("attachment; filename=\"{}\"", export.filename());
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(export.into_stream().map(|part| part.map(web::Bytes::from))))
}

/// Export History's query string: the page before an export (from "Older exports").
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HistoryQuery {
    pub before: Option<i64>,
}

#[derive(Template)]
#[template(path = "agent/contacts/exports.html")]
struct HistoryPage {
    layout: Layout,
    history: ExportHistory,
}

/// `GET /agent/contacts/exports`: Export History.
pub async fn history(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    query: web::Query<HistoryQuery>,
) -> AppResult<HttpResponse> {
    let history = export::recent(&state.db, agent.actor(), query.before).await?;
    page::ok(&HistoryPage { layout: Layout::new(&agent, "customers", "Export History"), history })
}
