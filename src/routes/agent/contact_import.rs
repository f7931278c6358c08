//! Import Contacts (Contacts Home → Import Contacts): upload a file, Map Fields and choose the
//! Import Mode, a Test run, Start Import with its progress (a page that refreshes itself, so it
//! works without JavaScript), the rejected rows as CSV, Import History and Revert.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::auth::upload::ImportFileRoute;
use crate::auth::{CsrfForm, CsrfUpload, CurrentAgent};
use crate::domain::import_fields::ImportField;
use crate::error::{AppError, AppResult};
use crate::routes::page::{self, Layout};
use crate::services::contacts::import::revert::{revert as revert_import, revertible};
use crate::services::contacts::import::setup::field_refusal;
use crate::services::contacts::import::{self, Import, Mode, Reject, Setup, SetupError};
use crate::services::ServiceError;
use crate::startup::AppState;

/// Registers the routes, before `/contacts/{id}` takes `/contacts/import`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/contacts/import")
            .app_data(ImportFileRoute)
            .route(web::get().to(new))
            .route(web::post().to(upload)),
    )
    .route("/contacts/import/history", web::get().to(history))
    .service(web::resource("/contacts/import/{id}").route(web::get().to(show)).route(web::post().to(start)))
    .route("/contacts/import/{id}/rejects.csv", web::get().to(rejects_csv))
    .route("/contacts/import/{id}/revert", web::post().to(revert));
}

#[derive(Template)]
#[template(path = "agent/contacts/import/upload.html")]
struct UploadPage {
    layout: Layout,
    error: String,
    max_mb: u32,
}

/// `GET /agent/contacts/import`: choose the file.
pub async fn new(state: web::Data<AppState>, agent: CurrentAgent) -> AppResult<HttpResponse> {
    agent.actor().may_import_contacts()?;
    page::ok(&UploadPage {
        layout: Layout::new(&agent, "customers", "Import Contacts"),
        error: String::new(),
        max_mb: state.settings.max_import_mb,
    })
}

/// `POST /agent/contacts/import`: keeps the file, then Map Fields.
pub async fn upload(state: web::Data<AppState>, agent: CurrentAgent, form: CsrfUpload) -> AppResult<HttpResponse> {
    let file = form.files.into_iter().next();
    let refused = form.refused;
    let result = match refused {
        Some(why) => Err(ServiceError::field("file", why)),
        None => import::upload(&state.db, agent.actor(), file).await,
    };
    match result {
        Ok(id) => Ok(page::see_other(&format!("/agent/contacts/import/{id}"))),
        Err(ServiceError::Invalid(errors)) => page::invalid(&UploadPage {
            layout: Layout::new(&agent, "customers", "Import Contacts"),
            error: errors.get("file").to_owned(),
            max_mb: state.settings.max_import_mb,
        }),
        Err(e) => Err(e.into()),
    }
}

/// A column on the mapping page.
struct Column {
    index: usize,
    header: String,
    field: Option<ImportField>,
    error: String,
    /// Why the field its header suggests is not chosen.
    note: String,
}

/// A field the mapping page offers, with why the profile cannot import into it.
struct FieldOption {
    field: ImportField,
    refusal: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "agent/contacts/import/show.html")]
struct ShowPage {
    layout: Layout,
    import: Import,
    columns: Vec<Column>,
    fields: Vec<FieldOption>,
    modes: [Mode; 3],
    mode: Option<Mode>,
    create_accounts: bool,
    form_errors: Vec<String>,
    rejects: Vec<Reject>,
    time_left: Option<String>,
    can_revert: bool,
}

impl ShowPage {
    fn selected(&self, column: &Column, option: &FieldOption) -> bool {
        column.field == Some(option.field)
    }

    fn mode_is(&self, m: &Mode) -> bool {
        self.mode == Some(*m)
    }

    fn revert_notes(&self) -> Vec<&str> {
        self.import.row.revert_notes.as_deref().map(|n| n.lines().collect()).unwrap_or_default()
    }
}

async fn show_page(
    state: &AppState,
    agent: &CurrentAgent,
    import: Import,
    chosen: Option<(&Setup, Vec<String>, Vec<String>)>,
) -> AppResult<ShowPage> {
    let rejects = import::rejects(&state.db.conn, agent.actor(), import.row.id, 100).await?;
    let mapping = chosen.as_ref().map_or_else(|| import.mapping(), |(s, _, _)| s.mapping.clone());
    let column_errors = chosen.as_ref().map(|(_, c, _)| c.clone()).unwrap_or_default();
    let columns = import
        .headers()
        .into_iter()
        .enumerate()
        .map(|(index, header)| {
            let field = mapping.get(index).copied().flatten();
            let refused = field.and_then(|f| field_refusal(agent.actor(), f).map(|why| (f, why)));
            Column {
                index,
                header,
                field: if refused.is_some() { None } else { field },
                error: column_errors.get(index).cloned().unwrap_or_default(),
                note: refused.map(|(f, why)| format!("Looks like {}, which is {why}.", f.label())).unwrap_or_default(),
            }
        })
        .collect();
    let fields = ImportField::ALL
        .into_iter()
        .map(|field| FieldOption { field, refusal: field_refusal(agent.actor(), field) })
        .collect();
    let now = chrono::Utc::now();
    Ok(ShowPage {
        layout: Layout::new(agent, "customers", format!("Import {}", import.row.file_name)),
        time_left: import.time_left(now),
        can_revert: revertible(&import.row, now),
        mode: chosen.as_ref().map_or_else(|| import.mode(), |(s, _, _)| s.mode),
        create_accounts: chosen.as_ref().map_or(import.row.create_accounts, |(s, _, _)| s.create_accounts),
        form_errors: chosen.map(|(_, _, f)| f).unwrap_or_default(),
        import,
        columns,
        fields,
        modes: Mode::ALL,
        rejects,
    })
}

/// `GET /agent/contacts/import/{id}`: Map Fields and Import Mode, a run's progress, or its
/// result.
pub async fn show(state: web::Data<AppState>, agent: CurrentAgent, id: web::Path<i64>) -> AppResult<HttpResponse> {
    let import = import::get(&state.db.conn, agent.actor(), *id).await?;
    page::ok(&show_page(&state, &agent, import, None).await?)
}

/// `POST /agent/contacts/import/{id}`: Test run or Start Import with the chosen mapping and
/// mode.
pub async fn start(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let value = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let import = import::get(&state.db.conn, agent.actor(), *id).await?;
    let columns = import.headers().len();
    let setup = Setup {
        mapping: (0..columns).map(|i| value(&format!("col_{i}")).and_then(ImportField::from_key)).collect(),
        mode: value("mode").and_then(Mode::from_key),
        create_accounts: value("create_accounts").is_some(),
    };
    let test = value("action") != Some("import");
    match import::start(&state.db, agent.actor(), *id, setup.clone(), test).await {
        Ok(()) => {
            agent.flash(if test { "Test run started: nothing is written." } else { "Import started." });
            Ok(page::see_other(&format!("/agent/contacts/import/{}", *id)))
        }
        Err(SetupError::Invalid { columns, form }) => {
            page::invalid(&show_page(&state, &agent, import, Some((&setup, columns, form))).await?)
        }
        Err(SetupError::Refused(e)) => Err(e.into()),
    }
}

/// `GET /agent/contacts/import/{id}/rejects.csv`: every rejected row, with line, field and
/// reason.
pub async fn rejects_csv(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let body = import::rejects_csv(&state.db.conn, agent.actor(), *id).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"import-{}-rejected.csv\"", *id)))
        .body(body))
}

#[derive(Template)]
#[template(path = "agent/contacts/import/history.html")]
struct HistoryPage {
    layout: Layout,
    imports: Vec<Import>,
}

/// `GET /agent/contacts/import/history`: Import History.
pub async fn history(state: web::Data<AppState>, agent: CurrentAgent) -> AppResult<HttpResponse> {
    let imports = import::history(&state.db.conn, agent.actor()).await?;
    page::ok(&HistoryPage { layout: Layout::new(&agent, "customers", "Import History"), imports })
}

/// `POST /agent/contacts/import/{id}/revert`: Revert.
pub async fn revert(
    state: web::Data<AppState>,
    agent: CurrentAgent,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let done = revert_import(&state.db, agent.actor(), *id, &state.phones).await.map_err(AppError::from)?;
    let plural = |n: u64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let mut said = format!(
        "Import reverted: {} moved to the Recycle Bin, {} put back.",
        plural(done.deleted, "contact"),
        plural(done.restored, "contact")
    );
    if !done.kept.is_empty() {
        said.push_str(&format!(" {} left as they were (listed below).", plural(done.kept.len() as u64, "change")));
    }
    agent.flash(&said);
    Ok(page::see_other(&format!("/agent/contacts/import/{}", *id)))
}
