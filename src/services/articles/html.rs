//! Each article's HTML is rendered from its Markdown and sanitised once, when the article is
//! saved, and stored beside it (`articles.html`); every view prints the stored HTML. Rendering
//! is the costly part (an article can be written to take seconds of CPU), and the Help Center
//! shows articles to anyone, as often as they ask.
//!
//! A NULL column means the HTML is still to be made: rows from before the column, and rows
//! whose body a writer that does not know the column changed (migration m0024's trigger). A
//! view renders such an article and stores the result; housekeeping (at start-up, then every
//! ten minutes) fills the others.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::db::Db;
use crate::domain::markdown;
use crate::entities::article;
use crate::services::{ServiceError, ServiceResult};

/// How many articles housekeeping reads at a time when it fills in missing HTML.
const FILL_BATCH: u64 = 20;

/// `markdown` rendered and sanitised, on a blocking thread, so that a costly article holds up
/// no other request served by this worker.
///
/// # Errors
/// When the renderer panicked.
pub(super) async fn render(markdown: String) -> ServiceResult<String> {
    tokio::task::spawn_blocking(move || markdown::to_safe_html(&markdown))
        .await
        .map_err(|e| ServiceError::Other(anyhow::Error::from(e).context("rendering an article")))
}

/// The HTML to show for article `id`: `stored` when there is one; else its body (`body` when
/// the caller has read it already) rendered now, and stored for the next view.
///
/// # Errors
/// `NotFound` when the article went meanwhile; database errors.
pub(super) async fn stored_or_made(
    db: &Db,
    id: i64,
    stored: Option<String>,
    body: Option<String>,
) -> ServiceResult<String> {
    if let Some(html) = stored {
        return Ok(html);
    }
    let body = match body {
        Some(body) => body,
        None => article::Entity::find_by_id(id)
            .select_only()
            .column(article::Column::Body)
            .into_tuple::<String>()
            .one(&db.conn)
            .await?
            .ok_or(ServiceError::NotFound)?,
    };
    let html = render(body.clone()).await?;
    store(db, id, body, &html).await?;
    Ok(html)
}

/// Stores `html`, made from `body`, as article `id`'s HTML, unless the article has HTML by now
/// or another body (saved meanwhile, its own HTML made or to be made). Whether it stored it.
async fn store(db: &Db, id: i64, body: String, html: &str) -> Result<bool, sea_orm::DbErr> {
    let _gate = db.write_gate().await;
    let done = article::Entity::update_many()
        .col_expr(article::Column::Html, Expr::value(html))
        .filter(article::Column::Id.eq(id))
        .filter(article::Column::Html.is_null())
        .filter(article::Column::Body.eq(body))
        .exec(&db.conn)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Makes and stores the HTML of every article that has none, a few at a time, through the
/// index of those rows (empty once all are made). Safe on every instance at once: an article
/// another instance filled first is left as it is. Returns how many this call filled.
///
/// # Errors
/// Database errors.
pub async fn fill_missing_html(db: &Db) -> ServiceResult<u64> {
    let (mut after, mut filled) = (0, 0);
    loop {
        let missing: Vec<(i64, String)> = article::Entity::find()
            .select_only()
            .columns([article::Column::Id, article::Column::Body])
            .filter(article::Column::Html.is_null())
            .filter(article::Column::Id.gt(after))
            .order_by_asc(article::Column::Id)
            .limit(FILL_BATCH)
            .into_tuple()
            .all(&db.conn)
            .await?;
        let Some(&(last, _)) = missing.last() else { return Ok(filled) };
        after = last;
        for (id, body) in missing {
            // One article the renderer cannot take must not keep the others from being made;
            // its views render it (and fail) as they would have before.
            match render(body.clone()).await {
                Ok(html) => filled += u64::from(store(db, id, body, &html).await?),
                Err(e) => tracing::warn!(article = id, error = %e, "an article's HTML could not be made"),
            }
        }
    }
}
