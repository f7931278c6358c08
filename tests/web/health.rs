use crate::helpers::spawn_app;

#[tokio::test]
async fn the_health_check_answers_ok_when_the_database_answers() {
    let app = spawn_app().await;
    let page = app.get("/healthz").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.html, "ok");
}

#[tokio::test]
async fn an_unknown_page_is_a_404_page() {
    let app = spawn_app().await;
    let page = app.get("/no/such/page").await;
    assert_eq!(page.status, 404);
    assert!(page.text().contains("Not found"));
}

#[tokio::test]
async fn static_assets_are_served_from_the_binary() {
    let app = spawn_app().await;
    let page = app.get("/static/css/app.css").await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("body"));
}
