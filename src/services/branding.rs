//! The Help Center's look and switches, set by administrators in Settings → Help Center and
//! kept in the `settings` table: the company's name, its colour, and whether visitors may sign
//! up on their own.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::{Actor, ServiceResult};
use crate::domain::BrandColor;
use crate::entities::setting;

const COMPANY_NAME: &str = "help_center.company_name";
const BRAND_COLOR: &str = "help_center.brand_color";
const SIGNUP_ENABLED: &str = "help_center.signup_enabled";

/// What the Help Center looks like and allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Branding {
    pub company_name: String,
    pub brand_color: BrandColor,
    pub signup_enabled: bool,
}

impl Default for Branding {
    fn default() -> Self {
        Self { company_name: "Help Center".into(), brand_color: BrandColor::default(), signup_enabled: true }
    }
}

/// The current branding, in one query; defaults for what was never set.
///
/// # Errors
/// Database errors.
pub async fn load<C: ConnectionTrait>(conn: &C) -> Result<Branding, sea_orm::DbErr> {
    let rows = setting::Entity::find()
        .filter(setting::Column::Key.is_in([COMPANY_NAME, BRAND_COLOR, SIGNUP_ENABLED]))
        .all(conn)
        .await?;
    let mut branding = Branding::default();
    for row in rows {
        match row.key.as_str() {
            COMPANY_NAME if !row.value.trim().is_empty() => branding.company_name = row.value,
            BRAND_COLOR => branding.brand_color = BrandColor::parse(&row.value).unwrap_or_default(),
            SIGNUP_ENABLED => branding.signup_enabled = row.value == "true",
            _ => {}
        }
    }
    Ok(branding)
}

/// Saves `branding`, as an administrator.
///
/// # Errors
/// `Forbidden` for anyone else; database errors.
pub async fn save<C: ConnectionTrait>(conn: &C, actor: &Actor, branding: &Branding) -> ServiceResult<()> {
    actor.must_be_admin()?;
    let rows = [
        (COMPANY_NAME, branding.company_name.clone()),
        (BRAND_COLOR, branding.brand_color.as_str().to_owned()),
        (SIGNUP_ENABLED, branding.signup_enabled.to_string()),
    ]
    .map(|(key, value)| setting::ActiveModel { key: Set(key.to_owned()), value: Set(value) });
    setting::Entity::insert_many(rows)
        .on_conflict(OnConflict::column(setting::Column::Key).update_column(setting::Column::Value).to_owned())
        .exec(conn)
        .await?;
    Ok(())
}

/// The branding as the Help Center's pages read it: loaded at most every few seconds per
/// instance, so that a page view costs no query for it. A change saved on this instance shows at
/// once; on other instances within [`CACHE_SECONDS`].
#[derive(Default)]
pub struct BrandingCache {
    current: std::sync::RwLock<Option<(std::time::Instant, Branding)>>,
}

/// How long an instance keeps the branding it read.
pub const CACHE_SECONDS: u64 = 5;

impl BrandingCache {
    /// The branding, from the cache while it is fresh.
    ///
    /// # Errors
    /// Database errors.
    pub async fn get<C: ConnectionTrait>(&self, conn: &C) -> Result<Branding, sea_orm::DbErr> {
        if let Ok(guard) = self.current.read() {
            if let Some((at, branding)) = guard.as_ref() {
                if at.elapsed().as_secs() < CACHE_SECONDS {
                    return Ok(branding.clone());
                }
            }
        }
        let fresh = load(conn).await?;
        if let Ok(mut guard) = self.current.write() {
            *guard = Some((std::time::Instant::now(), fresh.clone()));
        }
        Ok(fresh)
    }

    /// Forgets what was read (after a save on this instance).
    pub fn invalidate(&self) {
        if let Ok(mut guard) = self.current.write() {
            *guard = None;
        }
    }
}
