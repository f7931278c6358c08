//! The WhatsApp channel, against a local stand-in for Meta's Cloud API (`standin`).

mod api;
mod contactless;
mod held;
mod inbound;
mod inbound_media;
mod media_templates;
mod opt_ins;
mod send;
mod sending;
mod settings;
pub mod standin;

use chrono::{Duration, Utc};
use frontdesk::channels::whatsapp::numbers::{self, Number};
use frontdesk::channels::whatsapp::sender::WhatsAppSender;
use frontdesk::domain::whatsapp_number::NumberForm;
use frontdesk::services::deliveries::{self, SendReport};
use frontdesk::services::Actor;

use crate::helpers::TestApp;
use standin::{APP_SECRET, PHONE_NUMBER_ID, TOKEN, WABA_ID};

/// Connects the stand-in's number as the first agent (the administrator `set_up_admin` made).
pub async fn connect(app: &TestApp) -> Number {
    let admin = app.texts("SELECT CAST(id AS TEXT) AS v FROM agents ORDER BY id").await.remove(0);
    let admin = Actor::load(&app.state.db.conn, admin.parse().unwrap()).await.unwrap().expect("the administrator");
    let form = NumberForm {
        name: "Support".into(),
        phone_number_id: PHONE_NUMBER_ID.into(),
        waba_id: WABA_ID.into(),
        access_token: TOKEN.into(),
        app_secret: APP_SECRET.into(),
        graph_version: "v23.0".into(),
    };
    numbers::create(&app.state.db, &admin, &app.state.sealer, form.parse(true).unwrap(), Utc::now()).await.unwrap()
}

/// Runs one round of the WhatsApp sender, as the outbox worker would, `later` from now.
pub async fn send_whatsapp_in(app: &TestApp, later: Duration) -> SendReport {
    let sender = WhatsAppSender { db: &app.state.db, api: &app.state.whatsapp, sealer: &app.state.sealer };
    deliveries::send_due(&app.state.db, &sender, Utc::now() + later).await.expect("round")
}

/// Runs one round of the WhatsApp sender now.
pub async fn send_whatsapp(app: &TestApp) -> SendReport {
    send_whatsapp_in(app, Duration::seconds(1)).await
}
