//! A local stand-in for the WhatsApp Cloud API (Meta's Graph API), started by a test on a random
//! port: it answers the HTTP shapes Frontdesk uses exactly as `whatsapp-cloud-api.md` describes
//! them (sending, a number's details, templates two to a page with `paging.next`, media in two
//! steps, Meta's error bodies), keeps what it was sent, and posts signed webhooks back to
//! Frontdesk as Meta does.

// Shared by the web tests and the send benchmark (benches/whatsapp_send.rs), each using part of it.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// The token the stand-in accepts unless a test changes it.
pub const TOKEN: &str = "EAAstandintoken";
/// The App Secret tests connect numbers with.
pub const APP_SECRET: &str = "standin-app-secret";
/// The ids tests connect a number with.
pub const PHONE_NUMBER_ID: &str = "106540352242922";
pub const WABA_ID: &str = "102290129340398";
/// Templates per page of `message_templates`: small, so that paging is exercised.
const PAGE: usize = 2;

/// A message the stand-in was asked to send.
#[derive(Clone, Debug)]
pub struct Sent {
    pub phone_number_id: String,
    pub body: Value,
    pub wamid: String,
}

/// An error the stand-in answers with, once, instead of accepting a send.
#[derive(Clone, Debug)]
pub struct Failure {
    pub status: u16,
    pub code: i64,
    pub message: String,
}

impl Failure {
    pub fn new(status: u16, code: i64, message: &str) -> Self {
        Self { status, code, message: message.to_owned() }
    }
}

/// What the stand-in holds.
#[derive(Debug)]
pub struct Inner {
    /// The one Access Token accepted; any other gets error 190.
    pub token: String,
    pub sent: Vec<Sent>,
    /// Every template of the business account, as Meta describes them.
    pub templates: Vec<Value>,
    /// Media by id: (bytes, MIME type).
    pub media: HashMap<String, (Vec<u8>, String)>,
    /// Errors to answer the next sends with, in order.
    pub failures: VecDeque<Failure>,
    /// Downloads of media bytes to fail (HTTP 500) before one succeeds.
    pub media_failures: usize,
    /// Requests seen: (method, path).
    pub requests: Vec<(String, String)>,
    next_wamid: u64,
}

/// A running stand-in.
pub struct Standin {
    /// Its base URL, for `FRONTDESK_WHATSAPP_API_URL`.
    pub url: String,
    pub inner: Arc<Mutex<Inner>>,
    server: actix_web::dev::ServerHandle,
}

impl Drop for Standin {
    fn drop(&mut self) {
        let server = self.server.clone();
        tokio::spawn(async move { server.stop(false).await });
    }
}

/// One approved template with positional body parameters, as Meta lists it.
pub fn template(name: &str, language: &str, body: &str) -> Value {
    json!({
        "id": format!("{}", 900_000 + name.len()),
        "name": name,
        "language": language,
        "status": "APPROVED",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": body}],
    })
}

impl Standin {
    /// Starts a stand-in with three approved templates and one rejected one (two pages).
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            token: TOKEN.to_owned(),
            sent: Vec::new(),
            templates: vec![
                template("ticket_update", "en_US", "Hi {{1}}, your ticket {{2}} was updated."),
                template("hello_world", "en_US", "Hello from our support team."),
                template("ticket_update", "de", "Hallo {{1}}, Ihr Ticket {{2}} wurde aktualisiert."),
                json!({"id": "900100", "name": "promo", "language": "en_US", "status": "REJECTED",
                       "category": "MARKETING", "components": [{"type": "BODY", "text": "Buy {{1}}"}]}),
            ],
            media: HashMap::new(),
            failures: VecDeque::new(),
            media_failures: 0,
            requests: Vec::new(),
            next_wamid: 1,
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the stand-in");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let data = web::Data::new(Shared { inner: inner.clone(), url: url.clone() });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::JsonConfig::default().limit(1 << 20))
                .route("/media-bytes/{id}", web::get().to(media_bytes))
                .route("/{version}/{phone_number_id}/messages", web::post().to(send))
                .route("/{version}/{waba_id}/message_templates", web::get().to(templates))
                .route("/{version}/{id}", web::get().to(object))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { url, inner, server: handle }
    }

    /// Everything sent so far.
    pub fn sent(&self) -> Vec<Sent> {
        self.inner.lock().unwrap().sent.clone()
    }

    /// Answers the next send with `failure`.
    pub fn fail_next(&self, failure: Failure) {
        self.inner.lock().unwrap().failures.push_back(failure);
    }

    /// Makes the current token invalid (expired), as Meta answers then.
    pub fn expire_token(&self) {
        self.inner.lock().unwrap().token = "a token nobody has".to_owned();
    }

    /// Media the API serves under `id`.
    pub fn add_media(&self, id: &str, bytes: &[u8], mime_type: &str) {
        self.inner.lock().unwrap().media.insert(id.to_owned(), (bytes.to_vec(), mime_type.to_owned()));
    }
}

struct Shared {
    inner: Arc<Mutex<Inner>>,
    url: String,
}

fn error(status: u16, code: i64, message: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    HttpResponse::build(status).json(json!({"error": {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": message},
        "fbtrace_id": "AbCdEfStandin",
    }}))
}

/// Meta's answer to a missing or wrong token.
fn refused_token() -> HttpResponse {
    error(401, 190, "Error validating access token: Session has expired")
}

/// Whether the request carries the accepted bearer token; records it either way.
fn authorised(shared: &Shared, request: &HttpRequest) -> bool {
    let mut inner = shared.inner.lock().unwrap();
    inner.requests.push((request.method().to_string(), request.uri().to_string()));
    let expected = format!("Bearer {}", inner.token);
    request.headers().get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

async fn send(
    shared: web::Data<Shared>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
) -> HttpResponse {
    if !authorised(&shared, &request) {
        return refused_token();
    }
    let body = body.into_inner();
    if body["messaging_product"] != "whatsapp" || body["type"].as_str().is_none() {
        return error(400, 100, "(#100) Invalid parameter");
    }
    let recipient = body["to"].as_str().or(body["recipient"].as_str()).unwrap_or_default().to_owned();
    let mut inner = shared.inner.lock().unwrap();
    if let Some(f) = inner.failures.pop_front() {
        return error(f.status, f.code, &f.message);
    }
    // Unique across stand-ins too (a database kept between benchmark runs holds earlier ones).
    let port = shared.url.rsplit(':').next().unwrap_or_default();
    let wamid = format!("wamid.STANDIN{port}.{:06}", inner.next_wamid);
    inner.next_wamid += 1;
    inner.sent.push(Sent { phone_number_id: path.1.clone(), body, wamid: wamid.clone() });
    HttpResponse::Ok().json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": recipient, "wa_id": recipient.trim_start_matches('+')}],
        "messages": [{"id": wamid, "message_status": "accepted"}],
    }))
}

/// `GET /{version}/{id}`: a media object's URL when `id` is media, else the phone number.
async fn object(shared: web::Data<Shared>, request: HttpRequest, path: web::Path<(String, String)>) -> HttpResponse {
    if !authorised(&shared, &request) {
        return refused_token();
    }
    let (_, id) = path.into_inner();
    let inner = shared.inner.lock().unwrap();
    if let Some((bytes, mime)) = inner.media.get(&id) {
        return HttpResponse::Ok().json(json!({
            "url": format!("{}/media-bytes/{id}", shared.url),
            "mime_type": mime,
            "sha256": "",
            "file_size": bytes.len(),
            "id": id,
            "messaging_product": "whatsapp",
        }));
    }
    if id == PHONE_NUMBER_ID {
        return HttpResponse::Ok().json(json!({
            "display_phone_number": "+1 555-000-1111",
            "verified_name": "Frontdesk Support",
            "quality_rating": "GREEN",
            "id": id,
        }));
    }
    error(400, 100, &format!("Unsupported get request. Object with ID '{id}' does not exist"))
}

async fn templates(shared: web::Data<Shared>, request: HttpRequest, path: web::Path<(String, String)>) -> HttpResponse {
    if !authorised(&shared, &request) {
        return refused_token();
    }
    let (version, waba) = path.into_inner();
    if waba != WABA_ID {
        return error(400, 100, &format!("Unsupported get request. Object with ID '{waba}' does not exist"));
    }
    let after: usize = web::Query::<HashMap<String, String>>::from_query(request.query_string())
        .ok()
        .and_then(|q| q.get("after").and_then(|a| a.parse().ok()))
        .unwrap_or(0);
    let inner = shared.inner.lock().unwrap();
    let page: Vec<Value> = inner.templates.iter().skip(after).take(PAGE).cloned().collect();
    let end = after + page.len();
    let mut paging = json!({"cursors": {"before": after.to_string(), "after": end.to_string()}});
    if end < inner.templates.len() {
        paging["next"] = json!(format!("{}/{version}/{waba}/message_templates?limit={PAGE}&after={end}", shared.url));
    }
    HttpResponse::Ok().json(json!({"data": page, "paging": paging}))
}

async fn media_bytes(shared: web::Data<Shared>, request: HttpRequest, id: web::Path<String>) -> HttpResponse {
    if !authorised(&shared, &request) {
        return refused_token();
    }
    let mut inner = shared.inner.lock().unwrap();
    if inner.media_failures > 0 {
        inner.media_failures -= 1;
        return HttpResponse::InternalServerError().body("try again");
    }
    match inner.media.get(id.as_str()) {
        Some((bytes, mime)) => HttpResponse::Ok().content_type(mime.as_str()).body(bytes.clone()),
        None => HttpResponse::NotFound().finish(),
    }
}

/// `X-Hub-Signature-256` of `body` under `app_secret`, as Meta computes it.
pub fn signature(app_secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Posts `body` to Frontdesk's Callback URL `callback`, signed with `app_secret` as Meta does.
pub async fn post_webhook(callback: &str, app_secret: &str, body: &Value) -> reqwest::Response {
    let bytes = serde_json::to_vec(body).unwrap();
    reqwest::Client::new()
        .post(callback)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature(app_secret, &bytes))
        .body(bytes)
        .send()
        .await
        .expect("post the webhook")
}

/// A `messages` webhook body carrying `messages` (and the senders' `contacts`) for the number.
pub fn messages_webhook(contacts: Value, messages: Value) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp",
                  "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
                  "contacts": contacts, "messages": messages}}]}]})
}

/// A `messages` webhook body carrying `statuses` of outgoing messages.
pub fn statuses_webhook(statuses: Value) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp",
                  "metadata": {"display_phone_number": "15550001111", "phone_number_id": PHONE_NUMBER_ID},
                  "statuses": statuses}}]}]})
}

/// One inbound text message from `from` (digits, as Meta writes `wa_id`) named `name`.
pub fn text_from(from: &str, name: &str, wamid: &str, text: &str, timestamp: i64) -> Value {
    messages_webhook(
        json!([{"profile": {"name": name}, "wa_id": from}]),
        json!([{"from": from, "id": wamid, "timestamp": timestamp.to_string(), "type": "text", "text": {"body": text}}]),
    )
}
