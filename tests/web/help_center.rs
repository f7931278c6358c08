//! The Help Center over HTTP: invitations, sign-up, password resets, tickets from both sides,
//! isolation between contacts, and the mail that goes with them (read from a real SMTP sink).

use reqwest::StatusCode;

use crate::helpers::{TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::mail::{deliver, inbox, last_mail_to, spawn_app_with_mail};
use crate::smtp_sink::SmtpSink;

pub const CONTACT_PASSWORD: &str = "melissa's secret";

/// An app with an administrator logged in on `app.client`, and a mail sink.
async fn console() -> (TestApp, SmtpSink) {
    let (app, sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    (app, sink)
}

/// Invites the contact from its page, follows the link in the mail, sets a password; gives the
/// contact's own browser, logged into the Help Center.
pub async fn invite_and_join(app: &TestApp, sink: &SmtpSink, contact_id: i64, email: &str) -> TestApp {
    let page = app
        .submit(
            &format!("/agent/contacts/{contact_id}"),
            &format!("/agent/contacts/{contact_id}/help-center/invite"),
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let invitation = last_mail_to(app, sink, email, "invited").await;
    let link = invitation.link("/help/invitation/");
    let customer = app.new_client();
    let page =
        customer.submit(&link, &link, &[("password", CONTACT_PASSWORD), ("confirm_password", CONTACT_PASSWORD)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(page.location.as_deref(), Some("/help/tickets"));
    customer
}

async fn submit_ticket(customer: &TestApp, subject: &str, description: &str) -> i64 {
    let page = customer
        .submit(
            "/help/tickets/new",
            "/help/tickets",
            &[("subject", subject), ("description", description), ("priority", "High")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let location = page.location.expect("location");
    let path = location.split('?').next().expect("path").to_owned();
    assert!(customer.get(&location).await.text().contains("has been submitted"));
    path.rsplit('/').next().expect("number").parse().expect("a ticket number")
}

#[tokio::test]
async fn invited_contact_submits_a_ticket_and_sees_the_agents_reply_and_status() {
    let (app, sink) = console().await;
    let id =
        app.add_contact(&[("first_name", "Melissa"), ("last_name", "Ortiz"), ("email", "melissa@example.com")]).await;
    let contact_page = app.get(&format!("/agent/contacts/{id}")).await;
    assert!(contact_page.texts("button").contains(&"Invite to Help Center".to_owned()));

    let customer = invite_and_join(&app, &sink, id, "melissa@example.com").await;
    let contact_page = app.get(&format!("/agent/contacts/{id}")).await;
    assert!(contact_page.text().contains("Status: Active"), "{}", contact_page.text());

    let number = submit_ticket(&customer, "Printer on fire", "It smokes when I print.").await;
    let ack = last_mail_to(&app, &sink, "melissa@example.com", &format!("[#{number}]")).await;
    assert!(ack.body().contains(&format!("#{number}")), "{}", ack.body());
    assert!(ack.link("/help/tickets/").ends_with(&format!("/help/tickets/{number}")));

    // The agent finds it, replies and puts it on hold.
    let list = app.get("/agent/tickets?view=open").await;
    assert!(list.text().contains("Printer on fire"), "{}", list.text());
    let ticket_path = format!("/agent/tickets/{number}");
    let page = app.submit(&ticket_path, &format!("{ticket_path}/replies"), &[("reply", "Please unplug it now.")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let page = app.submit(&ticket_path, &format!("{ticket_path}/properties"), &[("status", "On Hold")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());

    // The reply arrives by mail, threaded under the acknowledgement.
    let reply = last_mail_to(&app, &sink, "melissa@example.com", &format!("Re: [#{number}]")).await;
    assert!(reply.body().contains("Please unplug it now."));
    let ack_id = ack.header("Message-ID").expect("ack Message-ID");
    assert_eq!(reply.header("In-Reply-To").as_deref(), Some(ack_id.as_str()));
    assert!(reply.header("References").unwrap_or_default().contains(&ack_id));

    // The contact sees both in the Help Center.
    let mine = customer.get("/help/tickets").await;
    let row =
        mine.texts("tbody tr").into_iter().find(|r| r.contains("Printer on fire")).expect("the ticket in My Tickets");
    assert!(row.contains("On Hold"), "{row}");
    let thread = customer.get(&format!("/help/tickets/{number}")).await;
    assert!(thread.text().contains("Please unplug it now."));
    assert!(thread.text().contains("On Hold"));

    // And the contact's page tells the story.
    let history = app.get(&format!("/agent/contacts/{id}")).await.texts(".history li").join("\n");
    assert!(history.contains(&format!("Ticket #{number} status")) && history.contains("On Hold"), "{history}");
    assert!(history.contains("Agent replied"), "{history}");
}

#[tokio::test]
async fn internal_notes_never_reach_the_help_center_or_the_mail() {
    let (app, sink) = console().await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "m@example.com")]).await;
    let customer = invite_and_join(&app, &sink, id, "m@example.com").await;
    let number = submit_ticket(&customer, "Refund", "Please refund order 7.").await;
    let path = format!("/agent/tickets/{number}");
    let page = app.submit(&path, &format!("{path}/notes"), &[("note", "Customer is a known fraudster")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(app.get(&path).await.text().contains("Customer is a known fraudster"));

    assert!(!customer.get(&format!("/help/tickets/{number}")).await.html.contains("fraudster"));
    assert!(inbox(&app, &sink).await.iter().all(|m| !m.raw.contains("fraudster")));
}

#[tokio::test]
async fn a_contact_cannot_see_reply_to_or_close_another_contacts_ticket() {
    let (app, sink) = console().await;
    let a = app.add_contact(&[("last_name", "Alpha"), ("email", "a@example.com")]).await;
    let b = app.add_contact(&[("last_name", "Bravo"), ("email", "b@example.com")]).await;
    let alice = invite_and_join(&app, &sink, a, "a@example.com").await;
    let bob = invite_and_join(&app, &sink, b, "b@example.com").await;
    let number = submit_ticket(&alice, "Alpha's secret", "Only Alpha may read this.").await;

    let page = bob.get(&format!("/help/tickets/{number}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.html.contains("Only Alpha"));
    assert!(!bob.get("/help/tickets").await.html.contains("Alpha's secret"));

    // Crafted posts with Bob's own valid CSRF token.
    let token = bob.get("/help/tickets/new").await.value_of("csrf_token").expect("token");
    let reply =
        bob.post_raw(&format!("/help/tickets/{number}/replies"), &[("csrf_token", &token), ("body", "hijack")]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let close = bob.post_raw(&format!("/help/tickets/{number}/close"), &[("csrf_token", &token)]).await;
    assert_eq!(close.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("messages WHERE body = 'hijack'").await, 0);
    assert_eq!(app.count(&format!("tickets WHERE number = {number} AND status = 'Open'")).await, 1);
}

#[tokio::test]
async fn sign_up_attaches_to_the_existing_contact_once_the_address_is_verified() {
    let (app, sink) = console().await;
    let id = app.add_contact(&[("first_name", "Mel"), ("last_name", "Ortiz"), ("email", "melissa@example.com")]).await;
    let visitor = app.new_client();
    let fields = [
        ("first_name", "Melissa"),
        ("last_name", "Ortiz"),
        ("email", "Melissa@Example.com"),
        ("password", CONTACT_PASSWORD),
        ("confirm_password", CONTACT_PASSWORD),
    ];
    let page = visitor.submit("/help/signup", "/help/signup", &fields).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains("Check your inbox"));
    // An unknown address gets exactly the same answer.
    let mut unknown = fields;
    unknown[2] = ("email", "nobody@example.com");
    let other = visitor.submit("/help/signup", "/help/signup", &unknown).await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(
        other.texts("main p"),
        page.texts("main p").iter().map(|t| t.replace("melissa@example.com", "nobody@example.com")).collect::<Vec<_>>()
    );

    // Not verified yet: no login.
    let login = visitor
        .submit("/help/login", "/help/login", &[("email", "melissa@example.com"), ("password", CONTACT_PASSWORD)])
        .await;
    assert_eq!(login.status, StatusCode::UNPROCESSABLE_ENTITY);

    let mail = last_mail_to(&app, &sink, "melissa@example.com", "Confirm your email").await;
    let link = mail.link("/help/activate/");
    let wrong = visitor.submit(&link, &link, &[("password", "not what I chose")]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.column("contacts", "help_center_status", id).await.as_deref(), Some("not_invited"));
    let page = visitor.submit(&link, &link, &[("password", CONTACT_PASSWORD)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(app.count("contacts WHERE email = 'melissa@example.com'").await, 1, "no second contact");
    assert_eq!(app.column("contacts", "help_center_status", id).await.as_deref(), Some("active"));
    assert_eq!(app.column("contacts", "first_name", id).await.as_deref(), Some("Mel"), "the agent's data is kept");

    let fresh = app.new_client();
    let login = fresh
        .submit("/help/login", "/help/login", &[("email", "melissa@example.com"), ("password", CONTACT_PASSWORD)])
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    assert!(fresh.get("/help/tickets").await.text().contains("My Tickets"));

    // The same link does not work twice.
    let again = app.new_client().get(&link).await;
    assert_eq!(again.status, StatusCode::GONE);
}

#[tokio::test]
async fn sign_up_with_a_new_address_makes_one_contact_after_verification() {
    let (app, sink) = console().await;
    let visitor = app.new_client();
    let fields = [
        ("last_name", "Newman"),
        ("email", "new@example.com"),
        ("password", CONTACT_PASSWORD),
        ("confirm_password", CONTACT_PASSWORD),
    ];
    visitor.submit("/help/signup", "/help/signup", &fields).await;
    assert_eq!(app.count("contacts").await, 0, "nothing before verification");
    let link = last_mail_to(&app, &sink, "new@example.com", "Confirm").await.link("/help/activate/");
    let page = visitor.submit(&link, &link, &[("password", CONTACT_PASSWORD)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.count(
            "contacts WHERE email = 'new@example.com' AND source = 'help_center' AND help_center_status = 'active'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn bad_sign_ups_and_tickets_are_refused_with_messages_and_nothing_stored() {
    let (app, sink) = console().await;
    let visitor = app.new_client();
    let page = visitor
        .submit(
            "/help/signup",
            "/help/signup",
            &[
                ("last_name", ""),
                ("email", "not-an-address"),
                ("password", "long enough 1"),
                ("confirm_password", "long enough 2"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.field_error("last_name").is_some());
    assert!(page.field_error("email").is_some());
    assert_eq!(page.field_error("confirm_password").as_deref(), Some("The passwords do not match."));
    assert_eq!(page.value_of("email").as_deref(), Some("not-an-address"), "input kept");
    assert_eq!(app.count("signups").await, 0);

    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "m@example.com")]).await;
    let customer = invite_and_join(&app, &sink, id, "m@example.com").await;
    let empty =
        customer.submit("/help/tickets/new", "/help/tickets", &[("subject", "  "), ("description", "Body kept")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.field_error("subject").as_deref(), Some("Subject is required."));
    assert_eq!(empty.value_of("description").as_deref(), Some("Body kept"));
    let long = "x".repeat(201);
    let too_long =
        customer.submit("/help/tickets/new", "/help/tickets", &[("subject", &long), ("description", "d")]).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_long.field_error("subject").unwrap_or_default().contains("200"));
    assert_eq!(app.count("tickets").await, 0);
}

#[tokio::test]
async fn invitation_and_reset_links_work_once_and_expire() {
    let (app, sink) = console().await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "m@example.com")]).await;
    app.submit(&format!("/agent/contacts/{id}"), &format!("/agent/contacts/{id}/help-center/invite"), &[]).await;
    let link = last_mail_to(&app, &sink, "m@example.com", "invited").await.link("/help/invitation/");

    let customer = app.new_client();
    let mismatch =
        customer.submit(&link, &link, &[("password", "long enough 1"), ("confirm_password", "long enough 2")]).await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.column("contacts", "help_center_status", id).await.as_deref(), Some("invited"));
    let ok =
        customer.submit(&link, &link, &[("password", CONTACT_PASSWORD), ("confirm_password", CONTACT_PASSWORD)]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(app.new_client().get(&link).await.status, StatusCode::GONE, "used");

    // Forgot password: the same answer for a known and an unknown address.
    let visitor = app.new_client();
    let known = visitor.submit("/help/password-reset", "/help/password-reset", &[("email", "m@example.com")]).await;
    let unknown = visitor.submit("/help/password-reset", "/help/password-reset", &[("email", "x@example.com")]).await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.text().replace("m@example.com", "@"), unknown.text().replace("x@example.com", "@"));
    deliver(&app).await;
    assert!(inbox(&app, &sink).await.iter().all(|m| !m.to().contains("x@example.com")));
    let reset = last_mail_to(&app, &sink, "m@example.com", "Reset").await.link("/help/password-reset/");

    // Expired: move the clock of the token back.
    app.exec("UPDATE help_center_tokens SET expires_at = created_at WHERE purpose = 'password_reset'").await;
    let expired = visitor.get(&reset).await;
    assert_eq!(expired.status, StatusCode::GONE);
    assert!(expired.text().contains("expired"));
    let login = visitor
        .submit("/help/login", "/help/login", &[("email", "m@example.com"), ("password", CONTACT_PASSWORD)])
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "the old password still works");
}

#[tokio::test]
async fn agent_and_help_center_sessions_are_separate() {
    let (app, sink) = console().await;
    // The administrator's browser is not a Help Center user.
    let page = app.get("/help/tickets").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location.unwrap_or_default().starts_with("/help/login"));

    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", ADMIN_EMAIL)]).await;
    let customer = invite_and_join(&app, &sink, id, ADMIN_EMAIL).await;
    // A contact's session does not open the console, even with the same address.
    let console = customer.get("/agent/contacts").await;
    assert_eq!(console.status, StatusCode::SEE_OTHER);
    assert!(console.location.unwrap_or_default().starts_with("/agent/login"));
    // And the agent's password does not open the Help Center.
    let fresh = app.new_client();
    let login =
        fresh.submit("/help/login", "/help/login", &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)]).await;
    assert_eq!(login.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_contact_without_email_cannot_be_invited_and_removing_access_logs_out() {
    let (app, sink) = console().await;
    let no_email = app.add_contact(&[("last_name", "Phoneonly"), ("phone", "+44 20 7946 0958")]).await;
    let page = app.get(&format!("/agent/contacts/{no_email}")).await;
    assert!(!page.texts("button").contains(&"Invite to Help Center".to_owned()));
    let token = page.value_of("csrf_token").expect("token");
    let crafted =
        app.post_raw(&format!("/agent/contacts/{no_email}/help-center/invite"), &[("csrf_token", &token)]).await;
    assert_eq!(crafted.status, StatusCode::CONFLICT);
    assert!(crafted.text().contains("Only a contact with an email address"));

    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "m@example.com")]).await;
    let customer = invite_and_join(&app, &sink, id, "m@example.com").await;
    let page =
        app.submit(&format!("/agent/contacts/{id}"), &format!("/agent/contacts/{id}/help-center/remove"), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(customer.get("/help/tickets").await.status, StatusCode::SEE_OTHER, "logged out");
    // Now the contact can be deleted.
    let delete =
        app.submit(&format!("/agent/contacts/{id}/delete"), &format!("/agent/contacts/{id}/delete"), &[]).await;
    assert_eq!(delete.status, StatusCode::SEE_OTHER, "{}", delete.text());
}

#[tokio::test]
async fn a_ticket_submitted_while_the_mail_server_is_down_is_acknowledged_once_it_is_back() {
    let port = crate::smtp_sink::free_port();
    let app = crate::helpers::spawn_app_with(|s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        s.outbox_interval = 3600;
    })
    .await;
    app.set_up_admin().await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "m@example.com")]).await;
    // The invitation waits in the outbox; its link is read from there.
    app.submit(&format!("/agent/contacts/{id}"), &format!("/agent/contacts/{id}/help-center/invite"), &[]).await;
    assert_eq!(deliver(&app).await, 0, "the server is down");
    let body = app.column("outbox", "body_text", 1).await.expect("the queued invitation");
    let start = body.find("/help/invitation/").expect("a link");
    let link = body[start..].split_whitespace().next().expect("link").to_owned();
    let customer = app.new_client();
    customer.submit(&link, &link, &[("password", CONTACT_PASSWORD), ("confirm_password", CONTACT_PASSWORD)]).await;

    let number = submit_ticket(&customer, "While down", "The mail server is down.").await;
    assert_eq!(app.count(&format!("tickets WHERE number = {number}")).await, 1, "the ticket is stored");
    assert_eq!(deliver(&app).await, 0);
    assert_eq!(app.count("outbox WHERE status = 'pending' AND attempts >= 1").await, 2);

    let sink = SmtpSink::start(port).await;
    app.exec("UPDATE outbox SET next_attempt_at = created_at WHERE status = 'pending'").await;
    assert_eq!(deliver(&app).await, 2, "the invitation and the acknowledgement");
    assert_eq!(deliver(&app).await, 0);
    let acks: Vec<_> = sink.messages().into_iter().filter(|m| m.contains(&format!("[#{number}]"))).collect();
    assert_eq!(acks.len(), 1, "sent exactly once");
}

#[tokio::test]
async fn the_help_center_lists_searches_and_shows_articles_only_to_whom_they_are_for() {
    use crate::agent_articles::add_article;
    let (app, sink) = console().await;
    let (_, public) = add_article(
        &app,
        "Resetting your router",
        "Hold the button for <script>alert(1)</script> ten seconds.",
        "published",
        "everyone",
    )
    .await;
    let (_, private) =
        add_article(&app, "Router warranty claims", "Send the router back within a year.", "published", "registered")
            .await;
    add_article(&app, "Router draft notes", "Not ready.", "draft", "everyone").await;

    let visitor = app.new_client();
    let home = visitor.get("/help").await;
    assert!(home.text().contains("Resetting your router"));
    assert!(!home.text().contains("warranty") && !home.text().contains("draft"));
    let results = visitor.get("/help/articles?q=router").await;
    assert_eq!(results.texts(".results a"), vec!["Resetting your router".to_owned()]);
    assert_eq!(visitor.get(&format!("/help/articles/{private}")).await.status, StatusCode::NOT_FOUND);
    let article = visitor.get(&format!("/help/articles/{public}")).await;
    assert_eq!(article.status, StatusCode::OK);
    assert!(!article.html.contains("<script>alert(1)"), "sanitised");

    // Was this helpful? counts once per visitor.
    let path = format!("/help/articles/{public}");
    let vote = visitor.submit(&path, &format!("{path}/vote"), &[("helpful", "yes")]).await;
    assert_eq!(vote.status, StatusCode::SEE_OTHER);
    let again = visitor
        .post_raw(
            &format!("{path}/vote"),
            &[
                ("helpful", "yes"),
                ("csrf_token", &visitor.get("/help/password-reset").await.value_of("csrf_token").unwrap()),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count("articles WHERE helpful_yes = 1").await, 1);
    // Two page views (the article, then the form's page before voting); the votes count none.
    assert_eq!(app.count(&format!("articles WHERE slug = '{public}' AND views = 2")).await, 1);

    // A logged-in Help Center user reads and finds the registered-only article.
    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "m@example.com")]).await;
    let customer = invite_and_join(&app, &sink, id, "m@example.com").await;
    assert_eq!(customer.get(&format!("/help/articles/{private}")).await.status, StatusCode::OK);
    let results = customer.get("/help/articles?q=router").await;
    assert_eq!(results.texts(".results a").len(), 2);
}

#[tokio::test]
async fn administrators_brand_the_help_center_and_can_turn_sign_up_off() {
    let (app, _sink) = console().await;
    let bad = app
        .submit(
            "/agent/settings/help-center",
            "/agent/settings/help-center",
            &[("company_name", "Acme"), ("brand_color", "red;}body{display:none")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.field_error("brand_color").is_some());
    assert_eq!(bad.value_of("company_name").as_deref(), Some("Acme"));

    let form = app.get("/agent/settings/help-center").await;
    let token = form.value_of("csrf_token").unwrap();
    // The checkbox left unticked: sign-up off.
    let ok = app
        .post_raw(
            "/agent/settings/help-center",
            &[("csrf_token", &token), ("company_name", "Acme Support"), ("brand_color", "#AA3300")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);

    let visitor = app.new_client();
    assert!(visitor.get("/help").await.text().contains("Acme Support"));
    let css = visitor.client.get(visitor.url("/help/theme.css")).send().await.unwrap().text().await.unwrap();
    assert!(css.contains("--brand: #aa3300"), "{css}");
    assert_eq!(visitor.get("/help/signup").await.status, StatusCode::NOT_FOUND);
    assert_eq!(visitor.get("/help/activate/anything").await.status, StatusCode::NOT_FOUND);
    assert!(!visitor.get("/help/login").await.html.contains("/help/signup"));
}

#[tokio::test]
async fn agents_invite_several_contacts_from_the_list() {
    let (app, sink) = console().await;
    let a = app.add_contact(&[("last_name", "Alpha"), ("email", "a@example.com")]).await;
    let b = app.add_contact(&[("last_name", "Bravo"), ("email", "b@example.com")]).await;
    let c = app.add_contact(&[("last_name", "Charlie")]).await;
    let list = app.get("/agent/contacts").await;
    assert!(list.has("input[type=checkbox][aria-label='Select Alpha']"));
    let token = list.value_of("csrf_token").expect("token");
    let (a, b, c) = (a.to_string(), b.to_string(), c.to_string());
    let page = app
        .post_raw(
            "/agent/contacts/invite-to-help-center",
            &[("csrf_token", &token), ("ids", &a), ("ids", &b), ("ids", &c)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let after = app.get(page.location.as_deref().unwrap()).await;
    assert!(after.text().contains("Invitations sent to 2 contacts; 1 skipped"), "{}", after.text());
    assert_eq!(app.count("contacts WHERE help_center_status = 'invited'").await, 2);
    let mails = inbox(&app, &sink).await;
    assert_eq!(mails.len(), 2);
}

#[tokio::test]
async fn agents_open_tickets_on_a_contacts_behalf_and_light_agents_only_read_them() {
    let (app, sink) = console().await;
    let id = app.add_contact(&[("first_name", "Melissa"), ("last_name", "Ortiz"), ("email", "m@example.com")]).await;
    let new_path = format!("/agent/tickets/new?contact_id={id}");
    let empty =
        app.submit(&new_path, "/agent/tickets", &[("subject", ""), ("description", "Called about billing")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.value_of("description").as_deref(), Some("Called about billing"));
    assert_eq!(app.count("tickets").await, 0);

    let page = app
        .submit(
            &new_path,
            "/agent/tickets",
            &[("subject", "Billing question"), ("description", "Called about billing"), ("channel", "phone")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let path = page.location.expect("location");
    let ticket = app.get(&path).await;
    assert!(ticket.text().contains("Channel: Phone"), "{}", ticket.text());
    assert!(app.get("/agent/tickets?view=unassigned").await.text().contains("Billing question"));
    let number = path.rsplit('/').next().unwrap().to_owned();
    last_mail_to(&app, &sink, "m@example.com", &format!("[#{number}]")).await;

    let light = app.client_as("Light Agent", "light@example.com").await;
    let view = light.get(&path).await;
    assert_eq!(view.status, StatusCode::OK);
    assert!(!view.has(&format!("form[action='{path}/replies']")));
    let token = light.get("/agent/contacts").await.value_of("csrf_token").unwrap_or_default();
    let reply = light.post_raw(&format!("{path}/replies"), &[("csrf_token", &token), ("reply", "sneaky")]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("messages WHERE body = 'sneaky'").await, 0);
}

#[tokio::test]
async fn repeated_failed_help_center_logins_are_throttled() {
    let (app, sink) = console().await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "m@example.com")]).await;
    invite_and_join(&app, &sink, id, "m@example.com").await;
    let attacker = app.new_client();
    for _ in 0..6 {
        let page = attacker
            .submit("/help/login", "/help/login", &[("email", "m@example.com"), ("password", "wrong password")])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.text().contains("The email or password is not right."));
    }
    let page = attacker
        .submit("/help/login", "/help/login", &[("email", "m@example.com"), ("password", CONTACT_PASSWORD)])
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
}

#[tokio::test]
async fn signing_up_with_someone_elses_address_opens_nothing() {
    let (app, sink) = console().await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "victim@example.com")]).await;
    let victim = invite_and_join(&app, &sink, id, "victim@example.com").await;
    let attacker = app.new_client();
    let fields = [
        ("last_name", "Evil"),
        ("email", "victim@example.com"),
        ("password", "attacker pass"),
        ("confirm_password", "attacker pass"),
    ];
    let page = attacker.submit("/help/signup", "/help/signup", &fields).await;
    assert_eq!(page.status, StatusCode::OK);
    // The victim, a Help Center user already, is told so and offered a reset; no sign-up waits.
    let mail = last_mail_to(&app, &sink, "victim@example.com", "Help Center account").await;
    assert!(mail.body().contains("you already have an account"), "{}", mail.body());
    assert_eq!(app.count("signups").await, 0);
    let login = attacker
        .submit("/help/login", "/help/login", &[("email", "victim@example.com"), ("password", "attacker pass")])
        .await;
    assert_eq!(login.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(victim.get("/help/tickets").await.status, StatusCode::OK, "the victim stays logged in");

    // A new address: the mailbox's owner follows the link but does not know the password.
    let fields = [
        ("last_name", "Evil"),
        ("email", "bystander@example.com"),
        ("password", "attacker pass"),
        ("confirm_password", "attacker pass"),
    ];
    attacker.submit("/help/signup", "/help/signup", &fields).await;
    let link = last_mail_to(&app, &sink, "bystander@example.com", "Confirm").await.link("/help/activate/");
    let owner = app.new_client();
    let page = owner.submit(&link, &link, &[("password", "a guess")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("contacts WHERE email = 'bystander@example.com'").await, 0);
}

#[tokio::test]
async fn changing_a_help_center_users_email_ends_its_sessions_and_links() {
    let (app, sink) = console().await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "old@example.com")]).await;
    let customer = invite_and_join(&app, &sink, id, "old@example.com").await;
    let edit = format!("/agent/contacts/{id}/edit");
    let cleared = app.submit(&edit, &format!("/agent/contacts/{id}"), &[("email", "")]).await;
    assert_eq!(cleared.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(cleared.field_error("email").unwrap_or_default().contains("Remove its Help Center access first"));

    let visitor = app.new_client();
    visitor.submit("/help/password-reset", "/help/password-reset", &[("email", "old@example.com")]).await;
    let reset = last_mail_to(&app, &sink, "old@example.com", "Reset").await.link("/help/password-reset/");
    let moved = app.submit(&edit, &format!("/agent/contacts/{id}"), &[("email", "new@example.com")]).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    assert_eq!(customer.get("/help/tickets").await.status, StatusCode::SEE_OTHER, "logged out");
    assert_eq!(visitor.get(&reset).await.status, StatusCode::GONE, "the old address's link is dead");
    let login = visitor
        .submit("/help/login", "/help/login", &[("email", "new@example.com"), ("password", CONTACT_PASSWORD)])
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn agents_find_tickets_by_number_subject_words_and_contact_email() {
    let (app, sink) = console().await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "m@example.com")]).await;
    let customer = invite_and_join(&app, &sink, id, "m@example.com").await;
    let printer = submit_ticket(&customer, "Printer on fire", "Smoke").await;
    submit_ticket(&customer, "Invoice missing", "Where is it?").await;
    let subjects = |page: crate::helpers::Page| {
        assert_eq!(page.status, StatusCode::OK);
        page.texts("tbody td:nth-child(2) a")
    };
    assert_eq!(subjects(app.get("/agent/tickets?q=print").await), vec!["Printer on fire".to_owned()], "a prefix");
    assert_eq!(subjects(app.get("/agent/tickets?q=FIRE+printer").await), vec!["Printer on fire".to_owned()]);
    assert_eq!(subjects(app.get(&format!("/agent/tickets?q=%23{printer}")).await), vec!["Printer on fire".to_owned()]);
    assert_eq!(subjects(app.get("/agent/tickets?q=m%40example.com").await).len(), 2);
    for odd in ["%22", "*", "AND+OR", "subject%3Ax", "%27%3B+DROP+TABLE+tickets", "NEAR(", "%25"] {
        let page = app.get(&format!("/agent/tickets?q={odd}")).await;
        assert_eq!(page.status, StatusCode::OK, "{odd}");
        assert!(subjects(page).is_empty(), "{odd}");
    }
}

#[tokio::test]
async fn tickets_submitted_at_the_same_moment_get_distinct_numbers_and_one_acknowledgement_each() {
    let (app, sink) = console().await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "m@example.com")]).await;
    let customer = invite_and_join(&app, &sink, id, "m@example.com").await;
    let token = customer.get("/help/tickets/new").await.value_of("csrf_token").expect("token");
    let mut posts = tokio::task::JoinSet::new();
    for i in 0..24 {
        let (client, url, token) = (customer.client.clone(), customer.url("/help/tickets"), token.clone());
        posts.spawn(async move {
            let subject = format!("Burst {i}");
            let fields = [("csrf_token", token.as_str()), ("subject", subject.as_str()), ("description", "At once")];
            client.post(url).form(&fields).send().await.expect("POST").status()
        });
    }
    while let Some(status) = posts.join_next().await {
        assert_eq!(status.expect("task"), StatusCode::SEE_OTHER);
    }

    assert_eq!(app.count("tickets").await, 24);
    assert_eq!(app.count("messages").await, 24, "a first message each");
    assert_eq!(app.count("(SELECT DISTINCT number FROM tickets) n").await, 24);
    assert_eq!(app.count("tickets WHERE number BETWEEN 1001 AND 1024").await, 24, "no gaps on a fresh database");
    let acks: Vec<_> = inbox(&app, &sink)
        .await
        .into_iter()
        .filter(|m| m.header("Subject").unwrap_or_default().contains("Burst"))
        .collect();
    assert_eq!(acks.len(), 24);
    for ack in &acks {
        // Each acknowledgement names its own ticket's number and subject.
        let subject = ack.header("Subject").unwrap();
        let number: i64 = subject[2..6].parse().unwrap();
        let stored = app.count(&format!("tickets WHERE number = {number} AND '{subject}' LIKE '%' || subject")).await;
        assert_eq!(stored, 1, "{subject}");
    }
}

/// Posts the Submit a ticket form as a browser does with files chosen: multipart, with the
/// page's CSRF token (unless `csrf` is false).
pub async fn submit_with_files(
    customer: &TestApp,
    subject: &str,
    files: Vec<(&str, Vec<u8>)>,
    csrf: bool,
) -> crate::helpers::Page {
    let page = customer.get("/help/tickets/new").await;
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in crate::helpers::form_values(&page.html, "/help/tickets") {
        if csrf && name == "csrf_token" {
            form = form.text(name, value);
        }
    }
    form =
        form.text("subject", subject.to_owned()).text("description", "Please see the files.").text("priority", "Low");
    for (name, data) in files {
        form = form.part(
            "files",
            reqwest::multipart::Part::bytes(data)
                .file_name(name.to_owned())
                .mime_str("application/octet-stream")
                .expect("mime"),
        );
    }
    let response = customer.client.post(customer.url("/help/tickets")).multipart(form).send().await.expect("post");
    crate::helpers::Page::from(response).await
}

#[tokio::test]
async fn a_contact_attaches_files_to_a_new_ticket_and_agents_see_them() {
    let (app, sink) = crate::mail::spawn_app_with_mail_and(|s| s.max_attachment_mb = 1).await;
    app.set_up_admin().await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "melissa@example.com")]).await;
    let customer = invite_and_join(&app, &sink, id, "melissa@example.com").await;
    let screenshot = b"\x89PNG fake image bytes".to_vec();

    // Without the CSRF token: refused, nothing stored.
    let page = submit_with_files(&customer, "Broken screen", vec![("screen.png", screenshot.clone())], false).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // A file over the limit: the form again, the subject kept, the message next to the files.
    let page = submit_with_files(&customer, "Broken screen", vec![("huge.bin", vec![0u8; 1536 * 1024])], true).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.text());
    assert_eq!(page.value_of("subject").as_deref(), Some("Broken screen"));
    assert!(page.field_error("files").unwrap_or_default().contains("huge.bin"), "{}", page.text());
    assert_eq!(app.count("tickets").await, 0);

    let page = submit_with_files(
        &customer,
        "Broken screen",
        vec![("screen.png", screenshot.clone()), ("../../notes.txt", b"notes".to_vec())],
        true,
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let ticket = customer.get("/help/tickets/1001").await;
    assert_eq!(ticket.texts("ul.files a"), ["screen.png", "notes.txt"]);
    let sel = scraper::Selector::parse("ul.files a").expect("selector");
    let link = ticket.doc().select(&sel).next().expect("link").value().attr("href").expect("href").to_owned();
    let response = customer.client.get(customer.url(&link)).send().await.expect("download");
    assert_eq!(response.bytes().await.expect("bytes").as_ref(), screenshot.as_slice());
    // The agent sees them on the ticket page.
    let agent_page = app.get("/agent/tickets/1001").await;
    assert_eq!(agent_page.texts("ul.files a"), ["screen.png", "notes.txt"]);
}

#[tokio::test]
async fn my_tickets_pages_through_older_tickets_and_keeps_the_status_filter() {
    let (app, sink) = console().await;
    let id = app.add_contact(&[("last_name", "Many"), ("email", "many@example.com")]).await;
    let other = app.add_contact(&[("last_name", "Other"), ("email", "other@example.com")]).await;
    let customer = invite_and_join(&app, &sink, id, "many@example.com").await;
    let someone = invite_and_join(&app, &sink, other, "other@example.com").await;
    submit_ticket(&someone, "Not yours", "Someone else's.").await;
    let mut numbers = Vec::new();
    for n in 0..30 {
        numbers.push(submit_ticket(&customer, &format!("Question {n:02}"), "?").await);
    }

    let first = customer.get("/help/tickets").await;
    let listed = |page: &crate::helpers::Page| page.texts("table.list tbody tr td:first-child");
    assert_eq!(listed(&first).len(), 25);
    assert_eq!(listed(&first)[0], format!("#{}", numbers[29]), "newest activity first");
    let older = first.doc().select(&scraper::Selector::parse("a[rel=next]").expect("sel")).next().map(|a| {
        assert_eq!(a.text().collect::<String>(), "Older tickets");
        a.value().attr("href").expect("href").to_owned()
    });
    let second = customer.get(&older.expect("a link to older tickets")).await;
    assert_eq!(second.status, StatusCode::OK);
    let mut all: Vec<String> = listed(&first).into_iter().chain(listed(&second)).collect();
    assert_eq!(all.len(), 30);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 30, "no ticket twice");
    assert!(!second.has("a[rel=next]"));
    assert!(!first.html.contains("Not yours") && !second.html.contains("Not yours"));

    // The filter stays on the next page's link.
    let open = customer.get("/help/tickets?status=open").await;
    let link = open
        .doc()
        .select(&scraper::Selector::parse("a[rel=next]").expect("sel"))
        .next()
        .map(|a| a.value().attr("href").expect("href").to_owned());
    assert!(link.expect("older open tickets").contains("status=Open"));
    // A mangled cursor is a clear 400, not an error page.
    assert_eq!(customer.get("/help/tickets?after_at=yesterday&after_id=1").await.status, StatusCode::BAD_REQUEST);
}
