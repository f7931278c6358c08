use frontdesk::config::{SeedArgs, Settings};

use crate::helpers::spawn_app;

#[tokio::test]
async fn seeding_fills_the_database_and_the_pages_work_on_it() {
    let app = spawn_app().await;
    let mut settings = Settings::defaults();
    settings.database_url.clone_from(&app.database_url);
    let args =
        SeedArgs { contacts: 120, accounts: 7, tickets: 300, articles: 30, admin_email: "boss@example.com".into() };
    frontdesk::seed::run(&settings, &args).await.expect("seed");

    assert_eq!(app.count("contacts").await, 120);
    assert_eq!(app.count("accounts").await, 7);
    assert_eq!(app.count("tickets").await, 300);
    assert_eq!(app.count("messages").await, 300);
    assert_eq!(app.count("tickets t JOIN contacts c ON c.id = t.contact_id").await, 300, "tickets point at contacts");
    assert_eq!(app.count("contact_search_terms WHERE field = 'first_name'").await, 120, "a word of each first name");
    assert_eq!(app.count("contact_search_terms WHERE field = 'email'").await, 0, "addresses are found by fragments");
    assert_eq!(app.count("contact_fragments").await, 120, "each contact's fragments");

    let login = app.login("boss@example.com", "password123").await;
    assert_eq!(login.status, 303);
    let home = app.get("/agent/contacts").await;
    assert_eq!(home.texts("tbody tr").len(), 25);
    assert!(home.has("a[rel=next]"));
    let email = app.column("contacts", "email", 42).await.expect("an email");
    let found = app.get(&format!("/agent/contacts?q={}", email.replace('@', "%40"))).await;
    assert_eq!(found.texts("tbody tr").len(), 1, "{email}");
    assert_eq!(app.get("/agent/contacts/42").await.status, 200);

    // Help Center users log in with the demo password, see their tickets, find articles; and
    // new tickets continue the seeded numbers.
    let user = app.column("contacts", "email", 20).await.expect("contact 20 is a Help Center user");
    let customer = app.new_client();
    let login = customer.submit("/help/login", "/help/login", &[("email", &user), ("password", "password123")]).await;
    assert_eq!(login.status, 303, "{}", login.text());
    assert_eq!(customer.get("/help/tickets").await.status, 200);
    assert_eq!(app.count("articles").await, 30);
    assert!(!customer.get("/help/articles?q=router").await.texts(".results a").is_empty());
    let page = customer
        .submit("/help/tickets/new", "/help/tickets", &[("subject", "After the seed"), ("description", "Hello")])
        .await;
    assert_eq!(page.location.as_deref(), Some("/help/tickets/1301?submitted=1"));
}
