//! A browser that reaches Frontdesk only through the balancer: it keeps its cookies, reads
//! forms like the web tests do, notes which instance answered each request (HAProxy's
//! `X-Served-By`), and tells an answered write from one that got no answer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::{client, form_values, Page};

/// What became of a form sent once.
pub enum Answer {
    /// The application answered (any status it chose).
    Answered(Page),
    /// No answer from the application: the connection broke, or HAProxy said the server failed
    /// (502), none was available (503) or it took too long (504). Whether the write was done
    /// is unknown, so it is never sent again.
    Unanswered(String),
}

impl Answer {
    /// The redirect of a write the application acknowledged (`303 See Other`), or `None` when
    /// it got no answer. Any other answer fails the test: it is a bug, not a lost instance.
    pub fn acknowledged(self, what: &str) -> Option<String> {
        match self {
            Answer::Answered(page) if page.status == StatusCode::SEE_OTHER => {
                Some(page.location.unwrap_or_else(|| panic!("{what}: 303 without a Location")))
            }
            Answer::Answered(page) => panic!("{what}: {} {}", page.status, page.text()),
            Answer::Unanswered(why) => {
                eprintln!("{what}: no answer ({why})");
                None
            }
        }
    }
}

/// One browser: its own cookies, through the balancer.
pub struct Browser {
    base: String,
    client: reqwest::Client,
    /// When each answer came and which instance gave it.
    served_by: Mutex<Vec<(Instant, String)>>,
    /// GETs sent again because no instance answered.
    reloads: AtomicUsize,
}

/// An error with its causes: reqwest's own says only that sending failed.
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Statuses HAProxy gives when the server did not answer.
fn from_balancer(status: StatusCode) -> bool {
    matches!(status, StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT)
}

impl Browser {
    pub fn new(balancer_port: u16) -> Self {
        Self {
            base: format!("http://127.0.0.1:{balancer_port}"),
            client: client(),
            served_by: Mutex::default(),
            reloads: AtomicUsize::new(0),
        }
    }

    /// `GET path`, tried again (up to 10 times) when no instance answered: reading is
    /// idempotent, so a browser may reload.
    pub async fn get(&self, path: &str) -> Page {
        let mut last = String::new();
        for _ in 0..10 {
            match self.client.get(format!("{}{path}", self.base)).send().await {
                Ok(response) if !from_balancer(response.status()) => {
                    self.note(&response);
                    return Page::from(response).await;
                }
                Ok(response) => last = response.status().to_string(),
                Err(e) => last = causes(&e),
            }
            self.reloads.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("GET {path}: no answer after 10 tries ({last})");
    }

    /// Posts `fields` to `path` once.
    pub async fn post(&self, path: &str, fields: &[(String, String)]) -> Answer {
        match self.client.post(format!("{}{path}", self.base)).form(fields).send().await {
            Ok(response) if from_balancer(response.status()) => Answer::Unanswered(response.status().to_string()),
            Ok(response) => {
                self.note(&response);
                Answer::Answered(Page::from(response).await)
            }
            Err(e) => Answer::Unanswered(causes(&e)),
        }
    }

    /// Fills the form of `page_path` whose action is `action` with `fields` over what the page
    /// carries (the CSRF token among them) and sends it once.
    pub async fn submit(&self, page_path: &str, action: &str, fields: &[(&str, &str)]) -> Answer {
        let page = self.get(page_path).await;
        assert_eq!(page.status, StatusCode::OK, "GET {page_path}: {}", page.text());
        let mut values = form_values(&page.html, action);
        for (name, value) in fields {
            values.retain(|(k, _)| k != name);
            values.push(((*name).to_owned(), (*value).to_owned()));
        }
        self.post(action, &values).await
    }

    /// [`Browser::submit`] of a write that must be acknowledged, sent while no instance is
    /// dying (a dead one is no excuse: the balancer must send it elsewhere): where it leads.
    pub async fn must_submit(&self, page_path: &str, action: &str, fields: &[(&str, &str)]) -> String {
        match self.submit(page_path, action, fields).await {
            Answer::Unanswered(why) => panic!("POST {action}: no answer ({why}) while live instances could take it"),
            answer => answer.acknowledged(action).expect("answered"),
        }
    }

    /// How many GETs were sent again because no instance answered.
    pub fn reloads(&self) -> usize {
        self.reloads.load(Ordering::Relaxed)
    }

    /// The instance that answered the last request.
    pub fn last_server(&self) -> String {
        self.served_by.lock().ok().and_then(|s| s.last().map(|(_, name)| name.clone())).expect("an answer")
    }

    /// The instances that answered this browser, since `since` if given.
    pub fn servers(&self, since: Option<Instant>) -> Vec<String> {
        let mut names: Vec<String> = self
            .served_by
            .lock()
            .map(|s| s.iter().filter(|(at, _)| since.is_none_or(|t| *at >= t)).map(|(_, n)| n.clone()).collect())
            .unwrap_or_default();
        names.sort();
        names.dedup();
        names
    }

    fn note(&self, response: &reqwest::Response) {
        let server = response.headers().get("x-served-by").and_then(|v| v.to_str().ok()).unwrap_or("?").to_owned();
        if let Ok(mut all) = self.served_by.lock() {
            all.push((Instant::now(), server));
        }
    }
}
