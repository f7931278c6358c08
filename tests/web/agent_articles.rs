use frontdesk::domain::article::ArticleForm;
use frontdesk::services::articles::{self, home, in_category, published_by_slug, search, vote};
use reqwest::StatusCode;

use crate::helpers::{form_values, id_from_location, spawn_app, TestApp};

async fn admin_app() -> TestApp {
    let app = spawn_app().await;
    app.set_up_admin().await;
    app
}

/// Adds an article through the Add article form; returns its id and slug.
pub async fn add_article(app: &TestApp, title: &str, body: &str, status: &str, visibility: &str) -> (i64, String) {
    let page = app
        .submit(
            "/agent/articles/new",
            "/agent/articles",
            &[("title", title), ("body", body), ("status", status), ("visibility", visibility)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "add article failed: {}", page.text());
    let id = id_from_location(&page);
    let slug = app.column("articles", "slug", id).await.expect("slug");
    (id, slug)
}

#[tokio::test]
async fn an_article_published_for_everyone_is_added_and_listed() {
    let app = admin_app().await;
    let list = app.get("/agent/articles").await;
    assert_eq!(list.status, 200);
    assert!(list.texts("a.button").contains(&"Add article".to_owned()));
    let form = app.get("/agent/articles/new").await;
    assert!(form.texts("h1").contains(&"Add article".to_owned()));
    for label in ["Title", "Body", "Category", "Status", "Visibility"] {
        assert!(form.texts("label").iter().any(|l| l.trim_end_matches(" *") == label), "no label {label}");
    }
    for option in ["Draft", "Published", "Everyone", "Registered users only"] {
        assert!(form.texts("option").contains(&option.to_owned()), "no option {option}");
    }

    let (id, slug) =
        add_article(&app, "How to reset your password", "Go to **Settings**.", "published", "everyone").await;
    assert_eq!(slug, "how-to-reset-your-password");
    let list = app.get("/agent/articles").await;
    let row = list.texts("table.list tbody tr").into_iter().next().unwrap_or_default();
    assert!(
        row.contains("How to reset your password") && row.contains("Published") && row.contains("Everyone"),
        "{row}"
    );
    let detail = app.get(&format!("/agent/articles/{id}")).await;
    assert!(detail.html.contains("<strong>Settings</strong>"), "{}", detail.html);
    let (_, again) = add_article(&app, "How to reset your password", "", "draft", "everyone").await;
    assert_eq!(again, "how-to-reset-your-password-2");
    assert!(app.get("/agent").await.status.is_redirection());
    assert!(list.has("nav a[href=\"/agent/articles\"][aria-current=\"page\"]"));
}

#[tokio::test]
async fn an_article_without_a_title_is_refused_with_the_input_kept() {
    let app = admin_app().await;
    let page = app
        .submit(
            "/agent/articles/new",
            "/agent/articles",
            &[("title", "  "), ("body", "Kept *body*"), ("status", "published")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.field_error("title").is_some());
    assert_eq!(page.value_of("body").as_deref(), Some("Kept *body*"));
    assert!(page.has("select[name=status] option[value=published][selected]"));
    assert_eq!(app.count("articles").await, 0);
    let long = "x".repeat(201);
    let page = app.submit("/agent/articles/new", "/agent/articles", &[("title", &long)]).await;
    assert_eq!(page.status, 422);
    assert_eq!(page.value_of("title"), Some(long));
    assert_eq!(app.count("articles").await, 0);
}

#[tokio::test]
async fn a_light_agent_reads_articles_but_cannot_add_edit_or_delete_them() {
    let app = admin_app().await;
    let (id, _) = add_article(&app, "Shipping times", "Two days.", "published", "everyone").await;
    let light = app.client_as("Light Agent", "light@example.com").await;
    let list = light.get("/agent/articles").await;
    assert_eq!(list.status, 200);
    assert!(list.text().contains("Shipping times"));
    assert!(!list.texts("a").contains(&"Add article".to_owned()));
    assert_eq!(light.get("/agent/articles/new").await.status, 403);
    assert_eq!(light.get(&format!("/agent/articles/{id}/edit")).await.status, 403);
    assert_eq!(light.get(&format!("/agent/articles/{id}/delete")).await.status, 403);
    let csrf = form_values(&list.html, "/agent/logout").into_iter().find(|(k, _)| k == "csrf_token").expect("token").1;
    let post = light
        .post_raw(
            "/agent/articles",
            &[("csrf_token", &csrf), ("title", "Sneaky"), ("status", "published"), ("visibility", "everyone")],
        )
        .await;
    assert_eq!(post.status, 403);
    let delete = light.post_raw(&format!("/agent/articles/{id}/delete"), &[("csrf_token", &csrf)]).await;
    assert_eq!(delete.status, 403);
    assert_eq!(app.count("articles").await, 1);
    let category = light.post_raw("/agent/articles/categories", &[("csrf_token", &csrf), ("name", "Billing")]).await;
    assert_eq!(category.status, 403);
    assert_eq!(app.count("article_categories").await, 0);
}

#[tokio::test]
async fn a_script_in_the_body_never_reaches_the_preview() {
    let app = admin_app().await;
    let body =
        "Hello <script>alert('owned')</script>\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(2))\n\n\
                <iframe src=\"https://evil.example\"></iframe>";
    let (id, _) = add_article(&app, "Nasty", body, "draft", "everyone").await;
    let detail = app.get(&format!("/agent/articles/{id}")).await;
    assert_eq!(detail.status, 200);
    for bad in ["alert('owned')", "onerror", "javascript:", "<iframe"] {
        assert!(!detail.html.contains(bad), "{bad} in the page");
    }
    assert!(!detail.has(".article-body script") && !detail.has(".article-body [onerror]"));
    assert!(detail.texts(".article-body").join(" ").contains("Hello"));
    // The edit form shows the Markdown as written, escaped.
    let edit = app.get(&format!("/agent/articles/{id}/edit")).await;
    assert_eq!(edit.value_of("body").as_deref(), Some(body));
}

#[tokio::test]
async fn an_article_is_edited_keeping_its_address_and_deleted_after_confirmation() {
    let app = admin_app().await;
    let (id, slug) = add_article(&app, "Old title", "Text", "draft", "everyone").await;
    let saved = app
        .submit(
            &format!("/agent/articles/{id}/edit"),
            &format!("/agent/articles/{id}"),
            &[("title", "New title"), ("status", "published")],
        )
        .await;
    assert_eq!(saved.status, 303);
    assert_eq!(app.column("articles", "title", id).await.as_deref(), Some("New title"));
    assert_eq!(app.column("articles", "slug", id).await, Some(slug));
    assert!(app.column("articles", "published_at", id).await.is_some());
    let refused =
        app.submit(&format!("/agent/articles/{id}/edit"), &format!("/agent/articles/{id}"), &[("title", "")]).await;
    assert_eq!(refused.status, 422);
    assert_eq!(app.column("articles", "title", id).await.as_deref(), Some("New title"));

    let agent = app.client_as("Agent", "writer@example.com").await;
    assert_eq!(agent.get(&format!("/agent/articles/{id}/edit")).await.status, 200);
    assert_eq!(agent.get(&format!("/agent/articles/{id}/delete")).await.status, 403);

    let confirm = app.get(&format!("/agent/articles/{id}/delete")).await;
    assert!(confirm.texts("button").contains(&"Delete".to_owned()));
    let done = app.submit(&format!("/agent/articles/{id}/delete"), &format!("/agent/articles/{id}/delete"), &[]).await;
    assert_eq!(done.status, 303);
    assert_eq!(app.get(&format!("/agent/articles/{id}")).await.status, 404);
    assert_eq!(app.count("articles").await, 0);
}

#[tokio::test]
async fn deleting_a_category_keeps_its_articles_uncategorised() {
    let app = admin_app().await;
    let added = app
        .submit(
            "/agent/articles/categories",
            "/agent/articles/categories",
            &[("name", "Billing"), ("description", "Money")],
        )
        .await;
    assert_eq!(added.status, 303);
    let duplicate =
        app.submit("/agent/articles/categories", "/agent/articles/categories", &[("name", "billing!")]).await;
    assert_eq!(duplicate.status, 422);
    assert!(duplicate.field_error("name").is_some());
    assert!(duplicate.has("form[action=\"/agent/articles/categories\"] input#name[value=\"billing!\"]"));
    let category = app.column("article_categories", "id", 1).await.expect("category");

    let page = app
        .submit(
            "/agent/articles/new",
            "/agent/articles",
            &[("title", "Invoices"), ("category", &category), ("status", "published")],
        )
        .await;
    let id = id_from_location(&page);
    assert!(app.get("/agent/articles").await.texts("table.list tbody tr")[0].contains("Billing"));
    let renamed = app
        .submit(
            "/agent/articles/categories",
            &format!("/agent/articles/categories/{category}"),
            &[("name", "Payments")],
        )
        .await;
    assert_eq!(renamed.status, 303);
    assert!(app.get(&format!("/agent/articles/{id}")).await.text().contains("Payments"));

    let confirm = app.get(&format!("/agent/articles/categories/{category}/delete")).await;
    assert!(confirm.text().contains("1 article(s) are kept"), "{}", confirm.text());
    let done = app
        .submit(
            &format!("/agent/articles/categories/{category}/delete"),
            &format!("/agent/articles/categories/{category}/delete"),
            &[],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(app.count("article_categories").await, 0);
    assert_eq!(app.count("articles").await, 1);
    assert_eq!(app.column("articles", "category_id", id).await, None);
}

#[tokio::test]
async fn search_ranks_a_title_match_above_a_body_only_match() {
    let app = admin_app().await;
    add_article(
        &app,
        "Shipping abroad",
        "We send parcels. Customs forms apply to refunds too.",
        "published",
        "everyone",
    )
    .await;
    add_article(&app, "Refunds", "How to get your money back.", "published", "everyone").await;
    add_article(&app, "Unrelated", "Nothing to see.", "published", "everyone").await;
    let db = &app.state.db;
    let hits = search(db, "refunds", false, 10).await.expect("search");
    let titles: Vec<&str> = hits.iter().map(|h| h.title.as_str()).collect();
    assert_eq!(titles, ["Refunds", "Shipping abroad"]);
    assert!(hits[1].snippet.contains("refunds"), "{:?}", hits[1].snippet);
    // Stemming: "refund" finds "refunds" on both databases.
    assert_eq!(search(db, "Refund", false, 10).await.expect("search").len(), 2);
    // Every word must match.
    assert_eq!(search(db, "refunds customs", false, 10).await.expect("search").len(), 1);
    assert_eq!(search(db, "refunds", false, 1).await.expect("search").len(), 1);
}

#[tokio::test]
async fn drafts_and_registered_only_articles_are_hidden_from_visitors() {
    let app = admin_app().await;
    let (_, public) = add_article(&app, "Public guide", "Open to all about widgets.", "published", "everyone").await;
    let (_, members) = add_article(&app, "Members guide", "Only users about widgets.", "published", "registered").await;
    let (_, draft) = add_article(&app, "Draft guide", "Unfinished about widgets.", "draft", "everyone").await;
    let db = &app.state.db;

    let anonymous: Vec<String> =
        search(db, "widgets", false, 10).await.expect("search").into_iter().map(|h| h.slug).collect();
    assert_eq!(anonymous, [public.as_str()]);
    let mut registered: Vec<String> =
        search(db, "widgets", true, 10).await.expect("search").into_iter().map(|h| h.slug).collect();
    registered.sort();
    assert_eq!(registered, [members.clone(), public.clone()]);

    assert!(published_by_slug(db, &public, false).await.expect("read").is_some());
    assert!(published_by_slug(db, &members, false).await.expect("read").is_none());
    assert!(published_by_slug(db, &draft, false).await.expect("read").is_none());
    assert!(published_by_slug(db, &draft, true).await.expect("read").is_none());
    assert!(published_by_slug(db, "no-such-article", true).await.expect("read").is_none());
    let article = published_by_slug(db, &members, true).await.expect("read").expect("visible when registered");
    assert_eq!(article.title, "Members guide");
    assert!(article.html.contains("Only users about widgets."));
    assert!(vote(db, &members, false, true).await.is_err());

    let anonymous_home = home(db, false).await.expect("home");
    let recent: Vec<&str> = anonymous_home.recent.iter().map(|a| a.slug.as_str()).collect();
    assert_eq!(recent, [public.as_str()]);
    assert_eq!(anonymous_home.popular.len(), 1);
    assert_eq!(home(db, true).await.expect("home").recent.len(), 2);
}

#[tokio::test]
async fn queries_in_search_syntax_are_plain_words_and_never_an_error() {
    let app = admin_app().await;
    add_article(&app, "Title and body", "Or not: AND OR NEAR title x.", "published", "everyone").await;
    let db = &app.state.db;
    for query in [
        "\"",
        "*",
        "AND OR",
        "title:x",
        "'; DROP TABLE articles; --",
        "NEAR(a b)",
        "-",
        "^title",
        "a OR",
        "(",
        "\u{0}",
        "{title body}: x",
        "x\"y",
        "   ",
        "",
    ] {
        let result = search(db, query, true, 10).await;
        assert!(result.is_ok(), "{query:?}: {result:?}");
    }
    assert!(search(db, "\"*()", false, 10).await.expect("search").is_empty());
    assert_eq!(search(db, "title:x", false, 10).await.expect("search").len(), 1);
    assert_eq!(app.count("articles").await, 1);
}

#[tokio::test]
async fn votes_and_views_are_counted_per_article() {
    let app = admin_app().await;
    let (one, slug) = add_article(&app, "Useful", "Yes.", "published", "everyone").await;
    let (_, other) = add_article(&app, "Less useful", "Maybe.", "published", "everyone").await;
    let db = &app.state.db;
    vote(db, &slug, false, true).await.expect("vote");
    vote(db, &slug, true, true).await.expect("vote");
    vote(db, &slug, false, false).await.expect("vote");
    vote(db, &other, false, false).await.expect("vote");
    let article = published_by_slug(db, &slug, false).await.expect("read").expect("article");
    assert_eq!((article.helpful_yes, article.helpful_no), (2, 1));
    published_by_slug(db, &slug, false).await.expect("read");
    assert_eq!(app.column("articles", "views", one).await.as_deref(), Some("2"));
    assert!(vote(db, "missing", true, true).await.is_err());
    let popular = home(db, false).await.expect("home").popular;
    assert_eq!(popular[0].slug, slug);
    let detail = app.get(&format!("/agent/articles/{one}")).await;
    assert!(detail.text().contains("2 yes · 1 no"), "{}", detail.text());
}

#[tokio::test]
async fn category_counts_and_listings_only_hold_what_the_viewer_may_read() {
    let app = admin_app().await;
    let added =
        app.submit("/agent/articles/categories", "/agent/articles/categories", &[("name", "Getting started")]).await;
    assert_eq!(added.status, 303);
    app.submit("/agent/articles/categories", "/agent/articles/categories", &[("name", "Empty shelf")]).await;
    let category = app.column("article_categories", "id", 1).await.expect("category");
    for (title, status, visibility) in
        [("Open", "published", "everyone"), ("Members", "published", "registered"), ("Unfinished", "draft", "everyone")]
    {
        let page = app
            .submit(
                "/agent/articles/new",
                "/agent/articles",
                &[("title", title), ("category", &category), ("status", status), ("visibility", visibility)],
            )
            .await;
        assert_eq!(page.status, 303);
    }
    let db = &app.state.db;
    let counts =
        |h: &articles::HomeArticles| h.categories.iter().map(|c| (c.name.clone(), c.articles)).collect::<Vec<_>>();
    let anonymous = home(db, false).await.expect("home");
    assert_eq!(counts(&anonymous), [("Getting started".to_owned(), 1), ("Empty shelf".to_owned(), 0)]);
    let registered = home(db, true).await.expect("home");
    assert_eq!(counts(&registered), [("Getting started".to_owned(), 2), ("Empty shelf".to_owned(), 0)]);
    assert_eq!(registered.recent[0].category_name.as_deref(), Some("Getting started"));

    let (shelf, listed) = in_category(db, "getting-started", false).await.expect("category").expect("found");
    assert_eq!(shelf.name, "Getting started");
    assert_eq!(listed.iter().map(|a| a.title.as_str()).collect::<Vec<_>>(), ["Open"]);
    let (_, listed) = in_category(db, "getting-started", true).await.expect("category").expect("found");
    assert_eq!(listed.len(), 2);
    assert!(in_category(db, "nowhere", true).await.expect("category").is_none());
    let article = published_by_slug(db, "open", false).await.expect("read").expect("article");
    assert_eq!(article.category.map(|c| c.slug).as_deref(), Some("getting-started"));

    let filtered = app.get(&format!("/agent/articles?category={category}")).await;
    assert_eq!(filtered.texts("table.list tbody tr").len(), 3);
    assert_eq!(app.get("/agent/articles?category=").await.status, 200);
}

#[tokio::test]
async fn the_console_list_pages_through_articles_newest_change_first() {
    let app = admin_app().await;
    let db = &app.state.db;
    let author = &frontdesk::services::Actor::load(&db.conn, 1).await.expect("load").expect("the administrator");
    let total = articles::PAGE_SIZE + 2;
    for n in 0..total {
        let form = ArticleForm { title: format!("Article {n}"), ..ArticleForm::default() };
        articles::create(db, author, &form).await.expect("create");
    }
    let first = app.get("/agent/articles").await;
    let rows = first.texts("table.list tbody tr");
    assert_eq!(rows.len() as u64, articles::PAGE_SIZE);
    assert!(rows[0].contains(&format!("Article {}", total - 1)), "{}", rows[0]);
    let next = first
        .doc()
        .select(&scraper::Selector::parse("a[rel=next]").expect("selector"))
        .next()
        .map(|a| a.value().attr("href").unwrap_or_default().to_owned());
    let second = app.get(&next.expect("a next page")).await;
    assert_eq!(second.status, 200);
    let rest = second.texts("table.list tbody tr");
    assert_eq!(rest.len(), 2);
    assert!(rest[1].contains("Article 0"), "{}", rest[1]);
    assert!(!second.has("a[rel=next]"));
}
