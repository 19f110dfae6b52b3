//! The REST API's documentation: an OpenAPI document generated from the handlers and model
//! types (utoipa), served at `/api/openapi.json`, and an HTML page rendered from it at `/api`.

use std::fmt::Write as _;

use axum::Json;
use axum::extract::State;
use axum::response::Html;
use serde_json::Value;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use crate::api::{collections, uploads, writes};
use crate::state::SimState;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer_token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SYNCHRO Perform (simulated)",
        description = "The REST API of a simulated SYNCHRO Perform tenant (synchro-sim). Tokens are bound to one project and a scope (`read` or `read write`): 401 for a missing or unknown token, 404 for another project's data, 403 for a write with a read token. Errors are `{\"error\": {\"code\", \"message\", \"details\"}}`. Dates `YYYY-MM-DD`, instants RFC 3339 UTC."
    ),
    paths(
        crate::api::list_projects,
        crate::api::get_project,
        collections::list_activities, collections::get_activity,
        writes::create_activity, writes::patch_activity,
        collections::list_events, collections::get_event, writes::create_event,
        collections::list_people, collections::get_person,
        collections::list_equipment, collections::get_equipment,
        collections::list_other_resources, collections::get_other_resource,
        collections::list_resource_assignments, collections::get_resource_assignment,
        collections::list_companies, collections::get_company,
        collections::list_work_roles, collections::get_work_role,
        collections::list_usage_codes, collections::get_usage_code,
        collections::list_rate_codes, collections::get_rate_code,
        collections::list_applicable_rates, collections::get_applicable_rate,
        collections::list_resource_usages, collections::get_resource_usage,
        writes::create_resource_usage, writes::delete_resource_usage,
        collections::list_attendance, collections::get_attendance,
        collections::list_dockets, collections::get_docket, writes::docket_action,
        collections::list_competencies, collections::get_competency,
        collections::list_progress_entries, collections::get_progress_entry, writes::create_progress_entry,
        collections::list_attachments, collections::get_attachment,
        uploads::upload_activity_attachment, uploads::upload_event_attachment,
        crate::dataclips::fetch_clip, crate::dataclips::catalogue,
    ),
    components(schemas(
        crate::model::ContinuationPage, crate::model::PageLinks, crate::model::Link,
        crate::dataclips::CatalogueEntry, crate::clips::ClipInfo,
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "projects", description = "Projects visible to the token"),
        (name = "dataclips", description = "Backgrounded exports (HTTP Basic), not under the API prefix"),
    )
)]
struct ApiDoc;

/// The OpenAPI document with the REST paths under `prefix`.
pub fn openapi(prefix: &str) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let paths = std::mem::take(&mut doc.paths.paths);
    doc.paths.paths = paths
        .into_iter()
        .map(|(path, item)| {
            if path.starts_with("/dataclips") {
                (path, item)
            } else {
                (format!("{prefix}{path}"), item)
            }
        })
        .collect();
    doc
}

pub(crate) async fn openapi_json(State(sim): State<SimState>) -> Json<Value> {
    Json(serde_json::to_value(openapi(&sim.config.api_prefix)).unwrap_or_default())
}

pub(crate) async fn api_page(State(sim): State<SimState>) -> Html<String> {
    let doc = serde_json::to_value(openapi(&sim.config.api_prefix)).unwrap_or_default();
    Html(render(&doc, sim.config.pagination))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A readable type of a JSON schema.
fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!("<a href=\"#schema-{0}\">{0}</a>", escape(name));
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            return options.iter().map(type_of).collect::<Vec<_>>().join(" | ");
        }
    }
    let base = match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "any".to_owned(),
    };
    let base = if base.split(" | ").any(|t| t == "array") {
        let inner = schema
            .get("items")
            .map(type_of)
            .unwrap_or_else(|| "any".into());
        base.replacen("array", &format!("array of {inner}"), 1)
    } else {
        escape(&base)
    };
    let format = schema
        .get("format")
        .and_then(Value::as_str)
        .map(|f| format!(" ({})", escape(f)));
    let values = schema.get("enum").and_then(Value::as_array).map(|v| {
        let names: Vec<String> = v.iter().map(|x| escape(&x.to_string())).collect();
        format!(": {}", names.join(", "))
    });
    format!(
        "{base}{}{}",
        format.unwrap_or_default(),
        values.unwrap_or_default()
    )
}

/// Renders the OpenAPI document as one HTML page.
fn render(doc: &Value, style: crate::config::PaginationStyle) -> String {
    let mut out = String::new();
    let title = doc
        .pointer("/info/title")
        .and_then(Value::as_str)
        .unwrap_or("API");
    let description = doc
        .pointer("/info/description")
        .and_then(Value::as_str)
        .unwrap_or("");
    let _ = write!(
        out,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{0}</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}}\
         code,.path{{font-family:ui-monospace,monospace}}table{{border-collapse:collapse;margin:.5rem 0 1rem}}\
         td,th{{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}}\
         .op{{border-left:4px solid #4a7;padding-left:1rem;margin:1.5rem 0}}.method{{font-weight:bold;text-transform:uppercase}}\
         </style></head><body><h1>{0}</h1><p>{1}</p><p>Pagination style of this instance: <code>{2:?}</code>. \
         Machine-readable: <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p><h2>Endpoints</h2>",
        escape(title),
        escape(description),
        style
    );
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                if !matches!(method.as_str(), "get" | "post" | "put" | "patch" | "delete") {
                    continue;
                }
                let _ = write!(
                    out,
                    "<div class=\"op\"><p><span class=\"method\">{}</span> <span class=\"path\">{}</span></p>",
                    escape(method),
                    escape(path)
                );
                for key in ["summary", "description"] {
                    if let Some(text) = op.get(key).and_then(Value::as_str) {
                        let _ = write!(out, "<p>{}</p>", escape(text));
                    }
                }
                if let Some(params) = op.get("parameters").and_then(Value::as_array) {
                    out.push_str("<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th><th>description</th></tr>");
                    for p in params {
                        let get = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("");
                        let _ = write!(
                            out,
                            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            escape(get("name")),
                            escape(get("in")),
                            p.get("schema").map(type_of).unwrap_or_default(),
                            p.get("required").and_then(Value::as_bool).unwrap_or(false),
                            escape(get("description"))
                        );
                    }
                    out.push_str("</table>");
                }
                if let Some(body) = op.get("requestBody") {
                    let schema = body
                        .pointer("/content")
                        .and_then(Value::as_object)
                        .and_then(|c| {
                            c.iter().next().map(|(ct, v)| {
                                (ct.clone(), v.get("schema").map(type_of).unwrap_or_default())
                            })
                        });
                    if let Some((content_type, schema)) = schema {
                        let _ = write!(out, "<p>Body ({}): {}</p>", escape(&content_type), schema);
                    }
                }
                if let Some(responses) = op.get("responses").and_then(Value::as_object) {
                    out.push_str(
                        "<table><tr><th>status</th><th>description</th><th>body</th></tr>",
                    );
                    for (status, response) in responses {
                        let body = response
                            .get("content")
                            .and_then(Value::as_object)
                            .and_then(|c| c.values().next())
                            .and_then(|v| v.get("schema"))
                            .map(type_of)
                            .unwrap_or_default();
                        let _ = write!(
                            out,
                            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                            escape(status),
                            escape(
                                response
                                    .get("description")
                                    .and_then(Value::as_str)
                                    .unwrap_or("")
                            ),
                            body
                        );
                    }
                    out.push_str("</table>");
                }
                out.push_str("</div>");
            }
        }
    }
    out.push_str("<h2>Schemas</h2>");
    if let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            let _ = write!(out, "<h3 id=\"schema-{0}\">{0}</h3>", escape(name));
            if let Some(text) = schema.get("description").and_then(Value::as_str) {
                let _ = write!(out, "<p>{}</p>", escape(text));
            }
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                let required: Vec<&str> = schema
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                out.push_str("<table><tr><th>field</th><th>type</th><th>required</th><th>description</th></tr>");
                for (field, property) in properties {
                    let _ = write!(
                        out,
                        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        escape(field),
                        type_of(property),
                        required.contains(&field.as_str()),
                        escape(
                            property
                                .get("description")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                        )
                    );
                }
                out.push_str("</table>");
            } else {
                let _ = write!(out, "<p>{}</p>", type_of(schema));
            }
        }
    }
    out.push_str("</body></html>");
    out
}
