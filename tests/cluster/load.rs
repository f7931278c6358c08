//! Writes that go on while an instance dies: an agent adding contacts and editing each one it
//! was told was added, and a Help Center user submitting tickets. Each write is sent once and
//! recorded as acknowledged (the application answered 303) or unanswered (see
//! [`crate::browser::Answer`]), for the test to compare with the database afterwards.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::browser::Browser;

/// What the writers did so far.
#[derive(Debug, Default)]
pub struct Writes {
    /// Contacts added, by last name: acknowledged or not.
    pub contacts: Vec<(String, bool)>,
    /// Edits of acknowledged contacts: id, the title set, acknowledged or not.
    pub edits: Vec<(i64, String, bool)>,
    /// Help Center tickets, by subject: the number the acknowledgement named, if any.
    pub tickets: Vec<(String, Option<i64>)>,
    /// When each contact and each ticket was acknowledged.
    contact_acks: Vec<Instant>,
    ticket_acks: Vec<Instant>,
}

impl Writes {
    /// The fewest acknowledgements either writer has had since `since`.
    fn acknowledged_since(&self, since: Instant) -> usize {
        let count = |acks: &[Instant]| acks.iter().filter(|at| **at >= since).count();
        count(&self.contact_acks).min(count(&self.ticket_acks))
    }
}

/// The writers, running until [`Load::stop`].
pub struct Load {
    pub writes: Arc<Mutex<Writes>>,
    stop: Arc<AtomicBool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Load {
    /// Starts `agent` adding and editing contacts and `customer` submitting tickets.
    pub fn start(agent: Arc<Browser>, customer: Arc<Browser>) -> Self {
        let writes = Arc::new(Mutex::new(Writes::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = vec![
            tokio::spawn(contacts(agent, writes.clone(), stop.clone())),
            tokio::spawn(tickets(customer, writes.clone(), stop.clone())),
        ];
        Self { writes, stop, tasks }
    }

    /// The fewest acknowledgements either writer has had since `since`.
    pub fn progress_since(&self, since: Instant) -> usize {
        self.writes.lock().map(|w| w.acknowledged_since(since)).unwrap_or_default()
    }

    /// Waits until each writer has had `n` acknowledgements since `since`.
    pub async fn wait_for(&self, n: usize, since: Instant, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.progress_since(since) < n {
            assert!(Instant::now() < deadline, "a writer got fewer than {n} acknowledgements in {timeout:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the writers after their current write; what they did.
    pub async fn stop(self) -> Writes {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.expect("a writer failed");
        }
        let mut writes = self.writes.lock().expect("writes");
        std::mem::take(&mut *writes)
    }
}

async fn contacts(agent: Arc<Browser>, writes: Arc<Mutex<Writes>>, stop: Arc<AtomicBool>) {
    let record = |f: &dyn Fn(&mut Writes)| {
        if let Ok(mut w) = writes.lock() {
            f(&mut w);
        }
    };
    for i in 0.. {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let last_name = format!("Load{i}");
        let email = format!("load{i}@example.com");
        let fields = [("first_name", "Lou"), ("last_name", last_name.as_str()), ("email", email.as_str())];
        let added = agent.submit("/agent/contacts/new", "/agent/contacts", &fields).await.acknowledged(&last_name);
        record(&|w| w.contacts.push((last_name.clone(), added.is_some())));
        if let Some(location) = added {
            record(&|w| w.contact_acks.push(Instant::now()));
            let id: i64 = location.rsplit('/').next().and_then(|id| id.parse().ok()).expect("a contact id");
            let title = format!("Edited {i}");
            let path = format!("/agent/contacts/{id}");
            let edited =
                agent.submit(&format!("{path}/edit"), &path, &[("title", title.as_str())]).await.acknowledged(&path);
            record(&|w| w.edits.push((id, title.clone(), edited.is_some())));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn tickets(customer: Arc<Browser>, writes: Arc<Mutex<Writes>>, stop: Arc<AtomicBool>) {
    for i in 0.. {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let subject = format!("Load ticket {i}");
        let fields = [("subject", subject.as_str()), ("description", "Sent while an instance dies.")];
        let answer = customer.submit("/help/tickets/new", "/help/tickets", &fields).await.acknowledged(&subject);
        // `/help/tickets/1042?submitted=1`
        let number = answer.map(|location| {
            location.split(['/', '?']).nth(3).and_then(|n| n.parse::<i64>().ok()).expect("a ticket number")
        });
        if let Ok(mut w) = writes.lock() {
            w.tickets.push((subject, number));
            if number.is_some() {
                w.ticket_acks.push(Instant::now());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
