use gatehouse_compliance::examples::{bentley_example, mobile_progress_app, power_bi_dashboard};

use gatehouse_compliance::AccessRequest;

use super::*;

fn meta() -> DraftMeta {
    DraftMeta {
        reference: "0b9a4c1e-request".to_owned(),
        prepared_on: "2026-03-02".to_owned(),
    }
}

fn support(request: &AccessRequest) -> SupportRequestContext {
    let assessment = gatehouse_compliance::assess(request, &AssessmentPolicy::default());
    SupportRequestContext::new(request, &assessment, &meta())
}

fn dataclips(request: &AccessRequest) -> DataclipsRequestContext {
    let assessment = gatehouse_compliance::assess(request, &AssessmentPolicy::default());
    DataclipsRequestContext::new(request, &assessment, &meta())
}

fn drafts() -> Drafts {
    Drafts::load(None).expect("the built-in templates load")
}

#[test]
fn bentleys_example_drafts_as_markdown() {
    let out = drafts()
        .support_request(&support(&bentley_example()), DraftFormat::Markdown)
        .expect("renders");
    insta::assert_snapshot!(out);
}

#[test]
fn bentleys_example_drafts_as_plain_text() {
    let out = drafts()
        .support_request(&support(&bentley_example()), DraftFormat::Text)
        .expect("renders");
    insta::assert_snapshot!(out);
}

#[test]
fn the_mobile_progress_app_drafts_as_html() {
    let out = drafts()
        .support_request(&support(&mobile_progress_app()), DraftFormat::Html)
        .expect("renders");
    insta::assert_snapshot!(out);
}

#[test]
fn the_power_bi_dashboard_drafts_a_dataclips_request_with_its_refresh_needs() {
    let drafts = drafts();
    let context = dataclips(&power_bi_dashboard());
    let markdown = drafts
        .dataclips_request(&context, DraftFormat::Markdown)
        .expect("renders");
    insta::assert_snapshot!("power_bi_dataclips_markdown", markdown);
    let text = drafts
        .dataclips_request(&context, DraftFormat::Text)
        .expect("renders");
    insta::assert_snapshot!("power_bi_dataclips_text", text);
}

#[test]
fn the_support_request_carries_every_field_of_bentleys_example() {
    let out = drafts()
        .support_request(&support(&bentley_example()), DraftFormat::Text)
        .expect("renders");
    for field in [
        "Project URL: https://acme.e7.site/projects/1",
        "Project Contact: Joe Bloggs (Commercial Manager)",
        "Workflows/Reason/Requirement:",
        "Specific Platform Integrations: Azure, ERP, SAP, JDE",
        "Interval/Frequency Requirements:",
        "Access mode: read/write",
        "Commercial sensitivity: Confirmed",
    ] {
        assert!(out.contains(field), "missing `{field}` in:\n{out}");
    }
}

#[test]
fn request_text_cannot_inject_markup_into_the_html_draft() {
    let mut request = mobile_progress_app();
    request.integration.purpose =
        "<script>alert(1)</script> [click](javascript:alert(2)) **bold**".to_owned();
    let html = drafts()
        .support_request(&support(&request), DraftFormat::Html)
        .expect("renders");
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(!html.contains("href=\"javascript"), "{html}");
    assert!(!html.contains("<strong>bold"), "{html}");
}

#[test]
fn a_template_that_names_a_missing_value_fails_instead_of_rendering_a_blank() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("support-request.txt.hbs"),
        "Project: {{project_urls}}\nBudget holder: {{budget_holder}}\n",
    )
    .expect("write");
    let error = Drafts::load(Some(dir.path())).expect_err("a missing value stops loading");
    let message = format!("{error:#}");
    assert!(message.contains("support-request.txt.hbs"), "{message}");
    assert!(message.contains("does not render"), "{message}");
}

#[test]
fn an_override_that_does_not_compile_or_is_unknown_names_the_file() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("dataclips-request.md.hbs"),
        "{{#each clips}}",
    )
    .expect("write");
    let message = format!("{:#}", Drafts::load(Some(dir.path())).expect_err("refused"));
    assert!(message.contains("dataclips-request.md.hbs"), "{message}");
    assert!(message.contains("does not compile"), "{message}");

    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("suport-request.md.hbs"), "hi").expect("write");
    let message = format!("{:#}", Drafts::load(Some(dir.path())).expect_err("refused"));
    assert!(message.contains("suport-request.md.hbs"), "{message}");
    assert!(message.contains("unknown template"), "{message}");
}

#[test]
fn a_valid_override_replaces_the_built_in_template() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("support-request.txt.hbs"),
        "Ticket for {{integration_name}} by {{organisation}}\n",
    )
    .expect("write");
    let drafts = Drafts::load(Some(dir.path())).expect("a valid override loads");
    let out = drafts
        .support_request(&support(&bentley_example()), DraftFormat::Text)
        .expect("renders");
    assert_eq!(
        out,
        "Ticket for Project controls integration by Acme Construction\n"
    );
}
