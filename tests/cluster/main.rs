#![allow(clippy::unwrap_used, clippy::expect_used)]

//! Several instances, proven: three `frontdesk` processes on one PostgreSQL database behind
//! HAProxy (round-robin, health checks on `/healthz`), a whole journey through the balancer,
//! and one instance killed with SIGKILL in the middle of it while writes are under way.
//!
//! It needs PostgreSQL and HAProxy, so it is ignored by `cargo test`; `.ci/run` runs it:
//!
//! ```sh
//! TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test FRONTDESK_TEST_IMAP=127.0.0.1:10143 \
//!     cargo test --test cluster -- --ignored
//! ```
//!
//! Without `FRONTDESK_TEST_IMAP` the support mailboxes are left out (said loudly).

// The web tests' form reading, mail reading and SMTP sink, shared rather than copied.
#[path = "../web/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[path = "../web/mail.rs"]
#[allow(dead_code)]
mod mail;
#[path = "../web/smtp_sink.rs"]
mod smtp_sink;

mod browser;
mod checks;
mod cluster;
mod load;
mod mailboxes;
mod observe;

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::browser::{Answer, Browser};
use crate::cluster::{Balancer, Database, Instance};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::load::Load;
use crate::mailboxes::Mailbox;
use crate::observe::Observer;
use crate::smtp_sink::{free_port, SmtpSink};

const AGENT_EMAIL: &str = "sam@example.com";
const AGENT_PASSWORD: &str = "sam's agent password";
const CUSTOMER_EMAIL: &str = "melissa@example.com";
const CUSTOMER_PASSWORD: &str = "melissa's secret";
/// The same on every instance: it signs the session cookies any of them may be sent.
const SECRET_KEY: &str = "the cluster's shared secret key, at least 32 characters";

/// Three instances, HAProxy, a database and an SMTP sink; the instances are killed, HAProxy
/// stopped and the database dropped when it goes, whether or not the test passed.
struct Cluster {
    balancer: Balancer,
    instances: Vec<Instance>,
    sink: SmtpSink,
    db: Observer,
    _database: Database,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for instance in &self.instances {
                let log = instance.log_lines();
                let tail = &log[log.len().saturating_sub(40)..];
                eprintln!("--- last lines of {} ---\n{}", instance.name, tail.join("\n"));
            }
        }
    }
}

impl Cluster {
    async fn start() -> Self {
        let admin_url = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|url| url.starts_with("postgres"))
            .expect("TEST_DATABASE_URL=postgres://... (a database the test may create databases from)");
        let database = Database::create(&admin_url).await;
        let smtp_port = free_port();
        // A mail server that takes a while over each message, as real ones do, so that the three
        // outbox workers' rounds overlap.
        let sink = SmtpSink::start_answering_after(smtp_port, Duration::from_millis(30)).await;
        let balancer_port = free_port();
        let env = [
            ("DATABASE_URL", database.url.clone()),
            ("FRONTDESK_SECRET_KEY", SECRET_KEY.to_owned()),
            ("FRONTDESK_BASE_URL", format!("http://127.0.0.1:{balancer_port}")),
            ("FRONTDESK_TRUST_PROXY", "true".to_owned()),
            ("FRONTDESK_SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}")),
            ("FRONTDESK_MAIL_FROM", "support@frontdesk.test".to_owned()),
            ("FRONTDESK_OUTBOX_INTERVAL", "1".to_owned()),
            ("FRONTDESK_MAIL_POLL_INTERVAL", "1".to_owned()),
            ("FRONTDESK_ACKS_PER_HOUR", "1000".to_owned()),
            ("FRONTDESK_DB_POOL", "5".to_owned()),
            ("FRONTDESK_LOG", "info".to_owned()),
        ];
        // One after the other, so that the instances' once-a-second rounds (outbox, mailboxes)
        // fall apart from each other, as on servers started at different moments, and all three
        // take part. (Started at the same moment they would migrate one after another:
        // tests/web/instances.rs.)
        let mut instances = Vec::new();
        for name in ["fd1", "fd2", "fd3"] {
            let env = env.clone();
            instances.push(tokio::task::spawn_blocking(move || Instance::start(name, &env)).await.expect("start"));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let servers: Vec<(String, u16)> = instances.iter().map(|i| (i.name.clone(), i.port)).collect();
        let balancer = Balancer::start(balancer_port, &servers);
        for (name, _) in &servers {
            balancer.wait_for(name, "UP", Duration::from_secs(10)).await;
        }
        let db = Observer::connect(&database).await;
        Self { balancer, instances, sink, db, _database: database }
    }

    fn browser(&self) -> Browser {
        Browser::new(self.balancer.port)
    }

    fn logs(&self) -> Vec<(String, Vec<String>)> {
        self.instances.iter().map(|i| (i.name.clone(), i.log_lines())).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL) and HAProxy; .ci/run runs it"]
async fn a_journey_through_haproxy_carries_on_when_an_instance_is_killed_and_loses_nothing_acknowledged() {
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(150), journey()).await.expect("the journey took more than 150 s");
    eprintln!("the cluster journey took {:.1} s", started.elapsed().as_secs_f64());
}

async fn journey() {
    let began = Instant::now();
    let mut cluster = Cluster::start().await;
    let imap = mailboxes::server();

    // Set-up: the first visit leads to /setup, which makes the first administrator.
    let admin = Arc::new(cluster.browser());
    let mut path = "/".to_owned();
    while let Some(next) = admin.get(&path).await.location {
        path = next;
    }
    assert_eq!(path, "/setup");
    let fields = [
        ("name", "Ada Admin"),
        ("email", ADMIN_EMAIL),
        ("password", ADMIN_PASSWORD),
        ("confirm_password", ADMIN_PASSWORD),
    ];
    admin.must_submit("/setup", "/setup", &fields).await;
    let profile = option_value(&admin.get("/agent/settings/agents/new").await, "select[name=profile] option", "Agent");
    let fields =
        [("name", "Sam Agent"), ("email", AGENT_EMAIL), ("password", AGENT_PASSWORD), ("profile", profile.as_str())];
    admin.must_submit("/agent/settings/agents/new", "/agent/settings/agents", &fields).await;
    let mailboxes: Vec<Mailbox> = match &imap {
        Some(server) => ["help@acme.example", "sales@acme.example"].map(|a| Mailbox::new(a, server)).into(),
        None => Vec::new(),
    };
    for mailbox in &mailboxes {
        let form = mailbox.form();
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = "/agent/settings/channels/email/new";
        admin.must_submit(page, "/agent/settings/channels/email", &fields).await;
    }

    // An agent logs in. The instance that made its session is the one that will die.
    let agent = cluster.browser();
    agent.must_submit("/agent/login", "/agent/login", &[("email", AGENT_EMAIL), ("password", AGENT_PASSWORD)]).await;
    let victim = agent.last_server();
    let mut contacts = Vec::new();
    for (first, last) in [("Melissa", "Ortiz"), ("Bob", "Brown"), ("Cy", "Cole")] {
        contacts.push(add_and_edit_contact(&agent, first, last).await);
    }

    // A visitor signs up in the Help Center, confirms the address from the mail, submits a
    // ticket and finds it in My Tickets.
    let customer = Arc::new(cluster.browser());
    let fields = [
        ("first_name", "Melissa"),
        ("last_name", "Ortiz"),
        ("email", CUSTOMER_EMAIL),
        ("password", CUSTOMER_PASSWORD),
        ("confirm_password", CUSTOMER_PASSWORD),
    ];
    let page = answered(customer.submit("/help/signup", "/help/signup", &fields).await, "sign-up");
    assert!(page.text().contains("Check your inbox"), "{}", page.text());
    let link = wait_for_mail(&cluster.sink, CUSTOMER_EMAIL, "Confirm").await.link("/help/activate/");
    customer.must_submit(&link, &link, &[("password", CUSTOMER_PASSWORD)]).await;
    let fields = [("subject", "Printer on fire"), ("description", "It smokes when I print."), ("priority", "High")];
    let submitted = customer.must_submit("/help/tickets/new", "/help/tickets", &fields).await;
    let number: i64 = submitted.split(['/', '?']).nth(3).and_then(|n| n.parse().ok()).expect("a ticket number");
    assert!(customer.get("/help/tickets").await.text().contains("Printer on fire"));

    // The agent invites its contacts to the Help Center at once: mail for the three workers.
    let list = agent.get("/agent/contacts").await;
    let mut fields = vec![("csrf_token".to_owned(), list.value_of("csrf_token").expect("a CSRF token"))];
    fields.extend(contacts.iter().map(|(id, _)| ("ids".to_owned(), id.to_string())));
    agent.post("/agent/contacts/invite-to-help-center", &fields).await.acknowledged("invite").expect("invited");

    // Customers write to the support addresses: enough mail that a poll takes a while, and
    // another instance's round comes while it runs.
    let mut delivered = Vec::new();
    for (n, mailbox) in mailboxes.iter().enumerate() {
        delivered.extend(mailbox.deliver(&format!("early{n}"), 20).await);
    }

    // Writes go on in the background: the administrator adds and edits contacts, the customer
    // submits tickets.
    let load = Load::start(admin.clone(), customer.clone());
    load.wait_for(2, began, Duration::from_secs(30)).await;
    let before_kill: Vec<String> = [&*admin, &agent, &*customer].iter().flat_map(|b| b.servers(None)).collect();
    for instance in &cluster.instances {
        assert!(before_kill.contains(&instance.name), "round-robin never reached {}", instance.name);
    }

    // SIGKILL the instance that made the agent's session, in the middle of the writes.
    let index = cluster.instances.iter().position(|i| i.name == victim).expect("the victim");
    let tries = kill_when_idle(&mut cluster.instances[index], &cluster.db).await;
    let killed_at = Instant::now();
    eprintln!("killed {victim} (frozen {tries} time(s) to find it holding no claim or lease)");
    let survivors: Vec<String> = cluster.instances.iter().map(|i| i.name.clone()).filter(|n| *n != victim).collect();

    // The agent's session carries on at the other instances, forms and all.
    let page = agent.get("/agent/contacts").await;
    assert_eq!(page.status, StatusCode::OK, "the agent was logged out: {:?}", page.location);
    for (first, last) in [("Dan", "Drake"), ("Eve", "Evans")] {
        contacts.push(add_and_edit_contact(&agent, first, last).await);
    }
    let down_after = cluster.balancer.wait_for(&victim, "DOWN", Duration::from_secs(5)).await;
    eprintln!("HAProxy took {} ms after the kill to mark {victim} down", down_after.as_millis());

    // The customer logs in again in another browser and follows the ticket; the agent replies.
    let again = cluster.browser();
    let fields = [("email", CUSTOMER_EMAIL), ("password", CUSTOMER_PASSWORD)];
    again.must_submit("/help/login", "/help/login", &fields).await;
    assert!(again.get("/help/tickets").await.text().contains("My Tickets"));
    let followed = again.get(&format!("/help/tickets/{number}")).await;
    assert!(followed.text().contains("Printer on fire"), "{}", followed.text());
    let ticket = format!("/agent/tickets/{number}");
    agent.must_submit(&ticket, &format!("{ticket}/replies"), &[("reply", "Please unplug it now.")]).await;
    let reply = wait_for_mail(&cluster.sink, CUSTOMER_EMAIL, &format!("Re: [#{number}]")).await;
    assert!(reply.body().contains("Please unplug it now."), "{}", reply.body());
    let thread = customer.get(&format!("/help/tickets/{number}")).await;
    assert!(thread.text().contains("Please unplug it now."), "the customer's first session lost: {}", thread.text());

    for (n, mailbox) in mailboxes.iter().enumerate() {
        delivered.extend(mailbox.deliver(&format!("late{n}"), 5).await);
    }
    load.wait_for(2, killed_at, Duration::from_secs(30)).await;
    let writes = load.stop().await;

    // Nothing answered came from the dead instance, and between them the browsers were served
    // by both of the others.
    let mut after_kill: Vec<String> = Vec::new();
    for browser in [&*admin, &agent, &*customer] {
        let servers = browser.servers(Some(killed_at));
        assert!(!servers.is_empty() && !servers.contains(&victim), "after the kill: {servers:?}");
        after_kill.extend(servers);
    }
    after_kill.sort();
    after_kill.dedup();
    assert_eq!(after_kill, survivors);

    // Everything settles: all support mail stored, then all mail sent (acknowledgements too).
    let db = &cluster.db;
    let ids: Vec<&str> = delivered.iter().map(|(id, _)| id.as_str()).collect();
    db.wait_for_messages(&ids).await;
    db.wait_until("every queued mail is sent", "SELECT COUNT(*) FROM outbox WHERE status <> 'sent'", 0).await;

    // No acknowledged write lost or doubled, every mail sent once, every support mail fetched once.
    let (acknowledged, unanswered, done) = checks::writes_kept(db, &contacts, &writes).await;
    let reloads: usize = [&*admin, &agent, &*customer, &again].iter().map(|b| b.reloads()).sum();
    eprintln!(
        "background writes: {acknowledged} acknowledged, {unanswered} without an answer ({done} of them done); \
         {reloads} pages reloaded"
    );
    checks::mail_sent_once(db, &cluster.sink, &cluster.logs(), &delivered, &writes).await;
    checks::support_mail_fetched_once(db, &cluster.logs(), &delivered, &mailboxes).await;
}

/// Adds a contact as `agent` and edits its title; its id and the title.
async fn add_and_edit_contact(agent: &Browser, first: &str, last: &str) -> (i64, String) {
    let email = format!("{}@example.org", last.to_lowercase());
    let fields = [("first_name", first), ("last_name", last), ("email", email.as_str())];
    let location = agent.must_submit("/agent/contacts/new", "/agent/contacts", &fields).await;
    let id: i64 = location.rsplit('/').next().and_then(|id| id.parse().ok()).expect("a contact id");
    let path = format!("/agent/contacts/{id}");
    let title = format!("Head of {last}");
    agent.must_submit(&format!("{path}/edit"), &path, &[("title", &title)]).await;
    assert!(agent.get(&path).await.text().contains(&title));
    (id, title)
}

/// The page of an answer the application must give.
fn answered(answer: Answer, what: &str) -> helpers::Page {
    match answer {
        Answer::Answered(page) => page,
        Answer::Unanswered(why) => panic!("{what}: no answer with every instance up ({why})"),
    }
}

/// The value of the `option` reading `text` among `selector` on `page`.
fn option_value(page: &helpers::Page, selector: &str, text: &str) -> String {
    let selector = scraper::Selector::parse(selector).expect("selector");
    page.doc()
        .select(&selector)
        .find(|o| o.text().collect::<String>() == text)
        .and_then(|o| o.value().attr("value"))
        .unwrap_or_else(|| panic!("no option {text}"))
        .to_owned()
}

/// Waits (up to 30 s) for a mail to `to` whose subject contains `subject`.
async fn wait_for_mail(sink: &SmtpSink, to: &str, subject: &str) -> mail::Mail {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = sink
            .messages()
            .into_iter()
            .map(|raw| mail::Mail { raw })
            .find(|m| m.to().contains(to) && m.header("Subject").unwrap_or_default().contains(subject));
        if let Some(mail) = found {
            return mail;
        }
        assert!(Instant::now() < deadline, "no mail to {to} about {subject:?} within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// SIGKILLs `victim` at a moment it holds no outbox claim and no mailbox lease: it is frozen
/// (SIGSTOP) first, long enough for requests to be under way at it (as a machine that hangs,
/// then dies), and killed once whatever is still claimed or leased has been let go, which the
/// others do within a second; otherwise it is thawed and tried again a moment later.
/// (Killed while sending, a mail would go out again once its claim runs out, after two
/// minutes; killed while polling, a mailbox would wait out its ten-minute lease. Both are in
/// the README; neither fits in a test of a few seconds.) How many freezes it took.
async fn kill_when_idle(victim: &mut Instance, db: &Observer) -> u32 {
    let held = "SELECT (SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND locked_until IS NOT NULL) \
                + (SELECT COUNT(*) FROM mailboxes WHERE lease_holder IS NOT NULL)";
    for tries in 1..=20 {
        victim.freeze();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let deadline = Instant::now() + Duration::from_millis(1000);
        while db.number(held).await > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if db.number(held).await == 0 {
            victim.kill();
            return tries;
        }
        victim.thaw();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!("{} always held a claim or a lease", victim.name);
}
