//! What forms accept whatever page they belong to: file names without invisible characters
//! that disguise them.

use reqwest::StatusCode;

use crate::help_center::{invite_and_join, submit_with_files};
use crate::mail::spawn_app_with_mail;

#[tokio::test]
async fn an_uploaded_file_name_loses_the_right_to_left_override_that_disguises_it() {
    let (app, sink) = spawn_app_with_mail().await;
    app.set_up_admin().await;
    let id = app.add_contact(&[("last_name", "Ortiz"), ("email", "melissa@example.com")]).await;
    let customer = invite_and_join(&app, &sink, id, "melissa@example.com").await;

    // Shown as "invoiceexe.png" where the override is honoured.
    let files = vec![("invoice\u{202E}gnp.exe", b"MZ".to_vec()), ("\u{200B}notes\u{2066}.txt\u{FEFF}", b"n".to_vec())];
    let page = submit_with_files(&customer, "Invoice", files, true).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());

    let ticket = customer.get("/help/tickets/1001").await;
    assert_eq!(ticket.texts("ul.files a"), ["invoicegnp.exe", "notes.txt"]);
    assert_eq!(app.get("/agent/tickets/1001").await.texts("ul.files a"), ["invoicegnp.exe", "notes.txt"]);
    assert_eq!(app.count("attachments WHERE filename IN ('invoicegnp.exe', 'notes.txt')").await, 2);
}
