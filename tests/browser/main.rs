//! Browser tests: the real application driven through headless Chromium over WebDriver.
//! They need a running chromedriver (`WEBDRIVER_URL`, default `http://127.0.0.1:9515`), so they
//! are `#[ignore]`d in a plain `cargo test`; `.ci/run` installs Chromium and runs them with
//! `--ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../web/helpers.rs"]
mod helpers;

mod contact_import;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

async fn browser() -> Client {
    let url = std::env::var("WEBDRIVER_URL").unwrap_or_else(|_| "http://127.0.0.1:9515".into());
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--window-size=1280,900"]
        }),
    );
    ClientBuilder::new(HttpConnector::new()).capabilities(caps).connect(&url).await.expect("connect to chromedriver")
}

async fn fill(c: &Client, id: &str, value: &str) {
    let field = c.find(Locator::Id(id)).await.unwrap_or_else(|_| panic!("no field #{id}"));
    field.clear().await.expect("clear");
    field.send_keys(value).await.expect("type");
}

/// Waits (up to fantoccini's default of 30 s) for the page whose heading is `text`.
async fn expect_heading(c: &Client, text: &str) {
    let xpath = format!("//h1[normalize-space()='{text}']");
    if c.wait().for_element(Locator::XPath(&xpath)).await.is_err() {
        let seen = c.find(Locator::Css("body")).await.expect("body").text().await.unwrap_or_default();
        panic!("no heading {text:?} on {:?}: {seen}", c.current_url().await.ok());
    }
}

async fn opacity(c: &Client, css: &str) -> String {
    let value = c
        .execute("return getComputedStyle(document.querySelector(arguments[0])).opacity;", vec![json!(css)])
        .await
        .expect("script");
    value.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
#[ignore = "needs chromedriver: run by .ci/run"]
async fn an_agent_sets_up_adds_edits_a_contact_and_uses_the_shortcut() {
    let app = helpers::spawn_app().await;
    let c = browser().await;
    c.goto(&app.url("/agent")).await.expect("goto");
    assert!(c.current_url().await.expect("url").path().ends_with("/setup"));
    fill(&c, "name", "Ada Admin").await;
    fill(&c, "email", "ada@example.com").await;
    fill(&c, "password", "correct horse battery").await;
    fill(&c, "confirm_password", "correct horse battery").await;
    c.find(Locator::XPath("//button[normalize-space()='Create administrator']"))
        .await
        .expect("button")
        .click()
        .await
        .expect("click");
    expect_heading(&c, "Contacts").await;

    // Customers → Contacts → Add contact → Submit.
    c.find(Locator::Css("a[aria-label='Add contact']")).await.expect("Add contact").click().await.expect("click");
    expect_heading(&c, "Add Contact").await;
    fill(&c, "first_name", "Jane").await;
    fill(&c, "last_name", "Doe").await;
    fill(&c, "email", "jane@example.com").await;
    c.find(Locator::XPath("//button[normalize-space()='Submit']")).await.expect("Submit").click().await.expect("click");
    expect_heading(&c, "Jane Doe").await;

    // More Actions → Edit → Save.
    c.find(Locator::XPath("//summary[normalize-space()='More Actions']"))
        .await
        .expect("More Actions")
        .click()
        .await
        .expect("open");
    c.find(Locator::LinkText("Edit")).await.expect("Edit").click().await.expect("click");
    expect_heading(&c, "Edit Contact").await;
    fill(&c, "title", "Chief of Things").await;
    c.find(Locator::XPath("//button[normalize-space()='Save']")).await.expect("Save").click().await.expect("click");
    expect_heading(&c, "Jane Doe").await;
    let body = c.find(Locator::Css("main")).await.expect("main").text().await.expect("text");
    assert!(body.contains("Contact saved.") && body.contains("Chief of Things"), "{body}");

    // The row's Edit icon shows on hover and on keyboard focus only.
    c.goto(&app.url("/agent/contacts")).await.expect("goto");
    expect_heading(&c, "Contacts").await;
    let icon = "a.row-edit[aria-label='Edit Jane Doe']";
    c.execute("window.scrollTo(0, 0); document.activeElement && document.activeElement.blur();", vec![])
        .await
        .expect("blur");
    c.find(Locator::Css("h1")).await.expect("h1").click().await.expect("move the mouse away");
    assert_eq!(opacity(&c, icon).await, "0");
    c.execute("document.querySelector(arguments[0]).focus();", vec![json!(icon)]).await.expect("focus");
    assert_eq!(opacity(&c, icon).await, "1");

    // w then + opens Send WhatsApp Message from any console page.
    c.find(Locator::Css("h1")).await.expect("h1").click().await.expect("click");
    c.execute("document.activeElement && document.activeElement.blur();", vec![]).await.expect("blur");
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: 'w' })
        .then(KeyAction::Up { value: 'w' })
        .then(KeyAction::Down { value: '+' })
        .then(KeyAction::Up { value: '+' });
    c.perform_actions(keys).await.expect("type w then +");
    expect_heading(&c, "Send WhatsApp Message").await;
    c.close().await.expect("close");
}

/// Whether the page is wider than the window (something would need sideways scrolling).
async fn overflows(c: &Client) -> bool {
    let wider =
        c.execute("return document.documentElement.scrollWidth > window.innerWidth;", vec![]).await.expect("script");
    wider.as_bool().unwrap_or(true)
}

#[tokio::test]
#[ignore = "needs chromedriver: run by .ci/run"]
async fn the_held_whatsapp_messages_page_fits_a_desktop_and_a_phone() {
    let (app, number) = app_with_number("Support line with a rather long name").await;
    let text = "My router blinks red and green every few seconds since the storm last night, and the \
                reset button does nothing at all: what can I try next?";
    let raw =
        json!({"from": "447700900123", "id": "wamid.HBgLNDQ3NzAwOTAwMTIzFQIAEhggQTdCOUQ2", "timestamp": "1765000000",
                     "type": "text", "text": {"body": text}})
        .to_string();
    app.exec(&format!(
        "INSERT INTO whatsapp_held_messages (number_id, wamid, sender_phone, sender_user_id, profile_name, raw, \
         reason, attempts, received_at) VALUES ({}, 'wamid.HBgLNDQ3NzAwOTAwMTIzFQIAEhggQTdCOUQ2', '+447700900123', \
         'US.13491208655302741918', 'Melissa Ortiz', '{}', 'The sender +447700900123 is a contact in the Recycle Bin. \
         Restore the contact, then retry.', 2, '2026-12-07 10:00:00+00:00')",
        number.id,
        raw.replace('\'', "''")
    ))
    .await;

    let c = logged_in_admin(&app).await;
    for width in [1280, 360] {
        c.set_window_size(width, 900).await.expect("resize");
        c.goto(&app.url("/agent/settings/channels/whatsapp/held")).await.expect("goto");
        expect_heading(&c, "Settings").await;
        let body = c.find(Locator::Css("main")).await.expect("main").text().await.expect("text");
        assert!(body.contains("Melissa Ortiz") && body.contains("Restore the contact, then retry."), "{body}");
        c.find(Locator::XPath("//button[normalize-space()='Retry']")).await.expect("Retry");
        assert!(!overflows(&c).await, "the page scrolls sideways at {width} px");
        if let Ok(dir) = std::env::var("SCREENSHOT_DIR") {
            let png = c.screenshot().await.expect("screenshot");
            std::fs::write(format!("{dir}/held-{width}.png"), png).expect("write");
        }
    }
    c.close().await.expect("close");
}

#[tokio::test]
#[ignore = "needs chromedriver: run by .ci/run"]
async fn a_whatsapp_ticket_without_a_contact_and_its_link_page_fit_a_desktop_and_a_phone() {
    let (app, number) = app_with_number("Support line").await;
    app.exec(
        "INSERT INTO tickets (number, subject, status, channel, priority, created_at, updated_at) VALUES \
         (4242, 'Your order 4242 has shipped and will reach you on Thursday between nine and noon', 'Open', \
         'whatsapp', 'Medium', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    )
    .await;
    app.exec(&format!(
        "INSERT INTO whatsapp_conversations (ticket_id, number_id, customer) SELECT id, {}, '+447700900123' \
         FROM tickets WHERE number = 4242",
        number.id
    ))
    .await;
    app.exec(
        "INSERT INTO messages (ticket_id, author_kind, body, internal, created_at) SELECT id, 'agent', \
         'Hello, your order 4242 has shipped.', FALSE, CURRENT_TIMESTAMP FROM tickets WHERE number = 4242",
    )
    .await;

    let c = logged_in_admin(&app).await;
    for width in [1280, 360] {
        c.set_window_size(width, 900).await.expect("resize");
        for (page, name) in [("/agent/tickets/4242", "ticket"), ("/agent/tickets/4242/contact", "link")] {
            c.goto(&app.url(page)).await.expect("goto");
            let body = c.find(Locator::Css("main")).await.expect("main").text().await.expect("text");
            assert!(body.contains("No contact") || body.contains("Link to contact"), "{page}: {body}");
            assert!(!overflows(&c).await, "{page} scrolls sideways at {width} px");
            if let Ok(dir) = std::env::var("SCREENSHOT_DIR") {
                let png = c.screenshot().await.expect("screenshot");
                std::fs::write(format!("{dir}/contactless-{name}-{width}.png"), png).expect("write");
            }
        }
    }
    c.close().await.expect("close");
}

/// An app with its administrator set up and WhatsApp number `name` connected.
async fn app_with_number(name: &str) -> (helpers::TestApp, frontdesk::channels::whatsapp::numbers::Number) {
    use frontdesk::channels::whatsapp::numbers;
    use frontdesk::domain::whatsapp_number::NumberForm;
    use frontdesk::services::Actor;

    let app = helpers::spawn_app().await;
    app.set_up_admin().await;
    let admin = app.texts("SELECT CAST(id AS TEXT) AS v FROM agents").await.remove(0);
    let admin = Actor::load(&app.state.db.conn, admin.parse().unwrap()).await.unwrap().unwrap();
    let form = NumberForm {
        name: name.into(),
        phone_number_id: "1234567890".into(),
        waba_id: "987654321".into(),
        access_token: "token".into(),
        app_secret: "secret".into(),
        graph_version: "v23.0".into(),
    };
    let number =
        numbers::create(&app.state.db, &admin, &app.state.sealer, form.parse(true).unwrap(), chrono::Utc::now())
            .await
            .unwrap();
    (app, number)
}

/// A browser logged in to `app` as its administrator, on Contacts Home.
async fn logged_in_admin(app: &helpers::TestApp) -> Client {
    let c = browser().await;
    c.goto(&app.url("/agent/login")).await.expect("goto");
    fill(&c, "email", helpers::ADMIN_EMAIL).await;
    fill(&c, "password", helpers::ADMIN_PASSWORD).await;
    c.find(Locator::XPath("//button[normalize-space()='Log in']")).await.expect("Log in").click().await.expect("click");
    expect_heading(&c, "Contacts").await;
    c
}

#[tokio::test]
#[ignore = "needs chromedriver: run by .ci/run"]
async fn ticking_two_contacts_merging_and_undoing_fit_a_desktop_and_a_phone() {
    let app = helpers::spawn_app().await;
    app.set_up_admin().await;
    app.add_contact(&[
        ("first_name", "Melissa"),
        ("last_name", "Ortiz-Montgomery"),
        ("email", "melissa.ortiz-montgomery@information-technology.example-enterprises.com"),
        ("title", "Head of Information Technology and Facilities"),
        ("description", "Prefers mail in the morning; the switchboard forwards calls to her mobile after six."),
    ])
    .await;
    app.add_contact(&[
        ("first_name", "Mel"),
        ("last_name", "Ortiz"),
        ("email", "mel@home.example"),
        ("phone", "+1 415 555 2671"),
    ])
    .await;
    let c = logged_in_admin(&app).await;
    // Tick both in the list and Merge: no script needed.
    for name in ["Melissa Ortiz-Montgomery", "Mel Ortiz"] {
        let tick = format!("input[aria-label='Select {name}']");
        c.find(Locator::Css(&tick)).await.expect("checkbox").click().await.expect("tick");
    }
    c.find(Locator::XPath("//button[normalize-space()='Merge']")).await.expect("Merge").click().await.expect("click");
    expect_heading(&c, "Merge contacts").await;
    let merge_url = c.current_url().await.expect("url");
    assert!(!merge_url.as_str().contains("csrf_token"), "{merge_url}");
    for width in [1280, 360] {
        c.set_window_size(width, 900).await.expect("resize");
        c.goto(merge_url.as_str()).await.expect("goto");
        expect_heading(&c, "Merge contacts").await;
        let body = c.find(Locator::Css("main")).await.expect("main").text().await.expect("text");
        assert!(body.contains("Master record") && body.contains("Moves to the Master"), "{body}");
        assert!(!overflows(&c).await, "the merge page scrolls sideways at {width} px");
        if let Ok(dir) = std::env::var("SCREENSHOT_DIR") {
            let png = c.screenshot().await.expect("screenshot");
            std::fs::write(format!("{dir}/merge-{width}.png"), png).expect("write");
        }
    }
    // The list sorts Mel Ortiz first: the Master unless another is chosen, its values kept.
    c.find(Locator::XPath("//button[normalize-space()='Merge']")).await.expect("Merge").click().await.expect("click");
    expect_heading(&c, "Mel Ortiz").await;
    let master_url = c.current_url().await.expect("url");
    for width in [1280, 360] {
        c.set_window_size(width, 900).await.expect("resize");
        c.goto(master_url.as_str()).await.expect("goto");
        c.find(Locator::XPath("//button[normalize-space()='Undo merge']")).await.expect("Undo merge");
        assert!(!overflows(&c).await, "the master's page scrolls sideways at {width} px");
        if let Ok(dir) = std::env::var("SCREENSHOT_DIR") {
            let png = c.screenshot().await.expect("screenshot");
            std::fs::write(format!("{dir}/merged-master-{width}.png"), png).expect("write");
        }
    }
    c.find(Locator::XPath("//button[normalize-space()='Undo merge']"))
        .await
        .expect("Undo")
        .click()
        .await
        .expect("click");
    expect_heading(&c, "Mel Ortiz").await;
    let body = c.find(Locator::Css("main")).await.expect("main").text().await.expect("text");
    assert!(body.contains("Merge undone"), "{body}");
    c.close().await.expect("close");
}
