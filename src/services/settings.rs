//! Settings kept in the database: the generated secret key.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait};

use crate::entities::setting;

const SECRET_KEY: &str = "secret_key";

/// The secret key: the configured one, or the one generated on first run and kept in the
/// database so that every instance and every restart shares it.
///
/// # Errors
/// Database errors.
pub async fn secret_key(conn: &DatabaseConnection, configured: Option<&str>) -> Result<String, DbErr> {
    if let Some(key) = configured {
        return Ok(key.to_owned());
    }
    if let Some(row) = setting::Entity::find_by_id(SECRET_KEY).one(conn).await? {
        return Ok(row.value);
    }
    // Two instances starting at once may both get here: the first insert wins and both read it.
    let row = setting::ActiveModel { key: Set(SECRET_KEY.into()), value: Set(crate::auth::random_token(86)) };
    setting::Entity::insert(row)
        .on_conflict(OnConflict::column(setting::Column::Key).do_nothing().to_owned())
        .do_nothing()
        .exec(conn)
        .await?;
    let row = setting::Entity::find_by_id(SECRET_KEY)
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("secret key".into()))?;
    Ok(row.value)
}
