//! An article's HTML is made when it is saved and stored; every view prints the stored HTML
//! instead of rendering and sanitising the Markdown again.

use frontdesk::startup::housekeeping_round;

use crate::agent_articles::add_article;
use crate::helpers::{spawn_app, TestApp};

async fn admin_app() -> TestApp {
    let app = spawn_app().await;
    app.set_up_admin().await;
    app
}

/// The article's body as the Help Center shows it to a visitor, and as the console's preview
/// shows it.
async fn shown(app: &TestApp, id: i64, slug: &str) -> (String, String) {
    let visitor = app.new_client().get(&format!("/help/articles/{slug}")).await;
    assert_eq!(visitor.status, 200, "{}", visitor.text());
    let console = app.get(&format!("/agent/articles/{id}")).await;
    let inner = |page: &crate::helpers::Page| {
        let doc = page.doc();
        let body = scraper::Selector::parse("div.article-body").expect("selector");
        doc.select(&body).next().map(|e| e.inner_html()).unwrap_or_default()
    };
    (inner(&visitor), inner(&console))
}

#[tokio::test]
async fn a_saved_article_keeps_its_sanitised_html_and_every_view_shows_the_stored_html() {
    let app = admin_app().await;
    let body = "Open **Settings**. <script>alert(1)</script><img src=x onerror=alert(2)>";
    let (id, slug) = add_article(&app, "Reset", body, "published", "everyone").await;
    let stored = app.column("articles", "html", id).await.expect("stored HTML");
    assert!(stored.contains("<strong>Settings</strong>"), "{stored}");
    assert!(!stored.contains("script") && !stored.contains("onerror"), "{stored}");
    let (help_center, console) = shown(&app, id, &slug).await;
    assert_eq!(help_center.trim(), stored.trim());
    assert_eq!(console.trim(), stored.trim());

    // What the views print is the column, not the Markdown rendered again.
    app.exec(&format!("UPDATE articles SET html = '<p>Printed from the column</p>' WHERE id = {id}")).await;
    let (help_center, console) = shown(&app, id, &slug).await;
    assert_eq!(help_center, "<p>Printed from the column</p>");
    assert_eq!(console, "<p>Printed from the column</p>");

    // Saving again makes the HTML again.
    let page = app
        .submit(
            &format!("/agent/articles/{id}/edit"),
            &format!("/agent/articles/{id}"),
            &[("body", "Open *Preferences*.")],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.text());
    assert_eq!(
        app.column("articles", "html", id).await.as_deref().map(str::trim),
        Some("<p>Open <em>Preferences</em>.</p>")
    );
}

#[tokio::test]
async fn articles_without_stored_html_get_it_at_their_first_view_or_from_housekeeping() {
    let app = admin_app().await;
    let (viewed, slug) = add_article(&app, "Viewed", "A **viewed** article.", "published", "everyone").await;
    let (left, _) = add_article(&app, "Left alone", "An *unread* article.", "published", "everyone").await;
    // As the rows stand after the migration that added the column.
    app.exec("UPDATE articles SET html = NULL").await;

    let (help_center, _) = shown(&app, viewed, &slug).await;
    assert!(help_center.contains("<strong>viewed</strong>"), "{help_center}");
    assert!(app.column("articles", "html", viewed).await.is_some_and(|h| h.contains("<strong>viewed</strong>")));
    assert_eq!(app.column("articles", "html", left).await, None);

    housekeeping_round(&app.state, chrono::Utc::now()).await;
    assert!(app.column("articles", "html", left).await.is_some_and(|h| h.contains("<em>unread</em>")));
}

#[tokio::test]
async fn a_body_changed_by_a_writer_that_does_not_know_the_stored_html_is_shown_as_changed() {
    let app = admin_app().await;
    let (id, slug) = add_article(&app, "Reset", "The **old** steps.", "published", "everyone").await;
    // As an instance of the previous version, still running during an upgrade, would save it.
    app.exec(&format!("UPDATE articles SET body = 'The **new** steps.' WHERE id = {id}")).await;

    let (help_center, console) = shown(&app, id, &slug).await;
    assert!(help_center.contains("<strong>new</strong>") && !help_center.contains("old"), "{help_center}");
    assert!(console.contains("<strong>new</strong>"), "{console}");
}
