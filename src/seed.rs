//! `frontdesk seed`: realistic demo or benchmark data at a chosen scale — agents, accounts,
//! contacts (with their search words), tickets with a first message, activities and time
//! entries — written in large batches, one transaction per batch.

use chrono::{Duration, Utc};
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait, QuerySelect};

use crate::config::{SeedArgs, Settings};
use crate::db::Db;
use crate::domain::{Email, PersonName};
use crate::entities::{
    account, activity, agent, contact, contact_identity, contact_search_term, message, ticket, time_entry,
};
use crate::services::contacts::identities::rows_of as identity_rows;
use crate::services::contacts::search_terms::terms_of;
use crate::services::{agents, profiles, setup};

const FIRST: [&str; 24] = [
    "Melissa", "James", "Priya", "Chen", "Fatima", "Lucas", "Sofia", "Omar", "Hannah", "Mateo", "Aisha", "Noah",
    "Yuki", "Liam", "Elena", "Kwame", "Ingrid", "Ravi", "Chloé", "Diego", "Zara", "Tomasz", "Amara", "Jonas",
];
const LAST: [&str; 24] = [
    "Ortiz",
    "Smith",
    "Patel",
    "Wang",
    "Khan",
    "Müller",
    "Rossi",
    "Haddad",
    "Schmidt",
    "García",
    "Okafor",
    "Johnson",
    "Tanaka",
    "Murphy",
    "Petrova",
    "Mensah",
    "Larsen",
    "Iyer",
    "Dubois",
    "Fernández",
    "Ali",
    "Kowalski",
    "Nwosu",
    "Berg",
];
const COMPANY: [&str; 12] = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
];
const SUFFIX: [&str; 6] = ["Inc", "GmbH", "Ltd", "Labs", "Group", "Systems"];
const SUBJECTS: [&str; 8] = [
    "Cannot log in",
    "Refund request",
    "Invoice is wrong",
    "Feature question",
    "Shipping delay",
    "Password reset not arriving",
    "App crashes on start",
    "Upgrade my plan",
];
const AREAS: [u32; 6] = [212, 415, 312, 617, 206, 305];
const BATCH: usize = 500;

/// A small, fast, deterministic generator so that the same scale gives the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Runs the seed.
///
/// # Errors
/// Database errors.
pub async fn run(settings: &Settings, args: &SeedArgs) -> anyhow::Result<()> {
    let db = Db::connect(&settings.database_url, settings.db_pool).await?;
    profiles::ensure_built_in(&db.conn).await?;
    let started = std::time::Instant::now();
    let owners = ensure_agents(&db, args).await?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ args.contacts);
    let accounts = seed_accounts(&db, args.accounts, &owners, &mut rng).await?;
    let contacts = seed_contacts(&db, args.contacts, &accounts, &owners, &mut rng).await?;
    seed_tickets(&db, args.tickets, &contacts, &owners, &mut rng).await?;
    crate::services::tickets::sync_counter(&db.conn).await?;
    seed_articles(&db, args.articles, owners[0].0, &mut rng).await?;
    db.analyze().await?;
    crate::services::contacts::fragments::optimize(&db).await?;
    println!(
        "seeded {} accounts, {} contacts, {} tickets in {:.1}s",
        args.accounts,
        args.contacts,
        args.tickets,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Published knowledge-base articles, a tenth of them for registered users only.
async fn seed_articles(db: &Db, count: u64, author_id: i64, rng: &mut Rng) -> anyhow::Result<()> {
    use crate::entities::article;
    const TOPICS: [&str; 10] =
        ["router", "password", "invoice", "printer", "account", "refund", "shipping", "login", "email", "update"];
    const VERBS: [&str; 6] = ["reset", "configure", "fix", "change", "cancel", "track"];
    let base = article::Entity::find().count(&db.conn).await?;
    let now = Utc::now();
    let mut next = 0u64;
    while next < count {
        let txn = db.begin_write().await?;
        let mut rows = Vec::with_capacity(BATCH);
        for _ in 0..BATCH.min((count - next) as usize) {
            let n = base + next + 1;
            next += 1;
            let (verb, topic) = (rng.pick(&VERBS), rng.pick(&TOPICS));
            let other = rng.pick(&TOPICS);
            let body = format!(
                "To {verb} your {topic}, open **Settings**, choose *{topic}*, then follow the steps.\n\n\
                 If the {other} is involved as well, see the {other} articles first.\n\n- Step one\n- Step two\n"
            );
            rows.push(article::ActiveModel {
                slug: Set(format!("how-to-{verb}-your-{topic}-{n}")),
                title: Set(format!("How to {verb} your {topic} ({n})")),
                html: Set(Some(crate::domain::markdown::to_safe_html(&body))),
                body: Set(body),
                category_id: Set(None),
                status: Set("published".into()),
                visibility: Set(if n.is_multiple_of(10) { "registered" } else { "everyone" }.into()),
                author_id: Set(author_id),
                helpful_yes: Set(0),
                helpful_no: Set(0),
                views: Set((rng.below(1000)) as i64),
                created_at: Set(now),
                updated_at: Set(now),
                published_at: Set(Some(now - Duration::minutes(n as i64))),
                ..Default::default()
            });
        }
        article::Entity::insert_many(rows).exec(&txn).await?;
        txn.commit().await?;
    }
    Ok(())
}

/// The administrator (when the database has no agent) and a handful of agents to own records.
async fn ensure_agents(db: &Db, args: &SeedArgs) -> anyhow::Result<Vec<(i64, String)>> {
    if agents::count(&db.conn).await? == 0 {
        let email = Email::parse(&args.admin_email).map_err(anyhow::Error::msg)?;
        setup::create_first_admin(&db.conn, "Admin".into(), email, "password123".into())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        println!("created administrator {} with password password123", args.admin_email);
        let profile = profiles::built_in(&db.conn, profiles::AGENT).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        for (i, name) in ["Grace Hopper", "Alan Turing", "Ada Lovelace", "Linus Torvalds"].iter().enumerate() {
            let email = Email::parse(&format!("agent{i}@example.com")).map_err(anyhow::Error::msg)?;
            let new = agents::NewAgent {
                name: (*name).into(),
                email,
                password: "password123".into(),
                profile_id: profile.id,
            };
            agents::insert(&db.conn, new).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    let all = agent::Entity::find().all(&db.conn).await?;
    Ok(all.into_iter().map(|a| (a.id, a.name_sort)).collect())
}

async fn seed_accounts(
    db: &Db,
    count: u64,
    owners: &[(i64, String)],
    rng: &mut Rng,
) -> anyhow::Result<Vec<(i64, String, String)>> {
    let base = account::Entity::find().count(&db.conn).await?;
    let now = Utc::now();
    let mut rows = Vec::new();
    for i in 0..count {
        let name = format!("{} {} {}", rng.pick(&COMPANY), rng.pick(&SUFFIX), base + i + 1);
        let owner = &owners[rng.below(owners.len() as u64) as usize];
        rows.push(account::ActiveModel {
            name_sort: Set(name.to_lowercase()),
            website: Set(Some(format!("{}.example.com", name.to_lowercase().replace(' ', "-")))),
            name: Set(name),
            phone: Set(None),
            owner_id: Set(Some(owner.0)),
            description: Set(None),
            created_by: Set(Some(owner.0)),
            created_at: Set(now),
            updated_at: Set(now),
            trashed: Set(false),
            recycle_entry_id: Set(None),
            ..Default::default()
        });
    }
    for chunk in rows.chunks(BATCH) {
        account::Entity::insert_many(chunk.to_vec()).exec(&db.conn).await?;
    }
    let all = account::Entity::find().all(&db.conn).await?;
    Ok(all.into_iter().map(|a| (a.id, a.name, a.name_sort)).collect())
}

async fn seed_contacts(
    db: &Db,
    count: u64,
    accounts: &[(i64, String, String)],
    owners: &[(i64, String)],
    rng: &mut Rng,
) -> anyhow::Result<Vec<(i64, Option<i64>)>> {
    let base = contact::Entity::find().count(&db.conn).await?;
    let now = Utc::now();
    // Help Center users can log in with password123 (one hash, shared: hashing is slow).
    let help_hash = crate::auth::password::hash("password123".into()).await?;
    let mut made = Vec::with_capacity(count as usize);
    let mut next = 0u64;
    while next < count {
        let txn = db.begin_write().await?;
        let mut rows = Vec::with_capacity(BATCH);
        let mut models = Vec::with_capacity(BATCH);
        for _ in 0..BATCH.min((count - next) as usize) {
            let n = base + next + 1;
            next += 1;
            let first = rng.pick(&FIRST).to_owned();
            let last = rng.pick(&LAST).to_owned();
            let account = (!accounts.is_empty() && rng.below(10) < 8)
                .then(|| &accounts[rng.below(accounts.len() as u64) as usize]);
            let owner = &owners[rng.below(owners.len() as u64) as usize];
            let email = format!("{}.{}.{n}@example.com", ascii(&first), ascii(&last));
            let phone = format!("+1{}{}{:04}", AREAS[rng.below(6) as usize], 200 + rng.below(800), rng.below(10_000));
            let model = contact::Model {
                id: 0,
                name_sort: PersonName { first: Some(&first), last: &last }.sort_key(),
                first_name: Some(first),
                last_name: last,
                email_sort: email.clone(),
                email: Some(email),
                phone: Some(phone),
                mobile: None,
                account_id: account.map(|a| a.0),
                account_sort: account.map(|a| a.2.clone()).unwrap_or_default(),
                owner_id: Some(owner.0),
                owner_sort: owner.1.clone(),
                title: None,
                description: None,
                source: if n.is_multiple_of(3) { "email" } else { "agent" }.into(),
                help_center_status: if n.is_multiple_of(20) { "active" } else { "not_invited" }.into(),
                created_by: Some(owner.0),
                created_at: now - Duration::minutes((count - next) as i64),
                updated_at: now,
                trashed: false,
                recycle_entry_id: None,
                password_hash: n.is_multiple_of(20).then(|| help_hash.clone()),
                import_id: None,
                external_id: None,
            };
            let mut active: contact::ActiveModel = model.clone().into();
            active.id = sea_orm::ActiveValue::NotSet;
            rows.push(active);
            models.push((model, account.map(|a| a.1.clone())));
        }
        let rows_in_batch = rows.len();
        contact::Entity::insert_many(rows).exec(&txn).await?;
        // The seed is the only writer, so one multi-row insert takes consecutive ids.
        let first_id = max_id::<contact::Entity, _>(&txn, contact::Column::Id).await? - models.len() as i64 + 1;
        let mut terms = Vec::new();
        let mut identities = Vec::new();
        for (offset, (mut model, account_name)) in models.into_iter().enumerate() {
            model.id = first_id + offset as i64;
            made.push((model.id, model.account_id));
            identities.extend(identity_rows(&model, &[], now));
            for (field, term) in terms_of(&model, account_name.as_deref()) {
                terms.push(contact_search_term::ActiveModel {
                    term: Set(term),
                    field: Set(field.into()),
                    contact_id: Set(model.id),
                });
            }
        }
        for chunk in terms.chunks(BATCH * 2) {
            contact_search_term::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
        }
        for chunk in identities.chunks(BATCH) {
            contact_identity::Entity::insert_many(chunk.to_vec()).exec(&txn).await?;
        }
        let batch: Vec<i64> = made[made.len() - rows_in_batch..].iter().map(|(id, _)| *id).collect();
        crate::services::contacts::fragments::refresh(&txn, &batch).await?;
        txn.commit().await?;
    }
    Ok(made)
}

async fn max_id<E: EntityTrait, C: sea_orm::ConnectionTrait>(conn: &C, id: E::Column) -> Result<i64, sea_orm::DbErr> {
    let max: Option<Option<i64>> =
        E::find().select_only().expr(sea_orm::sea_query::Expr::col(id).max()).into_tuple().one(conn).await?;
    Ok(max.flatten().unwrap_or_default())
}

fn ascii(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphabetic).collect::<String>().to_lowercase()
}

async fn seed_tickets(
    db: &Db,
    count: u64,
    contacts: &[(i64, Option<i64>)],
    owners: &[(i64, String)],
    rng: &mut Rng,
) -> anyhow::Result<()> {
    if contacts.is_empty() {
        return Ok(());
    }
    let mut number = crate::services::tickets::FIRST_NUMBER + ticket::Entity::find().count(&db.conn).await? as i64;
    let now = Utc::now();
    let mut next = 0u64;
    while next < count {
        let txn = db.begin_write().await?;
        let mut rows = Vec::with_capacity(BATCH);
        let mut bodies = Vec::with_capacity(BATCH);
        for _ in 0..BATCH.min((count - next) as usize) {
            next += 1;
            let (contact_id, account_id) = contacts[rng.below(contacts.len() as u64) as usize];
            let created = now - Duration::minutes(rng.below(60 * 24 * 365) as i64);
            let subject = rng.pick(&SUBJECTS).to_owned();
            bodies.push((contact_id, created, format!("Hello, {subject}. Can you help?")));
            rows.push(ticket::ActiveModel {
                number: Set(number),
                contact_id: Set(Some(contact_id)),
                account_id: Set(account_id),
                subject: Set(subject),
                status: Set(["Open", "On Hold", "Closed"][rng.below(3) as usize].into()),
                channel: Set(["email", "web", "help_center", "phone"][rng.below(4) as usize].into()),
                priority: Set(["Low", "Medium", "High"][rng.below(3) as usize].into()),
                assignee_id: Set(Some(owners[rng.below(owners.len() as u64) as usize].0)),
                created_at: Set(created),
                updated_at: Set(created),
                trashed: Set(false),
                recycle_entry_id: Set(None),
                ..Default::default()
            });
            number += 1;
        }
        ticket::Entity::insert_many(rows).exec(&txn).await?;
        let first_id = max_id::<ticket::Entity, _>(&txn, ticket::Column::Id).await? - bodies.len() as i64 + 1;
        let mut messages = Vec::with_capacity(bodies.len());
        let mut activities = Vec::new();
        let mut times = Vec::new();
        for (offset, (contact_id, at, body)) in bodies.into_iter().enumerate() {
            let ticket_id = first_id + offset as i64;
            messages.push(message::ActiveModel {
                ticket_id: Set(ticket_id),
                author_kind: Set("contact".into()),
                author_agent_id: Set(None),
                body: Set(body),
                internal: Set(false),
                message_id: Set(None),
                created_at: Set(at),
                ..Default::default()
            });
            if ticket_id % 4 == 0 {
                activities.push(activity::ActiveModel {
                    contact_id: Set(contact_id),
                    ticket_id: Set(Some(ticket_id)),
                    kind: Set(["call", "task", "event", "note"][rng.below(4) as usize].into()),
                    subject: Set("Follow up".into()),
                    due_at: Set(None),
                    done: Set(false),
                    created_by: Set(None),
                    created_at: Set(at),
                    trashed: Set(false),
                    recycle_entry_id: Set(None),
                    ..Default::default()
                });
            }
            if ticket_id % 10 == 0 {
                times.push(time_entry::ActiveModel {
                    contact_id: Set(contact_id),
                    ticket_id: Set(Some(ticket_id)),
                    agent_id: Set(None),
                    minutes: Set(5 + rng.below(55) as i32),
                    note: Set(None),
                    created_at: Set(at),
                    trashed: Set(false),
                    recycle_entry_id: Set(None),
                    ..Default::default()
                });
            }
        }
        message::Entity::insert_many(messages).exec(&txn).await?;
        if !activities.is_empty() {
            activity::Entity::insert_many(activities).exec(&txn).await?;
        }
        if !times.is_empty() {
            time_entry::Entity::insert_many(times).exec(&txn).await?;
        }
        txn.commit().await?;
    }
    Ok(())
}
