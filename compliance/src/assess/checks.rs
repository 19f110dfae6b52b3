//! The readiness checks. Each says what it found and, unless it passes, what to fix.

use crate::model::{AccessRequest, Operation, Trigger, Workflow};
use crate::text;

use super::channel::join_labels;
use super::{AssessmentPolicy, Check, CheckId, CheckStatus, LoadEstimate, WorkflowLoad};

/// Words that suggest an analytical purpose in free text.
const ANALYTICS_WORDS: [&str; 9] = [
    "analytics",
    "dashboard",
    "power bi",
    "powerbi",
    "tableau",
    "business intelligence",
    "data warehouse",
    "looker",
    "qlik",
];

/// Runs every check, in the order of [`CheckId`].
pub(super) fn run(
    request: &AccessRequest,
    load: &LoadEstimate,
    policy: &AssessmentPolicy,
) -> Vec<Check> {
    let pairs: Vec<(&Workflow, &WorkflowLoad)> =
        request.workflows.iter().zip(&load.workflows).collect();
    vec![
        project_urls(request),
        requester(request),
        project_contact(request),
        commercial_permission(request),
        integration_purpose(request, policy),
        workflows_described(request, policy),
        api_documentation(request),
        read_write_needs(request),
        large_data_outlined(&pairs, policy),
        upload_volume(&pairs, policy),
        analytics_purpose(request),
        read_only_bulk(&pairs, policy),
        heavy_collection_polling(request, &pairs, policy),
        platform_integrations(request),
    ]
}

fn check(id: CheckId, status: CheckStatus, message: impl Into<String>) -> Check {
    Check {
        id,
        status,
        message: message.into(),
        workflows: Vec::new(),
    }
}

fn about(mut check: Check, workflows: Vec<String>) -> Check {
    check.workflows = workflows;
    check
}

fn blank(text: &str) -> bool {
    text.trim().is_empty()
}

fn project_urls(request: &AccessRequest) -> Check {
    let id = CheckId::ProjectUrls;
    let mut companies: Vec<&str> = request.project_urls.iter().map(|u| u.company()).collect();
    companies.sort_unstable();
    companies.dedup();
    match companies.as_slice() {
        [] => check(
            id,
            CheckStatus::Fail,
            "Add the URL of each project, e.g. https://{company}.e7.site/projects/{id}: tokens \
             are issued per project.",
        ),
        [company] => check(
            id,
            CheckStatus::Pass,
            format!(
                "{} on the tenant {company}.e7.site.",
                text::count(request.project_urls.len() as u64, "project", "projects")
            ),
        ),
        many => check(
            id,
            CheckStatus::Warn,
            format!(
                "The projects are on several tenants ({}): file one request per tenant.",
                many.join(", ")
            ),
        ),
    }
}

fn requester(request: &AccessRequest) -> Check {
    let id = CheckId::Requester;
    let mut missing = Vec::new();
    if blank(&request.requester.name) {
        missing.push("your name");
    }
    if blank(&request.requester.organisation) {
        missing.push("your organisation");
    }
    if missing.is_empty() {
        check(
            id,
            CheckStatus::Pass,
            format!(
                "Requested by {} for {}.",
                request.requester.name.trim(),
                request.requester.organisation.trim()
            ),
        )
    } else {
        check(
            id,
            CheckStatus::Fail,
            format!("Give {}: Bentley reviews who asks.", missing.join(" and ")),
        )
    }
}

fn project_contact(request: &AccessRequest) -> Check {
    let id = CheckId::ProjectContact;
    let contact = &request.project_contact;
    let mut missing = Vec::new();
    if blank(&contact.name) {
        missing.push("a name");
    }
    if blank(&contact.role) {
        missing.push("a role on the project");
    }
    if contact.email.is_none() {
        missing.push("an email address");
    }
    match &contact.email {
        Some(email) if missing.is_empty() => check(
            id,
            CheckStatus::Pass,
            format!(
                "Project contact: {} ({}), {email}.",
                contact.name.trim(),
                contact.role.trim()
            ),
        ),
        _ => check(
            id,
            CheckStatus::Fail,
            format!(
                "Give the project contact {}: Bentley keeps every request with an accountable \
                 contact for audit.",
                missing.join(", ")
            ),
        ),
    }
}

fn commercial_permission(request: &AccessRequest) -> Check {
    let id = CheckId::CommercialPermission;
    let permission = &request.commercial_permission;
    let by = permission
        .confirmed_by
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    match (permission.confirmed, by, permission.confirmed_at) {
        (false, _, _) => check(
            id,
            CheckStatus::Fail,
            "Confirm that you hold your organisation's commercial permission for the project's \
             data: project data may be commercially sensitive.",
        ),
        (true, Some(by), Some(at)) => check(
            id,
            CheckStatus::Pass,
            format!(
                "Commercial permission confirmed by {by} on {}.",
                at.format("%Y-%m-%d")
            ),
        ),
        (true, _, _) => check(
            id,
            CheckStatus::Warn,
            "Commercial permission is confirmed; say who gave it and when, so the reviewer can \
             trace it.",
        ),
    }
}

fn integration_purpose(request: &AccessRequest, policy: &AssessmentPolicy) -> Check {
    let id = CheckId::IntegrationPurpose;
    let integration = &request.integration;
    let purpose_len = integration.purpose.trim().chars().count();
    if blank(&integration.name) || purpose_len < policy.min_description_chars {
        check(
            id,
            CheckStatus::Fail,
            format!(
                "Name the integration and describe its purpose in at least {} characters (now \
                 {purpose_len}): requests without enough background are refused.",
                policy.min_description_chars
            ),
        )
    } else {
        check(
            id,
            CheckStatus::Pass,
            format!(
                "Integration '{}' is named and described.",
                integration.name.trim()
            ),
        )
    }
}

fn workflows_described(request: &AccessRequest, policy: &AssessmentPolicy) -> Check {
    let id = CheckId::WorkflowsDescribed;
    if request.workflows.is_empty() {
        return check(
            id,
            CheckStatus::Fail,
            "Describe at least one workflow: the entities it touches, its direction, how often \
             it runs and how many records it moves.",
        );
    }
    let mut problems = Vec::new();
    let mut concerned = Vec::new();
    for (index, workflow) in request.workflows.iter().enumerate() {
        let mut missing = Vec::new();
        if blank(&workflow.name) {
            missing.push("a name".to_owned());
        } else if request.workflows[..index]
            .iter()
            .any(|other| other.name.trim() == workflow.name.trim())
        {
            missing.push("a name of its own (another workflow has it)".to_owned());
        }
        let description_len = workflow.description.trim().chars().count();
        if description_len < policy.min_description_chars {
            missing.push(format!(
                "a description of at least {} characters (now {description_len})",
                policy.min_description_chars
            ));
        }
        if workflow.entities.is_empty() {
            missing.push("the entities it touches".to_owned());
        } else if workflow.entities.iter().any(|a| a.operations.is_empty()) {
            missing.push("what it does to each entity".to_owned());
        }
        match &workflow.trigger {
            None => missing.push("its trigger and frequency".to_owned()),
            Some(Trigger::Daily { at }) if at.is_empty() => {
                missing.push("the times of its daily runs".to_owned());
            }
            Some(_) => {}
        }
        if workflow.records_per_run.is_none() {
            missing.push("the records it moves per run".to_owned());
        }
        if workflow.uploads_files() && workflow.uploads.is_none() {
            missing.push("the count and sizes of its uploads".to_owned());
        }
        if !missing.is_empty() {
            let name = display_name(workflow, index);
            problems.push(format!("'{name}' needs {}", missing.join(", ")));
            concerned.push(name);
        }
    }
    if problems.is_empty() {
        check(
            id,
            CheckStatus::Pass,
            format!(
                "{} described with entities, direction, frequency and volume.",
                text::count(request.workflows.len() as u64, "workflow", "workflows")
            ),
        )
    } else {
        about(
            check(id, CheckStatus::Fail, format!("{}.", problems.join("; "))),
            concerned,
        )
    }
}

fn display_name(workflow: &Workflow, index: usize) -> String {
    if blank(&workflow.name) {
        format!("workflow {}", index + 1)
    } else {
        workflow.name.trim().to_owned()
    }
}

fn api_documentation(request: &AccessRequest) -> Check {
    let id = CheckId::ApiDocumentation;
    let docs = &request.api_documentation;
    let expected = request
        .project_urls
        .first()
        .map(|url| url.api_docs_url().to_string())
        .unwrap_or_else(|| "https://{company}.e7.site/api".to_owned());
    if !docs.reviewed {
        return check(
            id,
            CheckStatus::Fail,
            format!("Review the project's API documentation at {expected} and confirm it."),
        );
    }
    let Some(url) = &docs.url else {
        return check(
            id,
            CheckStatus::Warn,
            format!("Give the documentation page you reviewed ({expected})."),
        );
    };
    let other_tenant: Vec<String> = request
        .project_urls
        .iter()
        .filter(|project| project.company() != url.company())
        .map(ToString::to_string)
        .collect();
    if other_tenant.is_empty() {
        check(
            id,
            CheckStatus::Pass,
            format!("API documentation reviewed at {url}."),
        )
    } else {
        check(
            id,
            CheckStatus::Fail,
            format!(
                "The documentation reviewed ({url}) is another tenant's than {}: review \
                 {expected}.",
                other_tenant.join(", ")
            ),
        )
    }
}

fn read_write_needs(request: &AccessRequest) -> Check {
    let id = CheckId::ReadWriteNeeds;
    let mut failures = Vec::new();
    let mut warnings = Vec::new();
    let mut concerned = Vec::new();
    let mut writes = Vec::new();
    for (index, workflow) in request.workflows.iter().enumerate() {
        let name = display_name(workflow, index);
        let Some(implied) = workflow.direction_of_operations() else {
            continue;
        };
        let declared = workflow.direction;
        if declared.writes() && !implied.writes() {
            failures.push(format!(
                "'{name}' is declared {declared} but lists no create, update, delete or upload"
            ));
            concerned.push(name.clone());
        } else if !declared.writes() && implied.writes() {
            failures.push(format!(
                "'{name}' is declared read-only but changes {}",
                join_labels(&workflow.written_entities())
            ));
            concerned.push(name.clone());
        } else if declared != implied {
            warnings.push(format!(
                "'{name}' is declared {declared} but its operations are {implied}"
            ));
            concerned.push(name.clone());
        }
        if implied.writes() {
            let entities: Vec<String> = workflow
                .entities
                .iter()
                .filter(|a| a.writes())
                .map(|a| {
                    let ops: Vec<&str> = a
                        .operations
                        .iter()
                        .filter(|op| op.is_write())
                        .map(|op| op.as_str())
                        .collect();
                    format!("{} ({})", a.entity.label(), ops.join(", "))
                })
                .collect();
            writes.push(format!("'{name}' writes {}", entities.join(", ")));
        }
    }
    if !failures.is_empty() {
        let mut message = failures.join("; ");
        message.push_str(
            ": state the access each workflow needs, read-only or read/write, and which \
             entities it writes.",
        );
        return about(check(id, CheckStatus::Fail, message), concerned);
    }
    if !warnings.is_empty() {
        return about(
            check(
                id,
                CheckStatus::Warn,
                format!("{}: correct the declared direction.", warnings.join("; ")),
            ),
            concerned,
        );
    }
    if writes.is_empty() {
        check(
            id,
            CheckStatus::Pass,
            "Read-only: no workflow writes to SYNCHRO Perform.",
        )
    } else {
        check(id, CheckStatus::Pass, format!("{}.", writes.join("; ")))
    }
}

/// Whether a workflow is (or may be) a large data requirement that Bentley wants outlined.
fn potentially_large(workflow: &Workflow, load: &WorkflowLoad, policy: &AssessmentPolicy) -> bool {
    workflow.uploads_files()
        || workflow.entities.iter().any(|a| a.entity.is_heavy())
        || load.total.records_per_day >= policy.large_records_per_day
        || load.total.bytes_per_day >= policy.large_bytes_per_day
        || workflow
            .uploads
            .is_some_and(|u| u.max_bytes >= policy.large_payload_bytes)
}

fn large_data_outlined(pairs: &[(&Workflow, &WorkflowLoad)], policy: &AssessmentPolicy) -> Check {
    let id = CheckId::LargeDataOutlined;
    let mut failures = Vec::new();
    let mut warnings = Vec::new();
    let mut outlines = Vec::new();
    let mut concerned = Vec::new();
    for (index, (workflow, load)) in pairs.iter().enumerate() {
        if !potentially_large(workflow, load, policy) {
            continue;
        }
        let name = display_name(workflow, index);
        concerned.push(name.clone());
        if !load.missing.is_empty() {
            failures.push(format!("'{name}' needs {}", load.missing.join(", ")));
            continue;
        }
        let timed = workflow.sync_window.is_some()
            || matches!(workflow.trigger, Some(Trigger::Daily { .. }));
        if !timed {
            warnings.push(format!(
                "'{name}' runs {} without a sync window: say when it moves its data",
                workflow
                    .trigger
                    .as_ref()
                    .map(Trigger::describe)
                    .unwrap_or_default()
            ));
        }
        if let Some(window) = workflow.sync_window
            && load.run_minutes > u64::from(window.duration_minutes())
        {
            warnings.push(format!(
                "'{name}' needs about {} minutes a run at {} calls a minute, longer than its \
                 window {window}: widen the window or move less per run",
                text::number(load.run_minutes),
                policy.upstream.calls_per_minute
            ));
        }
        outlines.push(outline(workflow, load));
    }
    if concerned.is_empty() {
        return check(
            id,
            CheckStatus::Pass,
            "No large data requirement: no uploads, no heavy collections, volumes under the \
             thresholds.",
        );
    }
    if !failures.is_empty() {
        return about(
            check(
                id,
                CheckStatus::Fail,
                format!(
                    "Large data requirements must be outlined with volumes and timing: {}.",
                    failures.join("; ")
                ),
            ),
            concerned,
        );
    }
    if !warnings.is_empty() {
        return about(
            check(
                id,
                CheckStatus::Warn,
                format!("{}. Outline: {}", warnings.join("; "), outlines.join(" ")),
            ),
            concerned,
        );
    }
    about(
        check(
            id,
            CheckStatus::Pass,
            format!("Outlined for the request: {}", outlines.join(" ")),
        ),
        concerned,
    )
}

/// One workflow's volumes and timing, as the request should state them.
fn outline(workflow: &Workflow, load: &WorkflowLoad) -> String {
    let mut parts = vec![format!(
        "'{}': {} ({} a day), {} records a run",
        workflow.name.trim(),
        workflow
            .trigger
            .as_ref()
            .map(Trigger::describe)
            .unwrap_or_default(),
        text::count(load.runs_per_day, "run", "runs"),
        text::number(workflow.records_per_run.unwrap_or(0))
    )];
    if let Some(uploads) = workflow.uploads.filter(|_| workflow.uploads_files()) {
        parts.push(format!(
            "{} files a run of {} on average and {} at most",
            text::number(uploads.files_per_run),
            text::bytes(uploads.average_bytes),
            text::bytes(uploads.max_bytes)
        ));
    }
    parts.push(format!(
        "about {} calls and {} a day, at most {} calls a minute",
        text::number(load.total.calls_per_day),
        text::bytes(load.total.bytes_per_day),
        text::number(load.total.peak_calls_per_minute)
    ));
    if let Some(window) = workflow.sync_window {
        parts.push(format!("within {window}"));
    }
    format!("{}.", parts.join(", "))
}

fn upload_volume(pairs: &[(&Workflow, &WorkflowLoad)], policy: &AssessmentPolicy) -> Check {
    let id = CheckId::UploadVolume;
    let uploading: Vec<(&Workflow, &WorkflowLoad)> = pairs
        .iter()
        .copied()
        .filter(|(w, _)| w.uploads_files())
        .collect();
    if uploading.is_empty() {
        return check(id, CheckStatus::Pass, "No uploads.");
    }
    let mut flagged = Vec::new();
    let mut concerned = Vec::new();
    for (workflow, load) in &uploading {
        let Some(uploads) = workflow.uploads else {
            continue;
        };
        let files_per_day = uploads.files_per_run.saturating_mul(load.runs_per_day);
        let upload_bytes = files_per_day.saturating_mul(uploads.average_bytes);
        if uploads.max_bytes >= policy.large_payload_bytes
            || upload_bytes >= policy.large_bytes_per_day
        {
            let timing = match workflow.sync_window {
                Some(window) => format!("keep them inside {window}"),
                None => "upload off-peak inside a sync window".to_owned(),
            };
            flagged.push(format!(
                "'{}' uploads about {} files ({}) a day, up to {} each: {timing}",
                workflow.name.trim(),
                text::number(files_per_day),
                text::bytes(upload_bytes),
                text::bytes(uploads.max_bytes)
            ));
            concerned.push(workflow.name.trim().to_owned());
        }
    }
    if flagged.is_empty() {
        about(
            check(
                id,
                CheckStatus::Pass,
                "Uploads are within the volume thresholds.",
            ),
            uploading
                .iter()
                .map(|(w, _)| w.name.trim().to_owned())
                .collect(),
        )
    } else {
        about(
            check(
                id,
                CheckStatus::Warn,
                format!(
                    "{}. State these volumes in the request, and stream files rather than \
                     retrying whole uploads.",
                    flagged.join("; ")
                ),
            ),
            concerned,
        )
    }
}

fn analytics_purpose(request: &AccessRequest) -> Check {
    let id = CheckId::AnalyticsPurpose;
    let declared: Vec<String> = request
        .workflows
        .iter()
        .filter(|w| w.purpose.is_analytical())
        .map(|w| w.name.trim().to_owned())
        .collect();
    if !declared.is_empty() {
        return about(
            check(
                id,
                CheckStatus::Warn,
                format!(
                    "{} {} for analytics or reporting: Bentley does not usually issue tokens for \
                     analytics. Ask for Dataclips for these and leave them out of the token \
                     request.",
                    text::quoted(&declared),
                    if declared.len() == 1 { "is" } else { "are" }
                ),
            ),
            declared,
        );
    }
    let mut hinted = Vec::new();
    let mut words = Vec::new();
    let integration_text = format!(
        "{} {}",
        request.integration.name, request.integration.purpose
    );
    let mut scan = |text: &str, subject: Option<String>| {
        let lower = text.to_lowercase();
        for word in ANALYTICS_WORDS {
            if lower.contains(word) {
                if !words.contains(&word) {
                    words.push(word);
                }
                if let Some(subject) = &subject
                    && !hinted.contains(subject)
                {
                    hinted.push(subject.clone());
                }
            }
        }
    };
    scan(&integration_text, None);
    for workflow in &request.workflows {
        scan(
            &format!("{} {}", workflow.name, workflow.description),
            Some(workflow.name.trim().to_owned()),
        );
    }
    if words.is_empty() {
        check(
            id,
            CheckStatus::Pass,
            "No analytics or reporting purpose: the workflows integrate.",
        )
    } else {
        about(
            check(
                id,
                CheckStatus::Warn,
                format!(
                    "The request mentions {}: if a workflow's purpose is analytics or \
                     reporting, mark it so and use Dataclips for it.",
                    words
                        .iter()
                        .map(|w| format!("\"{w}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            hinted,
        )
    }
}

fn read_only_bulk(pairs: &[(&Workflow, &WorkflowLoad)], policy: &AssessmentPolicy) -> Check {
    let id = CheckId::ReadOnlyBulk;
    let bulk: Vec<(&Workflow, &WorkflowLoad)> = pairs
        .iter()
        .copied()
        .filter(|(w, load)| {
            w.is_read_only() && load.read.records_per_day >= policy.bulk_read_records_per_day
        })
        .collect();
    if bulk.is_empty() {
        return check(id, CheckStatus::Pass, "No read-only bulk automation.");
    }
    let lines: Vec<String> = bulk
        .iter()
        .map(|(w, load)| {
            format!(
                "'{}' reads about {} records a day and writes nothing",
                w.name.trim(),
                text::number(load.read.records_per_day)
            )
        })
        .collect();
    about(
        check(
            id,
            CheckStatus::Warn,
            format!(
                "{}: Bentley recommends Dataclips for bulk read-only automation.",
                lines.join("; ")
            ),
        ),
        bulk.iter().map(|(w, _)| w.name.trim().to_owned()).collect(),
    )
}

fn heavy_collection_polling(
    request: &AccessRequest,
    pairs: &[(&Workflow, &WorkflowLoad)],
    policy: &AssessmentPolicy,
) -> Check {
    let id = CheckId::HeavyCollectionPolling;
    let polled: Vec<(&Workflow, &WorkflowLoad)> = pairs
        .iter()
        .copied()
        .filter(|(w, load)| {
            load.runs_per_day > policy.heavy_poll_max_runs_per_day
                && w.entities
                    .iter()
                    .any(|a| a.entity.is_heavy() && a.operations.contains(&Operation::Read))
        })
        .collect();
    if polled.is_empty() {
        return check(
            id,
            CheckStatus::Pass,
            "No heavy collection (resource usages, attendance) is polled at high frequency.",
        );
    }
    let lines: Vec<String> = polled
        .iter()
        .map(|(w, load)| {
            let heavy: Vec<_> = w
                .read_entities()
                .into_iter()
                .filter(|e| e.is_heavy())
                .collect();
            format!(
                "'{}' reads {} {} times a day",
                w.name.trim(),
                join_labels(&heavy),
                load.runs_per_day
            )
        })
        .collect();
    let missing = request.mitigations.missing();
    let concerned = polled
        .iter()
        .map(|(w, _)| w.name.trim().to_owned())
        .collect();
    let advice = if missing.is_empty() {
        "incremental sync, off-peak scheduling, caching and back-off are declared; still, a \
         dataclip refreshed every 4 hours spares the project: say why fresher data is needed."
            .to_owned()
    } else {
        format!(
            "polling these collections this often slows the project for its users. Apply {}, \
             or read them from a dataclip.",
            missing.join(", ")
        )
    };
    about(
        check(
            id,
            CheckStatus::Warn,
            format!("{}: {advice}", lines.join("; ")),
        ),
        concerned,
    )
}

fn platform_integrations(request: &AccessRequest) -> Check {
    let id = CheckId::PlatformIntegrations;
    if request.platforms.is_empty() {
        check(
            id,
            CheckStatus::Warn,
            "Name the platforms the integration connects (e.g. Azure, ERP, SAP, JDE).",
        )
    } else {
        let names: Vec<&str> = request.platforms.iter().map(|p| p.label()).collect();
        check(
            id,
            CheckStatus::Pass,
            format!("Platforms: {}.", names.join(", ")),
        )
    }
}
