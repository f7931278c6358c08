//! Import Contacts in a browser: the file chosen with the file input, Map Fields, the import's
//! result with its rejected rows, and Import History, at desktop and phone widths.

use fantoccini::Locator;

use super::{expect_heading, helpers, logged_in_admin, overflows};

async fn shot(c: &fantoccini::Client, name: &str, width: u32) {
    if let Ok(dir) = std::env::var("SCREENSHOT_DIR") {
        let png = c.screenshot().await.expect("screenshot");
        std::fs::write(format!("{dir}/{name}-{width}.png"), png).expect("write");
    }
}

#[tokio::test]
#[ignore = "needs chromedriver: run by .ci/run"]
async fn importing_a_file_maps_runs_and_lists_it_at_desktop_and_phone_widths() {
    let app = helpers::spawn_app().await;
    app.set_up_admin().await;
    let file = helpers::test_dir().join(format!("{}-zoho-contacts.csv", uuid::Uuid::new_v4().simple()));
    std::fs::write(
        &file,
        "Contact ID,First Name,Last Name,Email,Secondary Email,Phone,Mobile,Account Name,Contact Owner,Title,Description\n\
         Z-1,Melissa,Ortiz-Montgomery,melissa@information-technology.example-enterprises.com,,+1 415 555 2671,,,,Head of IT,\n\
         Z-2,Mel,,mel@home.example,,,,,,,\n",
    )
    .expect("write the file");
    let c = logged_in_admin(&app).await;
    c.goto(&app.url("/agent/contacts/import")).await.expect("goto");
    expect_heading(&c, "Import Contacts").await;
    let input = c.find(Locator::Id("file")).await.expect("file input");
    input.send_keys(&file.display().to_string()).await.expect("choose the file");
    c.find(Locator::XPath("//button[normalize-space()='Next: Map Fields']"))
        .await
        .expect("Next")
        .click()
        .await
        .expect("click");
    let heading = format!("Import {}", file.file_name().and_then(|n| n.to_str()).unwrap_or_default());
    expect_heading(&c, &heading).await;
    let map_url = c.current_url().await.expect("url");
    for width in [1280, 360] {
        c.set_window_size(width, 900).await.expect("resize");
        c.goto(map_url.as_str()).await.expect("goto");
        expect_heading(&c, &heading).await;
        assert!(!overflows(&c).await, "Map Fields scrolls sideways at {width} px");
        shot(&c, "import-map", width).await;
    }
    c.find(Locator::Css("input[name=mode][value=add]")).await.expect("mode").click().await.expect("click");
    c.find(Locator::XPath("//button[normalize-space()='Start Import']"))
        .await
        .expect("Start")
        .click()
        .await
        .expect("click");
    // The page refreshes itself until the import is done.
    c.wait().for_element(Locator::XPath("//h2[normalize-space()='Imported']")).await.expect("the import's result");
    let body = c.find(Locator::Css("main")).await.expect("main").text().await.expect("text");
    assert!(body.contains("Rejected rows") && body.contains("Last Name"), "{body}");
    for width in [1280, 360] {
        c.set_window_size(width, 900).await.expect("resize");
        c.goto(map_url.as_str()).await.expect("goto");
        assert!(!overflows(&c).await, "the import's result scrolls sideways at {width} px");
        shot(&c, "import-done", width).await;
        c.goto(&app.url("/agent/contacts/import/history")).await.expect("goto");
        expect_heading(&c, "Import History").await;
        assert!(!overflows(&c).await, "Import History scrolls sideways at {width} px");
        shot(&c, "import-history", width).await;
    }
    c.close().await.expect("close");
    let _ = std::fs::remove_file(file);
}
