//! The declared side of the findings: what was declared to Bentley for a project and app key.
//!
//! This is the one seam between metering and access requests. Today the declarations come from
//! configuration (`[[metering.declarations]]`); the access-request store feeds it once it
//! lands: an app key bound to an approved request (`app_keys.access_request_id`) is declared by
//! `Declared::from_request(&request, &assessment.load)`. Only [`declared_for`] and
//! [`workflow_for`] need to change for that.

use gatehouse_compliance::findings::Declared;
use uuid::Uuid;

use super::MeteringConfig;

/// What was declared for `project` and, when given, `app_key`: the key's own declaration if it
/// has one, else the project's. For a whole project (no key), every declaration of the project,
/// merged. `None` when nothing was declared.
pub fn declared_for(
    config: &MeteringConfig,
    project: &str,
    app_key: Option<Uuid>,
) -> Option<Declared> {
    let of_project = config
        .declarations
        .iter()
        .filter(|d| d.project_id == project);
    let chosen: Vec<_> = match app_key {
        Some(key) => {
            let own: Vec<_> = of_project
                .clone()
                .filter(|d| d.app_key_id == Some(key))
                .collect();
            if own.is_empty() {
                of_project.filter(|d| d.app_key_id.is_none()).collect()
            } else {
                own
            }
        }
        None => of_project.collect(),
    };
    if chosen.is_empty() {
        return None;
    }
    let mut declared = Declared::default();
    for declaration in chosen {
        for workflow in &declaration.workflows {
            if !declared.workflows.iter().any(|w| w.name == workflow.name) {
                declared.workflows.push(workflow.clone());
            }
        }
    }
    Some(declared)
}

/// The declared workflow an app key's calls are attributed to: the workflow of the key's own
/// declaration when it declares exactly one.
pub fn workflow_for(config: &MeteringConfig, app_key: Uuid) -> Option<String> {
    config
        .declarations
        .iter()
        .find(|d| d.app_key_id == Some(app_key))
        .and_then(|d| match d.workflows.as_slice() {
            [only] => Some(only.name.clone()),
            _ => None,
        })
}
