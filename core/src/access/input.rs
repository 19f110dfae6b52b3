//! What a client sends to describe a request, before it is validated, and the one conversion
//! into `compliance::AccessRequest`. GraphQL inputs and the web forms both fill these plain
//! types and call [`RequestInput::into_request`], so a request is validated the same way
//! whichever door it came through, with an error per invalid field named by its path in the
//! client's (camelCase) names: `projectContact.email`, `workflows[1].syncWindow`.

use std::num::NonZeroU32;

use gatehouse_compliance::AccessRequest;
use gatehouse_compliance::model::{
    ApiDocsConfirmation, ApiDocsUrl, CommercialPermission, Direction, Email, EntityAccess,
    Integration, Mitigations, Platform, ProjectContact, ProjectUrl, Requester, SyncWindow,
    TimeOfDay, Trigger, UploadProfile, Workflow, WorkflowPurpose,
};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::error::FieldError;

/// How much one request may say: every list and every text is bounded, whichever door the
/// request came through (GraphQL, the web form, the public check), so that neither the work of
/// assessing it nor what is stored grows with what a caller sends (`[access.limits]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InputLimits {
    /// Most workflows in one request.
    pub max_workflows: usize,
    /// Most items of any other list: project URLs, platforms, entities of a workflow,
    /// operations on one entity, daily run times.
    pub max_list_items: usize,
    /// Longest short text (names, emails, roles, organisation, URLs, sync window), in
    /// characters.
    pub max_short_text_chars: usize,
    /// Longest long text (the integration's purpose, a workflow's description, a comment), in
    /// characters.
    pub max_long_text_chars: usize,
}

impl Default for InputLimits {
    fn default() -> Self {
        Self {
            max_workflows: 20,
            max_list_items: 20,
            max_short_text_chars: 200,
            max_long_text_chars: 4_000,
        }
    }
}

/// The most workflows any configuration may allow: the web form reads no more than this many
/// (one more shows the error), whatever a post holds.
pub const MAX_WORKFLOWS_CEILING: usize = 100;

/// A use case and its workflows, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInput {
    /// Project URLs, `https://{company}.e7.site/projects/{id}`.
    pub project_urls: Vec<String>,
    /// Who files the request.
    pub requester: RequesterInput,
    /// The accountable project contact.
    pub project_contact: ProjectContactInput,
    /// The commercial-permission confirmation.
    pub commercial_permission: CommercialPermissionInput,
    /// The API-documentation confirmation.
    pub api_documentation: ApiDocumentationInput,
    /// The integration's name.
    pub integration_name: String,
    /// The integration's purpose.
    pub integration_purpose: String,
    /// Platforms integrated: Azure, ERP, SAP, JDE or any other name.
    pub platforms: Vec<String>,
    /// What keeps the load low.
    pub mitigations: Mitigations,
    /// The workflows.
    pub workflows: Vec<WorkflowInput>,
}

/// The requester, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequesterInput {
    /// Full name.
    pub name: String,
    /// Email; empty means none.
    pub email: Option<String>,
    /// Organisation.
    pub organisation: String,
}

/// The project contact, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectContactInput {
    /// Full name.
    pub name: String,
    /// Role on the project.
    pub role: String,
    /// Email; empty means none.
    pub email: Option<String>,
}

/// The commercial-permission confirmation, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommercialPermissionInput {
    /// Confirmed.
    pub confirmed: bool,
    /// Who gave the permission.
    pub confirmed_by: Option<String>,
    /// When.
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// The API-documentation confirmation, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiDocumentationInput {
    /// Reviewed.
    pub reviewed: bool,
    /// The page reviewed, `https://{company}.e7.site/api`; empty means none.
    pub url: Option<String>,
}

/// One workflow, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowInput {
    /// A short name, unique within the request.
    pub name: String,
    /// What it does.
    pub description: String,
    /// The declared direction.
    pub direction: Direction,
    /// The entities touched and what is done to each.
    pub entities: Vec<EntityAccess>,
    /// What starts a run.
    pub trigger: Option<TriggerInput>,
    /// Records moved per run.
    pub records_per_run: Option<u64>,
    /// Files uploaded per run.
    pub uploads: Option<UploadProfile>,
    /// When it runs, `hh:mm-hh:mm` UTC; empty means no window.
    pub sync_window: Option<String>,
    /// Why it exists.
    pub purpose: WorkflowPurpose,
}

#[cfg(test)]
impl WorkflowInput {
    /// An empty workflow named `name`: reads nothing, runs never.
    pub(crate) fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: String::new(),
            direction: Direction::Read,
            entities: Vec::new(),
            trigger: None,
            records_per_run: None,
            uploads: None,
            sync_window: None,
            purpose: WorkflowPurpose::Integration,
        }
    }
}

/// What starts a run, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerInput {
    /// Every N minutes.
    EveryMinutes(u32),
    /// Daily at these times, `hh:mm` UTC.
    DailyAt(Vec<String>),
    /// On demand, with the runs expected on a busy day.
    OnDemandPerDay(u32),
}

/// Collects field errors while converting.
#[derive(Debug, Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn push(&mut self, field: impl Into<String>, message: impl ToString) {
        self.0.push(FieldError::new(field, message.to_string()));
    }

    /// Notes a text longer than `max` characters; `true` if it fits.
    fn fits(&mut self, field: &str, text: &str, max: usize) -> bool {
        // Counting stops at the bound: a megabyte of text costs no more than a short one.
        let fits = text.chars().nth(max).is_none();
        if !fits {
            self.push(field, format!("is longer than {max} characters"));
        }
        fits
    }

    /// Notes a list longer than `max` items; `true` if it fits.
    fn at_most(&mut self, field: &str, len: usize, max: usize, what: &str) -> bool {
        let fits = len <= max;
        if !fits {
            self.push(
                field,
                format!("has {len} {what}; at most {max} are allowed"),
            );
        }
        fits
    }

    fn email(&mut self, field: &str, value: Option<String>) -> Option<Email> {
        let value = value.filter(|v| !v.trim().is_empty())?;
        match Email::parse(&value) {
            Ok(email) => Some(email),
            Err(e) => {
                self.push(field, e);
                None
            }
        }
    }
}

/// A platform by the name people give it.
pub fn platform(name: &str) -> Platform {
    match name.trim().to_ascii_lowercase().as_str() {
        "azure" => Platform::Azure,
        "erp" => Platform::Erp,
        "sap" => Platform::Sap,
        "jde" | "jd edwards" => Platform::Jde,
        _ => Platform::Other(name.trim().to_owned()),
    }
}

impl RequestInput {
    /// Converts into the compliance crate's request, or every invalid field with its path.
    /// Lists past `limits` are refused with an error and not converted further.
    pub fn into_request(self, limits: &InputLimits) -> Result<AccessRequest, Vec<FieldError>> {
        let mut errors = Errors::default();
        let short = limits.max_short_text_chars;
        let long = limits.max_long_text_chars;
        let lists_fit = [
            errors.at_most(
                "projectUrls",
                self.project_urls.len(),
                limits.max_list_items,
                "project URLs",
            ),
            errors.at_most(
                "platforms",
                self.platforms.len(),
                limits.max_list_items,
                "platforms",
            ),
            errors.at_most(
                "workflows",
                self.workflows.len(),
                limits.max_workflows,
                "workflows",
            ),
        ];
        if lists_fit.contains(&false) {
            return Err(errors.0);
        }
        let texts = [
            ("requester.name", self.requester.name.as_str(), short),
            (
                "requester.organisation",
                &self.requester.organisation,
                short,
            ),
            (
                "requester.email",
                self.requester.email.as_deref().unwrap_or_default(),
                short,
            ),
            ("projectContact.name", &self.project_contact.name, short),
            ("projectContact.role", &self.project_contact.role, short),
            (
                "projectContact.email",
                self.project_contact.email.as_deref().unwrap_or_default(),
                short,
            ),
            (
                "commercialPermission.confirmedBy",
                self.commercial_permission
                    .confirmed_by
                    .as_deref()
                    .unwrap_or_default(),
                short,
            ),
            (
                "apiDocumentation.url",
                self.api_documentation.url.as_deref().unwrap_or_default(),
                short,
            ),
            ("integration.name", &self.integration_name, short),
            ("integration.purpose", &self.integration_purpose, long),
        ];
        // A text past its bound gets its error and is not validated further (one error per
        // field); the other fields still are, so that every error shows at once.
        let mut too_long = std::collections::HashSet::new();
        for (field, text, max) in texts {
            if !errors.fits(field, text, max) {
                too_long.insert(field);
            }
        }
        let mut project_urls = Vec::new();
        for (i, url) in self.project_urls.iter().enumerate() {
            let field = format!("projectUrls[{i}]");
            if !errors.fits(&field, url, short) {
                continue;
            }
            match ProjectUrl::parse(url) {
                Ok(url) => project_urls.push(url),
                Err(e) => errors.push(field, e),
            }
        }
        let requester = self.requester;
        let requester = Requester {
            email: errors.email(
                "requester.email",
                requester
                    .email
                    .filter(|_| !too_long.contains("requester.email")),
            ),
            name: requester.name.trim().to_owned(),
            organisation: requester.organisation.trim().to_owned(),
        };
        let contact = self.project_contact;
        let project_contact = ProjectContact {
            email: errors.email(
                "projectContact.email",
                contact
                    .email
                    .filter(|_| !too_long.contains("projectContact.email")),
            ),
            name: contact.name.trim().to_owned(),
            role: contact.role.trim().to_owned(),
        };
        let permission = self.commercial_permission;
        let commercial_permission = CommercialPermission {
            confirmed: permission.confirmed,
            confirmed_by: permission
                .confirmed_by
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
            confirmed_at: permission.confirmed_at,
        };
        let docs = self.api_documentation;
        let api_documentation = ApiDocsConfirmation {
            reviewed: docs.reviewed,
            url: match docs
                .url
                .filter(|u| !u.trim().is_empty() && !too_long.contains("apiDocumentation.url"))
            {
                None => None,
                Some(url) => match ApiDocsUrl::parse(&url) {
                    Ok(url) => Some(url),
                    Err(e) => {
                        errors.push("apiDocumentation.url", e);
                        None
                    }
                },
            },
        };
        let integration = Integration {
            name: self.integration_name.trim().to_owned(),
            purpose: self.integration_purpose.trim().to_owned(),
        };
        let mut platforms = Vec::new();
        for (i, name) in self.platforms.iter().enumerate() {
            if !errors.fits(&format!("platforms[{i}]"), name, short) {
                continue;
            }
            if name.trim().is_empty() {
                errors.push(format!("platforms[{i}]"), "is empty");
            } else {
                platforms.push(platform(name));
            }
        }
        let mut workflows = Vec::new();
        for (i, workflow) in self.workflows.into_iter().enumerate() {
            if let Some(workflow) =
                workflow.convert(&format!("workflows[{i}]"), limits, &mut errors)
            {
                workflows.push(workflow);
            }
        }
        if !errors.0.is_empty() {
            return Err(errors.0);
        }
        Ok(AccessRequest {
            project_urls,
            requester,
            project_contact,
            commercial_permission,
            api_documentation,
            integration,
            platforms,
            mitigations: self.mitigations,
            workflows,
        })
    }

    /// What a stored request says, as input again (to edit it).
    pub fn from_request(request: &AccessRequest) -> Self {
        Self {
            project_urls: request
                .project_urls
                .iter()
                .map(ToString::to_string)
                .collect(),
            requester: RequesterInput {
                name: request.requester.name.clone(),
                email: request.requester.email.as_ref().map(ToString::to_string),
                organisation: request.requester.organisation.clone(),
            },
            project_contact: ProjectContactInput {
                name: request.project_contact.name.clone(),
                role: request.project_contact.role.clone(),
                email: request
                    .project_contact
                    .email
                    .as_ref()
                    .map(ToString::to_string),
            },
            commercial_permission: CommercialPermissionInput {
                confirmed: request.commercial_permission.confirmed,
                confirmed_by: request.commercial_permission.confirmed_by.clone(),
                confirmed_at: request.commercial_permission.confirmed_at,
            },
            api_documentation: ApiDocumentationInput {
                reviewed: request.api_documentation.reviewed,
                url: request
                    .api_documentation
                    .url
                    .as_ref()
                    .map(ToString::to_string),
            },
            integration_name: request.integration.name.clone(),
            integration_purpose: request.integration.purpose.clone(),
            platforms: request
                .platforms
                .iter()
                .map(|p| p.label().to_owned())
                .collect(),
            mitigations: request.mitigations,
            workflows: request.workflows.iter().map(WorkflowInput::from).collect(),
        }
    }
}

impl From<&Workflow> for WorkflowInput {
    fn from(w: &Workflow) -> Self {
        Self {
            name: w.name.clone(),
            description: w.description.clone(),
            direction: w.direction,
            entities: w.entities.clone(),
            trigger: w.trigger.as_ref().map(|t| match t {
                Trigger::Interval { every_minutes } => {
                    TriggerInput::EveryMinutes(every_minutes.get())
                }
                Trigger::Daily { at } => {
                    TriggerInput::DailyAt(at.iter().map(ToString::to_string).collect())
                }
                Trigger::OnDemand { expected_per_day } => {
                    TriggerInput::OnDemandPerDay(*expected_per_day)
                }
            }),
            records_per_run: w.records_per_run,
            uploads: w.uploads,
            sync_window: w.sync_window.map(|s| format!("{}-{}", s.start(), s.end())),
            purpose: w.purpose,
        }
    }
}

impl WorkflowInput {
    /// Converts one workflow (for `addWorkflow`), or every invalid field with its path.
    pub fn into_workflow(
        self,
        path: &str,
        limits: &InputLimits,
    ) -> Result<Workflow, Vec<FieldError>> {
        let mut errors = Errors::default();
        match self.convert(path, limits, &mut errors) {
            Some(workflow) if errors.0.is_empty() => Ok(workflow),
            _ => Err(errors.0),
        }
    }

    fn convert(self, path: &str, limits: &InputLimits, errors: &mut Errors) -> Option<Workflow> {
        let before = errors.0.len();
        let times = match &self.trigger {
            Some(TriggerInput::DailyAt(times)) => times.len(),
            _ => 0,
        };
        let max_items = limits.max_list_items;
        let fits = [
            errors.fits(
                &format!("{path}.name"),
                &self.name,
                limits.max_short_text_chars,
            ),
            errors.fits(
                &format!("{path}.description"),
                &self.description,
                limits.max_long_text_chars,
            ),
            errors.fits(
                &format!("{path}.syncWindow"),
                self.sync_window.as_deref().unwrap_or_default(),
                limits.max_short_text_chars,
            ),
            errors.at_most(
                &format!("{path}.entities"),
                self.entities.len(),
                max_items,
                "entities",
            ),
            errors.at_most(
                &format!("{path}.trigger.dailyAt"),
                times,
                max_items,
                "times",
            ),
        ];
        let operations_fit = self.entities.iter().enumerate().all(|(i, e)| {
            errors.at_most(
                &format!("{path}.entities[{i}].operations"),
                e.operations.len(),
                max_items,
                "operations",
            )
        });
        if fits.contains(&false) || !operations_fit {
            return None;
        }
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            errors.push(format!("{path}.name"), "must be 1 to 100 characters");
        }
        let trigger = match self.trigger {
            None => None,
            Some(TriggerInput::EveryMinutes(minutes)) => match NonZeroU32::new(minutes) {
                Some(every_minutes) => Some(Trigger::Interval { every_minutes }),
                None => {
                    errors.push(format!("{path}.trigger.everyMinutes"), "must be at least 1");
                    None
                }
            },
            Some(TriggerInput::DailyAt(times)) => {
                let mut at = Vec::new();
                for (i, time) in times.iter().enumerate() {
                    match TimeOfDay::parse(time) {
                        Ok(t) => at.push(t),
                        Err(e) => errors.push(format!("{path}.trigger.dailyAt[{i}]"), e),
                    }
                }
                Some(Trigger::Daily { at })
            }
            Some(TriggerInput::OnDemandPerDay(expected_per_day)) => {
                Some(Trigger::OnDemand { expected_per_day })
            }
        };
        let sync_window = match self.sync_window.filter(|w| !w.trim().is_empty()) {
            None => None,
            Some(text) => match SyncWindow::parse(&text) {
                Ok(window) => Some(window),
                Err(e) => {
                    errors.push(format!("{path}.syncWindow"), e);
                    None
                }
            },
        };
        let uploads = self.uploads.and_then(|u| {
            if u.max_bytes < u.average_bytes {
                errors.push(
                    format!("{path}.uploads.maxBytes"),
                    "must be at least averageBytes",
                );
                None
            } else {
                Some(u)
            }
        });
        (errors.0.len() == before).then(|| Workflow {
            name,
            description: self.description.trim().to_owned(),
            direction: self.direction,
            entities: self.entities,
            trigger,
            records_per_run: self.records_per_run,
            uploads,
            sync_window,
            purpose: self.purpose,
        })
    }
}

#[cfg(test)]
mod tests {
    use gatehouse_compliance::Entity;
    use gatehouse_compliance::model::Operation;

    use super::*;

    #[test]
    fn every_invalid_field_is_reported_with_its_path() {
        let mut bad = WorkflowInput::named("Nightly");
        bad.sync_window = Some("25:00-02:00".into());
        bad.trigger = Some(TriggerInput::DailyAt(vec!["02:00".into(), "2am".into()]));
        let input = RequestInput {
            project_urls: vec![
                "https://acme.e7.site/projects/1".into(),
                "http://acme.e7.site/projects/2".into(),
            ],
            project_contact: ProjectContactInput {
                name: "Joe".into(),
                role: "PM".into(),
                email: Some("joe at acme".into()),
            },
            api_documentation: ApiDocumentationInput {
                reviewed: true,
                url: Some("https://acme.e7.site/docs".into()),
            },
            workflows: vec![WorkflowInput::named("ok"), bad],
            ..RequestInput::default()
        };
        let errors = input
            .into_request(&InputLimits::default())
            .expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "projectUrls[1]",
                "projectContact.email",
                "apiDocumentation.url",
                "workflows[1].trigger.dailyAt[1]",
                "workflows[1].syncWindow",
            ]
        );
        assert!(errors[0].message.contains("https"), "{}", errors[0].message);
    }

    #[test]
    fn a_valid_input_converts_with_known_and_other_platforms() {
        let input = RequestInput {
            project_urls: vec!["https://acme.e7.site/projects/1".into()],
            platforms: vec!["sap".into(), "Power BI".into()],
            requester: RequesterInput {
                name: " Jane ".into(),
                email: Some(String::new()),
                organisation: "Acme".into(),
            },
            workflows: vec![WorkflowInput {
                trigger: Some(TriggerInput::EveryMinutes(60)),
                sync_window: Some("01:00-05:00".into()),
                ..WorkflowInput::named("Hourly")
            }],
            ..RequestInput::default()
        };
        let request = input.into_request(&InputLimits::default()).expect("valid");
        assert_eq!(
            request.platforms,
            vec![Platform::Sap, Platform::Other("Power BI".into())]
        );
        assert_eq!(request.requester.name, "Jane");
        assert_eq!(request.requester.email, None, "an empty email is no email");
        assert_eq!(
            request.workflows[0]
                .trigger
                .as_ref()
                .map(|t| t.runs_per_day(request.workflows[0].sync_window)),
            Some(4)
        );
    }

    #[test]
    fn an_interval_of_zero_minutes_is_refused() {
        let input = WorkflowInput {
            trigger: Some(TriggerInput::EveryMinutes(0)),
            ..WorkflowInput::named("x")
        };
        let errors = input
            .into_workflow("workflow", &InputLimits::default())
            .expect_err("invalid");
        assert_eq!(errors[0].field, "workflow.trigger.everyMinutes");
    }

    #[test]
    fn a_stored_request_comes_back_as_the_input_that_makes_it() {
        let request = gatehouse_compliance::examples::bentley_example();
        let again = RequestInput::from_request(&request)
            .into_request(&InputLimits::default())
            .expect("a stored request is valid input");
        assert_eq!(again, request);
        let mut with_entities = WorkflowInput::named("Reads activities");
        with_entities.entities = vec![EntityAccess {
            entity: Entity::Activity,
            operations: vec![Operation::Read],
        }];
        let workflow = with_entities
            .clone()
            .into_workflow("w", &InputLimits::default())
            .expect("valid");
        assert_eq!(WorkflowInput::from(&workflow), with_entities);
    }

    #[test]
    fn lists_past_their_limit_are_refused_without_being_converted() {
        let limits = InputLimits {
            max_workflows: 2,
            max_list_items: 3,
            ..InputLimits::default()
        };
        let input = RequestInput {
            project_urls: vec!["https://acme.e7.site/projects/1".into(); 4],
            workflows: vec![WorkflowInput::named("w"); 3],
            ..RequestInput::default()
        };
        let errors = input.into_request(&limits).expect_err("too many");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["projectUrls", "workflows"]);
        assert!(
            errors[1].message.contains("at most 2"),
            "{}",
            errors[1].message
        );
    }

    #[test]
    fn every_text_is_bounded_with_an_error_on_its_field() {
        let limits = InputLimits::default();
        let mut workflow = WorkflowInput::named("w");
        workflow.description = "d".repeat(limits.max_long_text_chars + 1);
        let input = RequestInput {
            requester: RequesterInput {
                name: "n".repeat(limits.max_short_text_chars + 1),
                ..RequesterInput::default()
            },
            integration_purpose: "p".repeat(limits.max_long_text_chars),
            workflows: vec![workflow.clone()],
            ..RequestInput::default()
        };
        let errors = input.into_request(&limits).expect_err("too long");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["requester.name", "workflows[0].description"],
            "the purpose fits exactly"
        );
        let errors = workflow
            .into_workflow("workflow", &limits)
            .expect_err("too long");
        assert_eq!(errors[0].field, "workflow.description");
        assert!(errors[0].message.contains("4000 characters"));
    }
}
