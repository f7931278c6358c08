//! What must hold once the journey is done, read from the database, the SMTP sink, the
//! instances' logs and the support mailboxes.

use std::collections::BTreeMap;

use crate::load::Writes;
use crate::mail::Mail;
use crate::mailboxes::Mailbox;
use crate::observe::{self, Observer};
use crate::smtp_sink::SmtpSink;

/// No acknowledged write is lost and none is stored twice: the journey's own `contacts` (id,
/// title), and the background `writes`, where a write that got no answer may or may not be
/// there, but never twice. How many background writes were acknowledged, how many got no
/// answer, and how many of those were done all the same.
pub async fn writes_kept(db: &Observer, contacts: &[(i64, String)], writes: &Writes) -> (usize, usize, usize) {
    for (id, title) in contacts {
        assert_eq!(db.text(&format!("SELECT title FROM contacts WHERE id = {id}")).await.as_deref(), Some(&**title));
    }
    let (mut acknowledged, mut unanswered, mut done_anyway) = (0, 0, 0);
    for (last_name, ok) in &writes.contacts {
        let n = db.number(&format!("SELECT COUNT(*) FROM contacts WHERE last_name = '{last_name}'")).await;
        if *ok {
            assert_eq!(n, 1, "acknowledged contact {last_name}");
            acknowledged += 1;
        } else {
            assert!(n <= 1, "contact {last_name} sent once, stored {n} times");
            unanswered += 1;
            done_anyway += usize::from(n == 1);
        }
    }
    for (id, title, ok) in &writes.edits {
        let stored = db.text(&format!("SELECT title FROM contacts WHERE id = {id}")).await;
        if *ok {
            assert_eq!(stored.as_deref(), Some(title.as_str()), "acknowledged edit of contact {id}");
            acknowledged += 1;
        } else {
            unanswered += 1;
            done_anyway += usize::from(stored.as_deref() == Some(title.as_str()));
        }
    }
    for (subject, number) in &writes.tickets {
        let n = db.number(&format!("SELECT COUNT(*) FROM tickets WHERE subject = '{subject}'")).await;
        if let Some(number) = number {
            assert_eq!(n, 1, "acknowledged ticket {subject}");
            let stored = db.number(&format!("SELECT number FROM tickets WHERE subject = '{subject}'")).await;
            assert_eq!(stored, *number, "{subject}");
            acknowledged += 1;
        } else {
            assert!(n <= 1, "ticket {subject} sent once, stored {n} times");
            unanswered += 1;
            done_anyway += usize::from(n == 1);
        }
    }
    let replies = "SELECT COUNT(*) FROM messages WHERE body LIKE '%Please unplug it now.%'";
    assert_eq!(db.number(replies).await, 1, "the agent's reply");
    (acknowledged, unanswered, done_anyway)
}

/// Every queued mail reached the SMTP server exactly once, sent by one instance, whichever
/// claimed it: the acknowledgement of each support mail (`delivered`: Message-ID, sender) and
/// of each acknowledged Help Center ticket among them.
pub async fn mail_sent_once(
    db: &Observer,
    sink: &SmtpSink,
    logs: &[(String, Vec<String>)],
    delivered: &[(String, String)],
    writes: &Writes,
) {
    let received: Vec<Mail> = sink.messages().into_iter().map(|raw| Mail { raw }).collect();
    let mut ids: Vec<String> = received
        .iter()
        .map(|m| m.header("Message-ID").expect("a Message-ID").trim_matches(['<', '>']).to_owned())
        .collect();
    ids.sort();
    let mut twice: Vec<&String> = ids.windows(2).filter(|pair| pair[0] == pair[1]).map(|pair| &pair[0]).collect();
    twice.dedup();
    assert!(twice.is_empty(), "{} of {} mails received more than once: {twice:?}", twice.len(), ids.len());
    let mut queued = db.strings("SELECT message_id FROM outbox").await;
    queued.sort();
    assert_eq!(ids, queued, "the SMTP server got exactly the outbox's mail");
    let senders = observe::mail_senders(logs);
    for id in db.strings("SELECT CAST(id AS TEXT) FROM outbox").await {
        let by: Vec<_> = senders.iter().filter(|(_, outbox)| *outbox == id).collect();
        assert!(by.len() <= 1, "outbox row {id} sent by {by:?}");
    }
    for (_, from) in delivered {
        assert_eq!(received.iter().filter(|m| m.to().contains(from.as_str())).count(), 1, "to {from}");
    }
    for number in writes.tickets.iter().filter_map(|(_, number)| *number) {
        let token = format!("[#{number}]");
        let acks = received.iter().filter(|m| m.header("Subject").unwrap_or_default().contains(&token)).count();
        assert_eq!(acks, 1, "one acknowledgement of ticket {number}");
    }
    eprintln!("{} mails, sent by {:?}", received.len(), tally(senders.iter().map(|(name, _)| name)));
}

/// Each support mail was fetched by one instance, once (never by two polling one mailbox at
/// the same time), stored once, made one ticket, and marked read in its mailbox.
pub async fn support_mail_fetched_once(
    db: &Observer,
    logs: &[(String, Vec<String>)],
    delivered: &[(String, String)],
    mailboxes: &[Mailbox],
) {
    let fetched = observe::fetched(logs);
    assert_eq!(fetched.len(), delivered.len(), "{fetched:?}");
    for (id, from) in delivered {
        assert_eq!(db.number(&format!("SELECT COUNT(*) FROM messages WHERE message_id = '{id}'")).await, 1);
        let tickets =
            format!("SELECT COUNT(*) FROM tickets t JOIN contacts c ON c.id = t.contact_id WHERE c.email = '{from}'");
        assert_eq!(db.number(&tickets).await, 1, "one ticket for {from}");
    }
    for mailbox in mailboxes {
        assert_eq!(mailbox.unseen().await, 0, "{} left unread", mailbox.address);
    }
    eprintln!("{} support mails fetched by {:?}", fetched.len(), tally(fetched.values()));
}

/// How many times each name occurs.
fn tally<'a>(names: impl Iterator<Item = &'a String>) -> BTreeMap<&'a str, usize> {
    let mut counts = BTreeMap::new();
    for name in names {
        *counts.entry(name.as_str()).or_default() += 1;
    }
    counts
}
