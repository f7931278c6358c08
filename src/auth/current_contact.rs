//! `CurrentContact`: the logged-in Help Center user, from the Help Center's own session (a
//! different cookie from the console's, so an agent's login never opens the Help Center as a
//! contact, nor the reverse). A handler that names it can only be entered by an active Help
//! Center user; anyone else is sent to `/help/login`. Pages open to visitors take
//! `Option<CurrentContact>`.

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::keys;
use super::session_store::{LoadedContact, LOADED_CONTACT};
use crate::domain::PersonName;
use crate::error::AppError;

/// The Help Center user making the request.
#[derive(Clone)]
pub struct CurrentContact {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub csrf: String,
    pub session: Session,
}

impl CurrentContact {
    /// Leaves a message for the next page.
    pub fn flash(&self, message: &str) {
        let _ = self.session.insert(keys::FLASH, message);
    }
}

impl FromRequest for CurrentContact {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let path = req.uri().path_and_query().map_or("/help", |p| p.as_str()).to_owned();
        let is_get = req.method() == actix_web::http::Method::GET;
        Box::pin(async move {
            let contact_id = session.get::<i64>(keys::CONTACT_ID).ok().flatten();
            // Loaded with the session row, and only while the contact is an active Help Center
            // user: access removed or the contact deleted ends the login at the next request.
            let loaded =
                session.get::<LoadedContact>(LOADED_CONTACT).ok().flatten().filter(|c| Some(c.id) == contact_id);
            let Some(contact) = loaded else {
                // Forget the login but keep the session: pages open to visitors go on to put a
                // CSRF token in it, which a purged session would silently drop.
                if contact_id.is_some() {
                    session.remove(keys::CONTACT_ID);
                }
                let location = if is_get {
                    format!("/help/login?next={}", super::current_agent::urlencode(&path))
                } else {
                    "/help/login".to_owned()
                };
                return Err(AppError::LoginRequired { location });
            };
            let csrf = super::csrf::token(&session)?;
            let name = PersonName { first: contact.first_name.as_deref(), last: &contact.last_name }.to_string();
            Ok(Self { id: contact.id, name, email: contact.email, csrf, session })
        })
    }
}
