//! Which channel serves a workflow: an API token, Dataclips, or both.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::dataclips::{DataclipRef, dataclip_for};
use crate::model::{Entity, Workflow};

use super::{AssessmentPolicy, WorkflowLoad};

/// A channel to SYNCHRO Perform data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A project API token (two-way integration).
    ApiToken,
    /// Dataclips (bulk, read-only, analytical data, refreshed on a schedule).
    Dataclips,
    /// A token for the writes and small reads, Dataclips for the bulk reads.
    Both,
}

impl Channel {
    /// Every channel, in declaration order.
    pub const ALL: [Channel; 3] = [Channel::ApiToken, Channel::Dataclips, Channel::Both];

    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::ApiToken => "api_token",
            Channel::Dataclips => "dataclips",
            Channel::Both => "both",
        }
    }

    /// The short label web pages show: `API token`, `Dataclips`, `API token and Dataclips`.
    ///
    /// A channel has two human forms on purpose. The web pages show this label in a table
    /// column or a summary line, next to the reasons. The drafts sent to Bentley use
    /// [`Channel::phrase`], which says what each channel of [`Channel::Both`] is for, because
    /// that is what a reviewer weighs. Both are the server's exact wording: changing either
    /// changes pages or draft snapshots.
    pub fn label(self) -> &'static str {
        match self {
            Channel::ApiToken => "API token",
            Channel::Dataclips => "Dataclips",
            Channel::Both => "API token and Dataclips",
        }
    }

    /// The phrase of the drafts sent to Bentley: `API token`, `Dataclips`,
    /// `API token for the writes, Dataclips for the bulk reads` (see [`Channel::label`] for why
    /// two forms exist).
    pub fn phrase(self) -> &'static str {
        match self {
            Channel::ApiToken => "API token",
            Channel::Dataclips => "Dataclips",
            Channel::Both => "API token for the writes, Dataclips for the bulk reads",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The channel recommended for one workflow, why, and the dataclips that serve its reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelRecommendation {
    /// The workflow's name.
    pub workflow: String,
    /// The channel.
    pub channel: Channel,
    /// Why, as sentences for people.
    pub reasons: Vec<String>,
    /// The clips that would serve the read-only parts (empty for [`Channel::ApiToken`]).
    pub dataclips: Vec<DataclipRef>,
}

/// Recommends the channel of `workflow`, given its estimated load.
///
/// Writes need a token. Reads belong on Dataclips when the workflow is for analytics or
/// reporting, polls a heavy collection more often than the policy allows, or (read-only
/// workflows) reads in bulk. Reads of entities no clip holds stay on the token.
pub fn recommend_channel(
    workflow: &Workflow,
    load: &WorkflowLoad,
    policy: &AssessmentPolicy,
) -> ChannelRecommendation {
    let mut reasons = Vec::new();
    let read_entities = workflow.read_entities();
    let read_only = workflow.is_read_only();

    if workflow.purpose.is_analytical() {
        reasons.push(
            "its purpose is analytics or reporting, which Bentley serves with Dataclips, not \
             tokens"
                .to_owned(),
        );
    }
    let heavy_polled: Vec<Entity> = read_entities
        .iter()
        .copied()
        .filter(|e| e.is_heavy() && load.runs_per_day > policy.heavy_poll_max_runs_per_day)
        .collect();
    if !heavy_polled.is_empty() {
        reasons.push(format!(
            "it reads {} {} times a day; a dataclip refreshed every few hours spares the project",
            join_labels(&heavy_polled),
            load.runs_per_day
        ));
    }
    if read_only && load.read.records_per_day >= policy.bulk_read_records_per_day {
        reasons.push(format!(
            "it reads {} records a day without writing: bulk read-only automation belongs on \
             Dataclips",
            load.read.records_per_day
        ));
    }
    let reads_belong_on_dataclips = !reasons.is_empty() && !read_entities.is_empty();

    let dataclips: Vec<DataclipRef> = if reads_belong_on_dataclips {
        read_entities
            .iter()
            .filter_map(|e| dataclip_for(*e))
            .map(DataclipRef::from)
            .collect()
    } else {
        Vec::new()
    };
    let uncovered: Vec<Entity> = read_entities
        .iter()
        .copied()
        .filter(|e| dataclip_for(*e).is_none())
        .collect();

    let channel = if !reads_belong_on_dataclips {
        reasons.clear();
        if workflow.writes() {
            reasons.push(format!(
                "it writes {}: only the API writes, so it needs a token",
                join_labels(&workflow.written_entities())
            ));
        } else {
            reasons.push(
                "it reads little and does not analyse: the API serves it without load concerns"
                    .to_owned(),
            );
        }
        Channel::ApiToken
    } else if workflow.writes() {
        reasons.push(format!(
            "it writes {}: only the API writes, so it also needs a token",
            join_labels(&workflow.written_entities())
        ));
        Channel::Both
    } else if dataclips.is_empty() || !uncovered.is_empty() {
        reasons.push(format!(
            "no dataclip holds {}: read those through the API",
            join_labels(&uncovered)
        ));
        if dataclips.is_empty() {
            Channel::ApiToken
        } else {
            Channel::Both
        }
    } else {
        Channel::Dataclips
    };

    ChannelRecommendation {
        workflow: workflow.name.clone(),
        channel,
        reasons,
        dataclips,
    }
}

/// Entity labels joined with commas: "resource usages, attendance records".
pub(crate) fn join_labels(entities: &[Entity]) -> String {
    entities
        .iter()
        .map(|e| e.label())
        .collect::<Vec<_>>()
        .join(", ")
}
