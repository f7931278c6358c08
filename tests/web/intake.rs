//! The channel-neutral intake (`services::intake`), driven as a channel other than email
//! drives it: by a WhatsApp number. The email channel's own tests (inbound_mail.rs) go through
//! it too.

use frontdesk::domain::phone::{Phone, PhoneParser};
use frontdesk::domain::{Channel, FileUpload};
use frontdesk::services::intake::{self, Arrival, Brake, Contact, Identity, Incoming, Received};

use crate::helpers::{spawn_app, TestApp};

pub(crate) fn number(raw: &str) -> Phone {
    PhoneParser::new("GB").expect("region").parse(raw).expect("a number")
}

/// A first message from `from` on WhatsApp, taken through the intake in its own transaction.
pub(crate) async fn arrive(app: &TestApp, from: &Phone, text: &str) -> Received {
    let db = &app.state.db;
    let arrival = Arrival {
        channel: Channel::WhatsApp,
        identity: Identity::WhatsApp(from),
        to: None,
        first_name: Some("Rush"),
        last_name: "Hour",
        owner: None,
    };
    let incoming = Incoming {
        subject: text,
        text,
        html: None,
        files: &[] as &[FileUpload],
        external_id: None,
        from_name: Some("Rush Hour"),
        contact_copied: false,
        automatic: false,
    };
    let brake = Brake { sent_this_hour: 0, per_hour: 0 };
    let _gate = db.write_gate().await;
    let txn = db.begin_write().await.expect("begin");
    let now = chrono::Utc::now();
    let received = intake::open(&txn, arrival, Contact::Unknown, &incoming, brake, |_| Ok(Vec::new()), now)
        .await
        .expect("intake")
        .expect("taken");
    txn.commit().await.expect("commit");
    received
}

#[tokio::test]
async fn fifty_first_messages_from_one_new_number_at_once_make_one_contact() {
    let app = spawn_app().await;
    let from = number("+44 7700 900123");
    let arrivals = (0..50).map(|n| {
        let (app, from) = (&app, &from);
        async move { arrive(app, from, &format!("Question {n}")).await }
    });
    let received = futures_util::future::join_all(arrivals).await;
    let created = received.iter().filter(|r| matches!(r, Received::Opened { contact_created: true, .. })).count();
    assert_eq!(created, 1, "{received:?}");
    assert_eq!(app.count("contacts").await, 1);
    assert_eq!(app.count("tickets").await, 50);
    assert_eq!(app.count("messages").await, 50);
    // The contact has the number as its mobile and as its WhatsApp account, once each.
    let rows = app.texts("SELECT kind || ' ' || value AS v FROM contact_identities ORDER BY kind").await;
    assert_eq!(rows, ["mobile +447700900123", "whatsapp +447700900123"]);

    // What the agent sees: the contact, created from WhatsApp, and its tickets from WhatsApp.
    app.set_up_admin().await;
    let list = app.get("/agent/contacts").await;
    assert!(list.text().contains("Rush Hour"), "{}", list.text());
    let id = &app.texts("SELECT CAST(id AS TEXT) AS v FROM contacts").await[0];
    let page = app.get(&format!("/agent/contacts/{id}")).await;
    assert!(page.text().contains("Created From WhatsApp"), "{}", page.text());
    assert!(page.text().contains("Tickets (50)"), "{}", page.text());
    assert!(page.text().contains("Created (WhatsApp)"), "{}", page.text());
}

#[tokio::test]
async fn a_message_from_a_known_number_opens_a_ticket_for_its_contact_without_a_new_one() {
    let app = spawn_app().await;
    let from = number("07700 900456");
    assert!(matches!(arrive(&app, &from, "First").await, Received::Opened { contact_created: true, .. }));
    assert!(matches!(arrive(&app, &from, "Second").await, Received::Opened { contact_created: false, .. }));
    assert_eq!(app.count("contacts").await, 1);
    let channels = app.texts("SELECT channel AS v FROM tickets ORDER BY id").await;
    assert_eq!(channels, ["whatsapp", "whatsapp"]);
}
