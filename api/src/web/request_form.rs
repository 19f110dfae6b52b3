//! The access-request form: what the contact typed, kept as typed (so a re-render after an
//! error, an added workflow or a re-login shows exactly that), its conversion into the shared
//! [`RequestInput`] (the one GraphQL uses) and the view the form is rendered from.
//!
//! Field names are the paths the shared conversion names in its errors (`requester.email`,
//! `workflows[1].syncWindow`), so each error lands next to its field. The few fields whose form
//! differs from the input (a textarea of project URLs, times as a comma-separated list, file
//! sizes in MB) map their errors here.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use gatehouse_compliance::AccessRequest;
use gatehouse_compliance::model::{
    Direction, EntityAccess, Mitigations, Operation, UploadProfile, WorkflowPurpose,
};
use gatehouse_compliance::{Entity, model::Platform};
use serde::Serialize;

use super::fields::{Errors, Field, id_of};
use super::handler::FormPairs;
use crate::error::FieldError;
use gatehouse_core::access::input::{
    ApiDocumentationInput, CommercialPermissionInput, InputLimits, MAX_WORKFLOWS_CEILING,
    ProjectContactInput, RequestInput, RequesterInput, TriggerInput, WorkflowInput, platform,
};

const MIB: f64 = 1024.0 * 1024.0;
/// The platforms offered as checkboxes; others are typed.
const KNOWN_PLATFORMS: [&str; 4] = ["Azure", "ERP", "SAP", "JDE"];
const DIRECTIONS: [(&str, &str); 3] = [
    ("read", "Read: from SYNCHRO Perform to the integration"),
    ("write", "Write: from the integration into SYNCHRO Perform"),
    ("two_way", "Two-way: both"),
];
const PURPOSES: [(&str, &str); 3] = [
    ("integration", "Integration: automating key entities"),
    ("analytics", "Analytics: dashboards, models, BI"),
    ("reporting", "Reporting"),
];
const TRIGGERS: [(&str, &str); 4] = [
    ("none", "Not stated yet"),
    ("every_minutes", "Every N minutes"),
    ("daily_at", "Daily at set times"),
    ("on_demand", "On demand"),
];

/// One workflow as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowForm {
    name: String,
    description: String,
    direction: String,
    purpose: String,
    /// `entity:operation` pairs ticked.
    operations: BTreeSet<String>,
    trigger: String,
    every_minutes: String,
    daily_at: String,
    on_demand_per_day: String,
    records_per_run: String,
    files_per_run: String,
    average_mb: String,
    max_mb: String,
    sync_window: String,
}

impl Default for WorkflowForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            description: String::new(),
            direction: "read".into(),
            purpose: "integration".into(),
            operations: BTreeSet::new(),
            trigger: "none".into(),
            every_minutes: String::new(),
            daily_at: String::new(),
            on_demand_per_day: String::new(),
            records_per_run: String::new(),
            files_per_run: String::new(),
            average_mb: String::new(),
            max_mb: String::new(),
            sync_window: String::new(),
        }
    }
}

/// The request form as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestForm {
    project_urls: String,
    requester_name: String,
    requester_email: String,
    requester_organisation: String,
    contact_name: String,
    contact_role: String,
    contact_email: String,
    permission_confirmed: bool,
    permission_by: String,
    permission_on: String,
    /// The stored confirmation time, kept when the date is not changed.
    permission_at: String,
    docs_reviewed: bool,
    docs_url: String,
    integration_name: String,
    integration_purpose: String,
    platforms: BTreeSet<String>,
    platforms_other: String,
    caching: bool,
    backoff: bool,
    off_peak: bool,
    incremental: bool,
    workflows: Vec<WorkflowForm>,
}

/// What the buttons of the form ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormAction {
    /// Save as a draft (the default, also on Enter).
    Save,
    /// Save and submit for review.
    Submit,
    /// Only assess (the public page).
    Assess,
    /// Add an empty workflow and show the form again.
    AddWorkflow,
    /// Remove the workflow at this position and show the form again.
    RemoveWorkflow(usize),
}

impl FormAction {
    /// The action a posted form's button asked for.
    pub fn of(form: &FormPairs) -> Self {
        match form.get("action") {
            "submit" => Self::Submit,
            "assess" => Self::Assess,
            "add_workflow" => Self::AddWorkflow,
            other => other
                .strip_prefix("remove_workflow:")
                .and_then(|i| i.parse().ok())
                .map_or(Self::Save, Self::RemoveWorkflow),
        }
    }
}

fn workflow_key(i: usize, field: &str) -> String {
    format!("workflows[{i}].{field}")
}

/// The position and field of a `workflows[<i>].<field>` key.
fn workflow_field(key: &str) -> Option<(usize, &str)> {
    let (index, field) = key.strip_prefix("workflows[")?.split_once("].")?;
    Some((index.parse().ok()?, field))
}

/// One posted workflow's fields, first value of each name.
#[derive(Default)]
struct WorkflowFields<'a> {
    text: HashMap<&'a str, &'a str>,
    operations: BTreeSet<String>,
}

impl RequestForm {
    /// An empty form with one empty workflow.
    pub fn blank() -> Self {
        Self {
            workflows: vec![WorkflowForm::default()],
            ..Self::default()
        }
    }

    /// The form as posted: one pass over the fields, and no more than one workflow past
    /// `limits.max_workflows` read, whatever the post holds (the one past shows the limit's
    /// error; the page that echoes the form stays bounded).
    pub fn from_pairs(form: &FormPairs, limits: &InputLimits) -> Self {
        let most = limits.max_workflows.min(MAX_WORKFLOWS_CEILING);
        let mut first: HashMap<&str, &str> = HashMap::with_capacity(form.0.len());
        let mut workflows: BTreeMap<usize, WorkflowFields> = BTreeMap::new();
        let mut platforms = BTreeSet::new();
        for (key, value) in &form.0 {
            first.entry(key.as_str()).or_insert(value.as_str());
            if key == "platforms" && KNOWN_PLATFORMS.contains(&value.as_str()) {
                platforms.insert(value.clone());
            }
            let Some((i, field)) = workflow_field(key) else {
                continue;
            };
            if !workflows.contains_key(&i) && workflows.len() > most {
                continue;
            }
            let fields = workflows.entry(i).or_default();
            match field.strip_prefix("entities.") {
                Some(entity) => {
                    fields.operations.insert(format!("{entity}:{value}"));
                }
                None => {
                    fields.text.entry(field).or_insert(value.as_str());
                }
            }
        }
        let text = |name: &str| first.get(name).copied().unwrap_or_default().to_owned();
        let workflows = workflows
            .into_values()
            .map(|fields| {
                let w = |name: &str| {
                    fields
                        .text
                        .get(name)
                        .copied()
                        .unwrap_or_default()
                        .to_owned()
                };
                WorkflowForm {
                    name: w("name"),
                    description: w("description"),
                    direction: w("direction"),
                    purpose: w("purpose"),
                    operations: fields.operations,
                    trigger: w("trigger"),
                    every_minutes: w("trigger.everyMinutes"),
                    daily_at: w("trigger.dailyAt"),
                    on_demand_per_day: w("trigger.onDemandPerDay"),
                    records_per_run: w("recordsPerRun"),
                    files_per_run: w("uploads.filesPerRun"),
                    average_mb: w("uploads.averageMb"),
                    max_mb: w("uploads.maxMb"),
                    sync_window: w("syncWindow"),
                }
            })
            .collect();
        Self {
            project_urls: text("projectUrls"),
            requester_name: text("requester.name"),
            requester_email: text("requester.email"),
            requester_organisation: text("requester.organisation"),
            contact_name: text("projectContact.name"),
            contact_role: text("projectContact.role"),
            contact_email: text("projectContact.email"),
            permission_confirmed: first.contains_key("commercialPermission.confirmed"),
            permission_by: text("commercialPermission.confirmedBy"),
            permission_on: text("commercialPermission.confirmedOn"),
            permission_at: text("commercialPermission.confirmedAt"),
            docs_reviewed: first.contains_key("apiDocumentation.reviewed"),
            docs_url: text("apiDocumentation.url"),
            integration_name: text("integration.name"),
            integration_purpose: text("integration.purpose"),
            platforms,
            platforms_other: text("platforms.other"),
            caching: first.contains_key("mitigations.caching"),
            backoff: first.contains_key("mitigations.backoff"),
            off_peak: first.contains_key("mitigations.offPeakScheduling"),
            incremental: first.contains_key("mitigations.incrementalSync"),
            workflows,
        }
    }

    /// The form showing a stored request.
    pub fn from_request(request: &AccessRequest) -> Self {
        let input = RequestInput::from_request(request);
        let (known, other): (Vec<String>, Vec<String>) = input
            .platforms
            .into_iter()
            .partition(|p| !matches!(platform(p), Platform::Other(_)));
        let at = input.commercial_permission.confirmed_at;
        Self {
            project_urls: input.project_urls.join("\n"),
            requester_name: input.requester.name,
            requester_email: input.requester.email.unwrap_or_default(),
            requester_organisation: input.requester.organisation,
            contact_name: input.project_contact.name,
            contact_role: input.project_contact.role,
            contact_email: input.project_contact.email.unwrap_or_default(),
            permission_confirmed: input.commercial_permission.confirmed,
            permission_by: input.commercial_permission.confirmed_by.unwrap_or_default(),
            permission_on: at
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            permission_at: at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            docs_reviewed: input.api_documentation.reviewed,
            docs_url: input.api_documentation.url.unwrap_or_default(),
            integration_name: input.integration_name,
            integration_purpose: input.integration_purpose,
            platforms: known
                .iter()
                .map(|p| platform(p).label().to_owned())
                .collect(),
            platforms_other: other.join(", "),
            caching: input.mitigations.caching,
            backoff: input.mitigations.backoff,
            off_peak: input.mitigations.off_peak_scheduling,
            incremental: input.mitigations.incremental_sync,
            workflows: input
                .workflows
                .iter()
                .map(WorkflowForm::from_input)
                .collect(),
        }
    }

    /// Adds an empty workflow at the end.
    pub fn add_workflow(&mut self) {
        // One past any limit at most: the limit's error then says what to do.
        if self.workflows.len() <= MAX_WORKFLOWS_CEILING {
            self.workflows.push(WorkflowForm::default());
        }
    }

    /// Removes the workflow at `index`, if there is one.
    pub fn remove_workflow(&mut self, index: usize) {
        if index < self.workflows.len() {
            self.workflows.remove(index);
        }
    }

    /// Validates the form: the request, or every invalid field by its form name. Workflows
    /// left entirely blank are ignored.
    pub fn to_request(&self, limits: &InputLimits) -> Result<AccessRequest, Errors> {
        let mut errors = Errors::default();
        let (input, rows, lines) = self.to_input(&mut errors);
        match input.into_request(limits) {
            Ok(request) if errors.is_empty() => Ok(request),
            Ok(_) => Err(errors),
            Err(shared) => {
                errors.extend(shared.into_iter().map(|e| form_error(e, &rows, &lines)));
                Err(errors)
            }
        }
    }

    /// Maps an error the service gave for the converted request (such as a duplicate
    /// workflow name) onto the form's fields.
    pub fn service_error(&self, field: &str, message: &str) -> Errors {
        let mut scratch = Errors::default();
        let (_, rows, lines) = self.to_input(&mut scratch);
        let mut errors = Errors::default();
        errors.extend([form_error(FieldError::new(field, message), &rows, &lines)]);
        errors
    }

    /// The shared input, with the form-level errors (numbers, dates) in `errors`; also the
    /// form row of each input workflow and the textarea line of each project URL.
    fn to_input(&self, errors: &mut Errors) -> (RequestInput, Vec<usize>, Vec<usize>) {
        let mut project_urls = Vec::new();
        let mut lines = Vec::new();
        for (line, url) in self.project_urls.lines().enumerate() {
            if !url.trim().is_empty() {
                project_urls.push(url.trim().to_owned());
                lines.push(line + 1);
            }
        }
        let confirmed_at = self.confirmed_at(errors);
        let mut platforms: Vec<String> = KNOWN_PLATFORMS
            .iter()
            .filter(|p| self.platforms.contains(**p))
            .map(|p| (*p).to_owned())
            .collect();
        platforms.extend(
            self.platforms_other
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
        );
        let mut workflows = Vec::new();
        let mut rows = Vec::new();
        for (row, workflow) in self.workflows.iter().enumerate() {
            if workflow.is_blank() {
                continue;
            }
            workflows.push(workflow.to_input(row, errors));
            rows.push(row);
        }
        let optional = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
        let input = RequestInput {
            project_urls,
            requester: RequesterInput {
                name: self.requester_name.clone(),
                email: optional(&self.requester_email),
                organisation: self.requester_organisation.clone(),
            },
            project_contact: ProjectContactInput {
                name: self.contact_name.clone(),
                role: self.contact_role.clone(),
                email: optional(&self.contact_email),
            },
            commercial_permission: CommercialPermissionInput {
                confirmed: self.permission_confirmed,
                confirmed_by: optional(&self.permission_by),
                confirmed_at,
            },
            api_documentation: ApiDocumentationInput {
                reviewed: self.docs_reviewed,
                url: optional(&self.docs_url),
            },
            integration_name: self.integration_name.clone(),
            integration_purpose: self.integration_purpose.clone(),
            platforms,
            mitigations: Mitigations {
                caching: self.caching,
                backoff: self.backoff,
                off_peak_scheduling: self.off_peak,
                incremental_sync: self.incremental,
            },
            workflows,
        };
        (input, rows, lines)
    }

    /// The confirmation's time: the stored one while its date is unchanged, else midnight UTC
    /// of the date typed.
    fn confirmed_at(&self, errors: &mut Errors) -> Option<DateTime<Utc>> {
        let typed = self.permission_on.trim();
        if typed.is_empty() {
            return None;
        }
        let Ok(date) = NaiveDate::parse_from_str(typed, "%Y-%m-%d") else {
            errors.add(
                "commercialPermission.confirmedOn",
                "must be a date such as 2026-03-02",
            );
            return None;
        };
        if let Ok(stored) = DateTime::parse_from_rfc3339(&self.permission_at)
            && stored.date_naive() == date
        {
            return Some(stored.with_timezone(&Utc));
        }
        date.and_hms_opt(0, 0, 0).map(|t| t.and_utc())
    }

    /// The form's view, with `errors` beside their fields.
    pub fn view(&self, errors: &Errors) -> RequestFormView {
        let e = errors;
        let mitigation = |name: &str, label: &str, checked: bool| {
            Field::checkbox(&format!("mitigations.{name}"), label, checked, e)
        };
        let mut view = RequestFormView {
            project_urls: Field::textarea("projectUrls", "Project URLs", &self.project_urls, e)
                .hint(
                    "One per line, as in your browser: https://{company}.e7.site/projects/{id}. \
                     List every project the integration needs.",
                )
                .placeholder("https://acme.e7.site/projects/1234"),
            requester_name: Field::text("requester.name", "Your name", &self.requester_name, e)
                .autocomplete("name"),
            requester_email: Field::text("requester.email", "Your email", &self.requester_email, e)
                .kind("email")
                .autocomplete("email"),
            requester_organisation: Field::text(
                "requester.organisation",
                "Organisation",
                &self.requester_organisation,
                e,
            )
            .autocomplete("organization"),
            contact_name: Field::text("projectContact.name", "Name", &self.contact_name, e).hint(
                "The named person accountable for the integration; Bentley keeps this for audit.",
            ),
            contact_role: Field::text("projectContact.role", "Role", &self.contact_role, e)
                .placeholder("Commercial Manager"),
            contact_email: Field::text("projectContact.email", "Email", &self.contact_email, e)
                .kind("email"),
            permission_confirmed: Field::checkbox(
                "commercialPermission.confirmed",
                "I hold my organisation's commercial permission to use this project's data",
                self.permission_confirmed,
                e,
            ),
            permission_by: Field::text(
                "commercialPermission.confirmedBy",
                "Permission given by",
                &self.permission_by,
                e,
            )
            .placeholder("Name, role"),
            permission_on: Field::text(
                "commercialPermission.confirmedOn",
                "Permission given on",
                &self.permission_on,
                e,
            )
            .kind("date")
            .hint("YYYY-MM-DD"),
            permission_at: self.permission_at.clone(),
            docs_reviewed: Field::checkbox(
                "apiDocumentation.reviewed",
                "I reviewed the project's API documentation",
                self.docs_reviewed,
                e,
            ),
            docs_url: Field::text(
                "apiDocumentation.url",
                "API documentation page reviewed",
                &self.docs_url,
                e,
            )
            .kind("url")
            .placeholder("https://acme.e7.site/api")
            .hint("The /api page of your tenant."),
            integration_name: Field::text(
                "integration.name",
                "Integration name",
                &self.integration_name,
                e,
            )
            .placeholder("Schedule and document sync"),
            integration_purpose: Field::textarea(
                "integration.purpose",
                "Purpose",
                &self.integration_purpose,
                e,
            )
            .hint(
                "What the integration is for and who relies on it, in enough detail for \
                 Bentley's reviewer.",
            ),
            platforms: KNOWN_PLATFORMS
                .iter()
                .map(|p| {
                    let mut field = Field::checkbox(
                        &format!("platforms.{p}"),
                        p,
                        self.platforms.contains(*p),
                        e,
                    );
                    field.name = "platforms".into();
                    field.value = (*p).to_owned();
                    field
                })
                .collect(),
            platforms_other: Field::text(
                "platforms.other",
                "Other platforms",
                &self.platforms_other,
                e,
            )
            .hint("Comma-separated, e.g. Power BI, Procore."),
            mitigations: vec![
                mitigation("caching", "Caches what it reads", self.caching),
                mitigation("backoff", "Backs off on 429 and 503 answers", self.backoff),
                mitigation(
                    "offPeakScheduling",
                    "Schedules bulk work off-peak",
                    self.off_peak,
                ),
                mitigation(
                    "incrementalSync",
                    "Reads only what changed (incremental sync)",
                    self.incremental,
                ),
            ],
            workflows: self
                .workflows
                .iter()
                .enumerate()
                .map(|(i, w)| w.view(&i.to_string(), Some(i + 1), e))
                .collect(),
            workflow_template: WorkflowForm::default().view(
                "NEWWORKFLOWINDEX",
                None,
                &Errors::default(),
            ),
            error_summary: Vec::new(),
        };
        view.error_summary = view.summary();
        view
    }
}

/// Moves an error of the shared conversion onto the form's field.
fn form_error(error: FieldError, rows: &[usize], lines: &[usize]) -> FieldError {
    let FieldError { field, message } = error;
    let indexed = |rest: &str| -> Option<(usize, String)> {
        let (index, tail) = rest.split_once(']')?;
        Some((index.parse().ok()?, tail.to_owned()))
    };
    if let Some((i, _)) = field.strip_prefix("projectUrls[").and_then(indexed) {
        let line = lines.get(i).copied().unwrap_or(i + 1);
        return FieldError::new("projectUrls", format!("Line {line}: {message}"));
    }
    if field.starts_with("platforms[") || field == "platforms" {
        return FieldError::new("platforms.other", message);
    }
    // The form has no field for the list of workflows: its limit shows on the first one.
    if field == "workflows" {
        return FieldError::new("workflows[0].name", format!("The request {message}"));
    }
    if let Some((k, tail)) = field.strip_prefix("workflows[").and_then(indexed) {
        let row = rows.get(k).copied().unwrap_or(k);
        let prefix = format!("workflows[{row}]");
        if let Some((j, _)) = tail.strip_prefix(".trigger.dailyAt[").and_then(indexed) {
            return FieldError::new(
                format!("{prefix}.trigger.dailyAt"),
                format!("Time {}: {message}", j + 1),
            );
        }
        return match tail.as_str() {
            ".uploads.maxBytes" => FieldError::new(
                format!("{prefix}.uploads.maxMb"),
                "must be at least the average size",
            ),
            ".uploads.averageBytes" => {
                FieldError::new(format!("{prefix}.uploads.averageMb"), message)
            }
            _ => FieldError::new(format!("{prefix}{tail}"), message),
        };
    }
    FieldError::new(field, message)
}

impl WorkflowForm {
    fn from_input(input: &WorkflowInput) -> Self {
        let mb = |bytes: u64| {
            let value = bytes as f64 / MIB;
            let text = format!("{value:.2}");
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        };
        let (trigger, every, daily, on_demand) = match &input.trigger {
            None => ("none", String::new(), String::new(), String::new()),
            Some(TriggerInput::EveryMinutes(m)) => {
                ("every_minutes", m.to_string(), String::new(), String::new())
            }
            Some(TriggerInput::DailyAt(at)) => {
                ("daily_at", String::new(), at.join(", "), String::new())
            }
            Some(TriggerInput::OnDemandPerDay(n)) => {
                ("on_demand", String::new(), String::new(), n.to_string())
            }
        };
        Self {
            name: input.name.clone(),
            description: input.description.clone(),
            direction: input.direction.as_str().to_owned(),
            purpose: input.purpose.as_str().to_owned(),
            operations: input
                .entities
                .iter()
                .flat_map(|a| {
                    a.operations
                        .iter()
                        .map(move |op| format!("{}:{}", a.entity.as_str(), op.as_str()))
                })
                .collect(),
            trigger: trigger.to_owned(),
            every_minutes: every,
            daily_at: daily,
            on_demand_per_day: on_demand,
            records_per_run: input
                .records_per_run
                .map(|n| n.to_string())
                .unwrap_or_default(),
            files_per_run: input
                .uploads
                .map(|u| u.files_per_run.to_string())
                .unwrap_or_default(),
            average_mb: input
                .uploads
                .map(|u| mb(u.average_bytes))
                .unwrap_or_default(),
            max_mb: input.uploads.map(|u| mb(u.max_bytes)).unwrap_or_default(),
            sync_window: input.sync_window.clone().unwrap_or_default(),
        }
    }

    /// Whether nothing was typed or ticked (a row added and left empty).
    fn is_blank(&self) -> bool {
        [
            &self.name,
            &self.description,
            &self.every_minutes,
            &self.daily_at,
            &self.on_demand_per_day,
            &self.records_per_run,
            &self.files_per_run,
            &self.average_mb,
            &self.max_mb,
            &self.sync_window,
        ]
        .iter()
        .all(|s| s.trim().is_empty())
            && self.operations.is_empty()
    }

    fn to_input(&self, row: usize, errors: &mut Errors) -> WorkflowInput {
        let key = |field: &str| workflow_key(row, field);
        let direction = self.direction.parse::<Direction>().unwrap_or_else(|_| {
            errors.add(key("direction"), "choose read, write or two-way");
            Direction::Read
        });
        let purpose = self.purpose.parse::<WorkflowPurpose>().unwrap_or_else(|_| {
            errors.add(key("purpose"), "choose integration, analytics or reporting");
            WorkflowPurpose::Integration
        });
        let mut entities: Vec<EntityAccess> = Vec::new();
        for pair in &self.operations {
            let parsed = pair.split_once(':').and_then(|(entity, op)| {
                let entity = Entity::ALL.into_iter().find(|e| e.as_str() == entity)?;
                let op = Operation::ALL.into_iter().find(|o| o.as_str() == op)?;
                Some((entity, op))
            });
            let Some((entity, op)) = parsed else {
                errors.add(
                    key("entities"),
                    format!("'{pair}' is not an entity and operation"),
                );
                continue;
            };
            match entities.iter_mut().find(|a| a.entity == entity) {
                Some(access) => access.operations.push(op),
                None => entities.push(EntityAccess {
                    entity,
                    operations: vec![op],
                }),
            }
        }
        // Declaration order, as the tables list them.
        entities.sort_by_key(|a| Entity::ALL.iter().position(|e| *e == a.entity));
        for access in &mut entities {
            access
                .operations
                .sort_by_key(|o| Operation::ALL.iter().position(|x| x == o));
        }
        let mut kind = self.trigger.as_str();
        if kind == "none" || kind.is_empty() {
            // Without scripts every trigger field shows: a value typed in just one of them
            // says which trigger was meant.
            let filled: Vec<&str> = [
                ("every_minutes", &self.every_minutes),
                ("daily_at", &self.daily_at),
                ("on_demand", &self.on_demand_per_day),
            ]
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, _)| k)
            .collect();
            if let [only] = filled.as_slice() {
                kind = only;
            }
        }
        let trigger = match kind {
            "every_minutes" => whole::<u32>(
                &self.every_minutes,
                &key("trigger.everyMinutes"),
                true,
                errors,
            )
            .map(TriggerInput::EveryMinutes),
            "daily_at" => {
                let times: Vec<String> = self
                    .daily_at
                    .split([',', ' '])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect();
                if times.is_empty() {
                    errors.add(
                        key("trigger.dailyAt"),
                        "give at least one time, such as 02:00",
                    );
                    None
                } else {
                    Some(TriggerInput::DailyAt(times))
                }
            }
            "on_demand" => whole::<u32>(
                &self.on_demand_per_day,
                &key("trigger.onDemandPerDay"),
                true,
                errors,
            )
            .map(TriggerInput::OnDemandPerDay),
            "none" | "" => None,
            _ => {
                errors.add(key("trigger"), "choose how a run starts");
                None
            }
        };
        let records_per_run =
            whole::<u64>(&self.records_per_run, &key("recordsPerRun"), false, errors);
        let sizes = [&self.files_per_run, &self.average_mb, &self.max_mb];
        let uploads = if sizes.iter().all(|s| s.trim().is_empty()) {
            None
        } else {
            let files = whole::<u64>(
                &self.files_per_run,
                &key("uploads.filesPerRun"),
                true,
                errors,
            );
            let average = megabytes(&self.average_mb, &key("uploads.averageMb"), errors);
            let max = megabytes(&self.max_mb, &key("uploads.maxMb"), errors);
            match (files, average, max) {
                (Some(files_per_run), Some(average_bytes), Some(max_bytes)) => {
                    Some(UploadProfile {
                        files_per_run,
                        average_bytes,
                        max_bytes,
                    })
                }
                _ => None,
            }
        };
        WorkflowInput {
            name: self.name.clone(),
            description: self.description.clone(),
            direction,
            entities,
            trigger,
            records_per_run,
            uploads,
            sync_window: (!self.sync_window.trim().is_empty()).then(|| self.sync_window.clone()),
            purpose,
        }
    }

    fn view(&self, index: &str, number: Option<usize>, e: &Errors) -> WorkflowView {
        let key = |field: &str| format!("workflows[{index}].{field}");
        let legend = match (number, self.name.trim()) {
            (Some(n), "") => format!("Workflow {n}"),
            (Some(n), name) => format!("Workflow {n}: {name}"),
            (None, _) => "New workflow".to_owned(),
        };
        let entities = Entity::ALL
            .into_iter()
            .map(|entity| EntityRow {
                label: capitalise(entity.label()),
                cells: Operation::ALL
                    .into_iter()
                    .map(|op| {
                        let name = key(&format!("entities.{}", entity.as_str()));
                        OperationCell {
                            id: id_of(&format!("{name}.{}", op.as_str())),
                            name,
                            value: op.as_str(),
                            checked: self.operations.contains(&format!(
                                "{}:{}",
                                entity.as_str(),
                                op.as_str()
                            )),
                            label: format!("{} {}", capitalise(op.as_str()), entity.label()),
                        }
                    })
                    .collect(),
            })
            .collect();
        let entities_key = key("entities");
        WorkflowView {
            index: index.to_owned(),
            legend,
            remove_value: format!("remove_workflow:{index}"),
            name: Field::text(&key("name"), "Name", &self.name, e)
                .hint("Short and unique within the request."),
            description: Field::textarea(&key("description"), "What it does", &self.description, e)
                .hint("Which data moves, why, and who uses it."),
            direction: Field::select(
                &key("direction"),
                "Direction",
                &self.direction,
                &DIRECTIONS,
                e,
            ),
            purpose: Field::select(&key("purpose"), "Purpose", &self.purpose, &PURPOSES, e)
                .hint("Analytics and reporting are what Dataclips are for."),
            trigger: Field::select(
                &key("trigger"),
                "How a run starts",
                &self.trigger,
                &TRIGGERS,
                e,
            ),
            every_minutes: Field::text(
                &key("trigger.everyMinutes"),
                "Every how many minutes",
                &self.every_minutes,
                e,
            )
            .inputmode("numeric"),
            daily_at: Field::text(&key("trigger.dailyAt"), "Daily at (UTC)", &self.daily_at, e)
                .hint("Times as hh:mm, comma-separated.")
                .placeholder("02:00, 14:00"),
            on_demand_per_day: Field::text(
                &key("trigger.onDemandPerDay"),
                "Runs on a busy day",
                &self.on_demand_per_day,
                e,
            )
            .inputmode("numeric"),
            records_per_run: Field::text(
                &key("recordsPerRun"),
                "Records per run",
                &self.records_per_run,
                e,
            )
            .inputmode("numeric")
            .hint("Read and written, in one run."),
            files_per_run: Field::text(
                &key("uploads.filesPerRun"),
                "Files per run",
                &self.files_per_run,
                e,
            )
            .inputmode("numeric"),
            average_mb: Field::text(
                &key("uploads.averageMb"),
                "Average file size (MB)",
                &self.average_mb,
                e,
            )
            .inputmode("decimal"),
            max_mb: Field::text(
                &key("uploads.maxMb"),
                "Largest file size (MB)",
                &self.max_mb,
                e,
            )
            .inputmode("decimal"),
            sync_window: Field::text(
                &key("syncWindow"),
                "Sync window (UTC)",
                &self.sync_window,
                e,
            )
            .hint("When runs may happen, hh:mm-hh:mm; leave empty for any time.")
            .placeholder("01:00-05:00"),
            entities_error: e.of(&entities_key),
            entities_error_id: format!("{}-error", id_of(&entities_key)),
            entities,
            operations: Operation::ALL
                .into_iter()
                .map(|o| capitalise(o.as_str()))
                .collect(),
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A whole number typed in `field`; empty is `None` (an error when `required`).
fn whole<T: std::str::FromStr>(
    text: &str,
    field: &str,
    required: bool,
    errors: &mut Errors,
) -> Option<T> {
    let text = text.trim().replace([',', '_'], "");
    if text.is_empty() {
        if required {
            errors.add(field, "is needed");
        }
        return None;
    }
    match text.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.add(field, "must be a whole number, such as 250");
            None
        }
    }
}

/// A size in MB typed in `field`, in bytes.
fn megabytes(text: &str, field: &str, errors: &mut Errors) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() {
        errors.add(field, "is needed with the other upload sizes");
        return None;
    }
    match text.parse::<f64>() {
        Ok(mb) if (0.0..1.0e9).contains(&mb) => Some((mb * MIB).round() as u64),
        _ => {
            errors.add(field, "must be a size in MB, such as 40 or 0.5");
            None
        }
    }
}

/// One entity's row of operation checkboxes.
#[derive(Debug, Clone, Serialize)]
pub struct EntityRow {
    /// The entity, for people.
    pub label: String,
    /// One checkbox per operation.
    pub cells: Vec<OperationCell>,
}

/// A checkbox: this operation on this entity.
#[derive(Debug, Clone, Serialize)]
pub struct OperationCell {
    /// Submitted name (`workflows[0].entities.activity`).
    pub name: String,
    /// Element id.
    pub id: String,
    /// Submitted value (`read`).
    pub value: &'static str,
    /// Ticked.
    pub checked: bool,
    /// Accessible label ("Read activities").
    pub label: String,
}

/// One workflow's fieldset.
#[derive(Debug, Clone, Serialize)]
pub struct WorkflowView {
    /// The position in field names (`NEWWORKFLOWINDEX` in the template scripts clone: letters
    /// only, so that it survives into element ids).
    pub index: String,
    /// The fieldset's legend.
    pub legend: String,
    /// The value of its remove button.
    pub remove_value: String,
    /// Name.
    pub name: Field,
    /// Description.
    pub description: Field,
    /// Direction.
    pub direction: Field,
    /// Purpose.
    pub purpose: Field,
    /// Trigger kind.
    pub trigger: Field,
    /// Minutes between runs.
    pub every_minutes: Field,
    /// Times of day.
    pub daily_at: Field,
    /// Runs on a busy day.
    pub on_demand_per_day: Field,
    /// Records per run.
    pub records_per_run: Field,
    /// Files per run.
    pub files_per_run: Field,
    /// Average file size.
    pub average_mb: Field,
    /// Largest file size.
    pub max_mb: Field,
    /// Sync window.
    pub sync_window: Field,
    /// The entity × operation grid.
    pub entities: Vec<EntityRow>,
    /// The grid's column headings.
    pub operations: Vec<String>,
    /// An error about the entities, or null.
    pub entities_error: Option<String>,
    /// Its element id.
    pub entities_error_id: String,
}

/// A link from the error summary to a field.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryItem {
    /// The field's element id.
    pub id: String,
    /// The field's label.
    pub label: String,
    /// What is wrong.
    pub message: String,
}

/// The request form's view.
#[derive(Debug, Clone, Serialize)]
#[allow(missing_docs)]
pub struct RequestFormView {
    pub project_urls: Field,
    pub requester_name: Field,
    pub requester_email: Field,
    pub requester_organisation: Field,
    pub contact_name: Field,
    pub contact_role: Field,
    pub contact_email: Field,
    pub permission_confirmed: Field,
    pub permission_by: Field,
    pub permission_on: Field,
    /// The stored confirmation time, carried in a hidden field.
    pub permission_at: String,
    pub docs_reviewed: Field,
    pub docs_url: Field,
    pub integration_name: Field,
    pub integration_purpose: Field,
    pub platforms: Vec<Field>,
    pub platforms_other: Field,
    pub mitigations: Vec<Field>,
    pub workflows: Vec<WorkflowView>,
    /// An empty workflow for scripts to clone.
    pub workflow_template: WorkflowView,
    /// Every error, linked to its field, in the form's order.
    pub error_summary: Vec<SummaryItem>,
}

impl RequestFormView {
    fn summary(&self) -> Vec<SummaryItem> {
        let mut fields: Vec<&Field> = vec![
            &self.project_urls,
            &self.requester_name,
            &self.requester_email,
            &self.requester_organisation,
            &self.contact_name,
            &self.contact_role,
            &self.contact_email,
            &self.permission_confirmed,
            &self.permission_by,
            &self.permission_on,
            &self.docs_reviewed,
            &self.docs_url,
            &self.integration_name,
            &self.integration_purpose,
        ];
        fields.extend(&self.platforms);
        fields.push(&self.platforms_other);
        fields.extend(&self.mitigations);
        let mut items: Vec<SummaryItem> = fields.into_iter().filter_map(item).collect();
        for workflow in &self.workflows {
            let of_workflow = [
                &workflow.name,
                &workflow.description,
                &workflow.direction,
                &workflow.purpose,
                &workflow.trigger,
                &workflow.every_minutes,
                &workflow.daily_at,
                &workflow.on_demand_per_day,
                &workflow.records_per_run,
                &workflow.files_per_run,
                &workflow.average_mb,
                &workflow.max_mb,
                &workflow.sync_window,
            ];
            items.extend(of_workflow.into_iter().filter_map(|f| {
                item(f).map(|mut i| {
                    i.label = format!("{}, {}", workflow.legend, i.label);
                    i
                })
            }));
            if let Some(message) = &workflow.entities_error {
                items.push(SummaryItem {
                    id: workflow.entities_error_id.clone(),
                    label: format!("{}, entities", workflow.legend),
                    message: message.clone(),
                });
            }
        }
        items
    }
}

fn item(field: &Field) -> Option<SummaryItem> {
    field.error.as_ref().map(|message| SummaryItem {
        id: field.id.clone(),
        label: field.label.clone(),
        message: message.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> FormPairs {
        FormPairs(
            list.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_stored_request_shows_in_the_form_and_converts_back_unchanged() {
        let request = gatehouse_compliance::examples::bentley_example();
        let form = RequestForm::from_request(&request);
        assert_eq!(
            form.to_request(&InputLimits::default()).expect("valid"),
            request
        );
    }

    #[test]
    fn errors_land_on_the_form_fields_with_what_was_typed_kept() {
        let form = RequestForm::from_pairs(
            &pairs(&[
                (
                    "projectUrls",
                    "https://acme.e7.site/projects/1\n\nhttp://acme.e7.site/projects/2",
                ),
                ("requester.email", "jane at acme"),
                ("commercialPermission.confirmedOn", "2nd of March"),
                ("workflows[0].name", ""),
                ("workflows[0].description", ""),
                ("workflows[3].name", "Nightly"),
                ("workflows[3].trigger", "daily_at"),
                ("workflows[3].trigger.dailyAt", "02:00, 2am"),
                ("workflows[3].recordsPerRun", "lots"),
                ("workflows[3].uploads.filesPerRun", "3"),
                ("workflows[3].uploads.averageMb", "40"),
                ("workflows[3].uploads.maxMb", "10"),
                ("workflows[3].entities.activity", "read"),
            ]),
            &InputLimits::default(),
        );
        let errors = form
            .to_request(&InputLimits::default())
            .expect_err("invalid");
        assert!(
            errors
                .of("projectUrls")
                .is_some_and(|m| m.starts_with("Line 3:")),
            "{errors:?}"
        );
        assert!(errors.of("requester.email").is_some());
        assert!(errors.of("commercialPermission.confirmedOn").is_some());
        assert!(
            errors.of("workflows[1].recordsPerRun").is_some(),
            "{errors:?}"
        );
        assert_eq!(
            errors.of("workflows[0].name"),
            None,
            "a blank row is ignored"
        );

        // Form-level errors come first; the shared conversion's follow once they are fixed.
        let mut fixed = form.clone();
        fixed.workflows[1].records_per_run = "1,000".into();
        fixed.permission_on = "2026-03-02".into();
        let errors = fixed
            .to_request(&InputLimits::default())
            .expect_err("still invalid");
        assert!(
            errors
                .of("workflows[1].trigger.dailyAt")
                .is_some_and(|m| m.starts_with("Time 2:")),
            "{errors:?}"
        );
        assert_eq!(
            errors.of("workflows[1].uploads.maxMb").as_deref(),
            Some("must be at least the average size")
        );
        let view = fixed.view(&errors);
        assert_eq!(view.workflows[1].daily_at.value, "02:00, 2am");
        assert_eq!(view.workflows[1].legend, "Workflow 2: Nightly");
        assert!(
            view.error_summary
                .iter()
                .any(|i| i.id == "f-workflows-1-trigger-dailyAt")
        );
    }

    #[test]
    fn a_value_in_one_trigger_field_says_which_trigger_was_meant() {
        // A browser posts every select: direction and purpose come with the row.
        let form = RequestForm::from_pairs(
            &pairs(&[
                ("workflows[0].name", "Hourly"),
                ("workflows[0].direction", "read"),
                ("workflows[0].purpose", "integration"),
                ("workflows[0].trigger", "none"),
                ("workflows[0].trigger.everyMinutes", "60"),
            ]),
            &InputLimits::default(),
        );
        let request = form.to_request(&InputLimits::default()).expect("valid");
        assert_eq!(
            request.workflows[0].trigger.as_ref().map(|t| t.describe()),
            Some("every 60 minutes".to_owned())
        );
    }

    #[test]
    fn workflows_are_added_and_removed_in_place() {
        let mut form = RequestForm::from_pairs(
            &pairs(&[
                ("workflows[0].name", "First"),
                ("workflows[1].name", "Second"),
            ]),
            &InputLimits::default(),
        );
        form.add_workflow();
        assert_eq!(form.workflows.len(), 3);
        form.remove_workflow(0);
        assert_eq!(form.workflows[0].name, "Second");
        form.remove_workflow(7);
        assert_eq!(form.workflows.len(), 2);
        assert_eq!(
            FormAction::of(&pairs(&[("action", "remove_workflow:1")])),
            FormAction::RemoveWorkflow(1)
        );
        assert_eq!(FormAction::of(&pairs(&[])), FormAction::Save);
    }
}
