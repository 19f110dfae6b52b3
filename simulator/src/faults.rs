//! Runtime fault injection (`/_sim/faults`).
//!
//! A rule matches requests by endpoint (`*`, an endpoint template such as
//! `/api/v1/projects/{project_id}/activities`, a concrete path, or a prefix ending in `*`) and
//! optionally by method and dataclip name. Every matching rule with budget left is applied, in
//! the order the rules were added: the first injected error wins, latencies add up. A rule's
//! `count` is spent each time it has an effect on a request (for a rule with only an
//! `error_rate`, only when the error is actually injected). Fractional error rates draw from a
//! generator seeded from the simulator's seed and the rule's id, so a run is reproducible.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::data::rng::hash;

/// How a dataclip row is broken by a `malformed_row` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MalformedKind {
    /// The Quantity column (or another numeric column) holds `n/a`.
    #[default]
    NonNumeric,
    /// The row has one column fewer than the header.
    ColumnCount,
}

/// A fault rule, as posted to `POST /_sim/faults`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// `*`, an endpoint template, a concrete path, or a prefix ending in `*`.
    #[serde(default = "any_endpoint")]
    pub endpoint: String,
    /// Only this method (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// Probability (0 to 1) of answering `status` instead of the real answer.
    #[serde(default)]
    pub error_rate: f64,
    /// Status of injected errors (default 500); 429 and 503 carry `Retry-After: 1`.
    #[serde(default = "default_status")]
    pub status: u16,
    /// Latency added before answering, milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Sleep far past any client timeout (an hour) instead of answering.
    #[serde(default)]
    pub hang: bool,
    /// Answer 200 with a body that is not valid JSON.
    #[serde(default)]
    pub malformed_body: bool,
    /// The body of this rule's injected errors, verbatim, instead of the simulator's own
    /// `injected_fault` JSON: for an upstream whose error text must not reach Gatehouse's clients.
    #[serde(default)]
    pub error_body: Option<String>,
    /// REST API only: the answer (whatever its status) is followed by this many bytes of spaces,
    /// streamed without a length, so a JSON answer stays valid however large it grows.
    #[serde(default)]
    pub padding_bytes: Option<u64>,
    /// How many requests the rule affects; unlimited when absent.
    #[serde(default)]
    pub count: Option<u64>,
    /// Dataclips only: only this clip (e.g. `resource-usages-export`).
    #[serde(default)]
    pub clip: Option<String>,
    /// Dataclips only: the body stream fails (the connection is cut) after this many bytes.
    #[serde(default)]
    pub cut_after_bytes: Option<u64>,
    /// Dataclips only: the data row at this 0-based index is malformed.
    #[serde(default)]
    pub malformed_row: Option<u64>,
    /// Dataclips only: how the row is malformed (default `non_numeric`).
    #[serde(default)]
    pub malformed_kind: Option<MalformedKind>,
}

fn any_endpoint() -> String {
    "*".to_owned()
}

fn default_status() -> u16 {
    500
}

impl Default for FaultRule {
    fn default() -> Self {
        FaultRule {
            endpoint: any_endpoint(),
            method: None,
            error_rate: 0.0,
            status: default_status(),
            latency_ms: 0,
            hang: false,
            malformed_body: false,
            error_body: None,
            padding_bytes: None,
            count: None,
            clip: None,
            cut_after_bytes: None,
            malformed_row: None,
            malformed_kind: None,
        }
    }
}

impl FaultRule {
    /// Checks the rule's values; the error names the faulty field.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(0.0..=1.0).contains(&self.error_rate) || self.error_rate.is_nan() {
            return Err(("error_rate", "must be between 0 and 1".into()));
        }
        if !(400..=599).contains(&self.status) {
            return Err(("status", "must be between 400 and 599".into()));
        }
        if self.endpoint.trim().is_empty() {
            return Err(("endpoint", "must not be empty".into()));
        }
        if let Some(method) = &self.method
            && http::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).is_err()
        {
            return Err(("method", "is not an HTTP method".into()));
        }
        Ok(())
    }

    fn matches(&self, request: &FaultTarget<'_>) -> bool {
        let endpoint_ok = self.endpoint == "*"
            || self.endpoint == request.template
            || self.endpoint == request.path
            || self.endpoint.strip_suffix('*').is_some_and(|prefix| {
                request.path.starts_with(prefix) || request.template.starts_with(prefix)
            });
        let method_ok = self
            .method
            .as_ref()
            .is_none_or(|m| m.eq_ignore_ascii_case(request.method));
        let clip_ok = self
            .clip
            .as_ref()
            .is_none_or(|c| Some(c.as_str()) == request.clip);
        endpoint_ok && method_ok && clip_ok
    }
}

/// A rule as listed by `GET /_sim/faults`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FaultRuleState {
    /// Rule id (for `DELETE /_sim/faults/{id}`).
    pub id: u64,
    /// The rule.
    pub rule: FaultRule,
    /// Requests it may still affect (`null`: unlimited).
    pub remaining: Option<u64>,
    /// Requests it has affected.
    pub fired: u64,
}

/// What a request is, for matching.
#[derive(Debug, Clone, Copy)]
pub struct FaultTarget<'a> {
    /// Method.
    pub method: &'a str,
    /// Endpoint template.
    pub template: &'a str,
    /// Concrete path.
    pub path: &'a str,
    /// Dataclip name, for dataclip requests.
    pub clip: Option<&'a str>,
}

/// The combined effect of the rules matching one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultDecision {
    /// Answer this status instead.
    pub error: Option<u16>,
    /// Sleep this long first.
    pub latency: Duration,
    /// Never answer.
    pub hang: bool,
    /// Answer 200 with invalid JSON.
    pub malformed_body: bool,
    /// The body of the injected error, when its rule gives one.
    pub error_body: Option<String>,
    /// Spaces streamed after the answer's body.
    pub padding_bytes: Option<u64>,
    /// Cut the dataclip body after this many bytes.
    pub cut_after_bytes: Option<u64>,
    /// Break this dataclip row.
    pub malformed_row: Option<(u64, MalformedKind)>,
}

impl FaultDecision {
    /// True when nothing is injected.
    pub fn is_none(&self) -> bool {
        *self == FaultDecision::default()
    }
}

#[derive(Debug)]
struct StoredRule {
    id: u64,
    rule: FaultRule,
    remaining: Option<u64>,
    fired: u64,
    rng: StdRng,
}

#[derive(Debug)]
struct Book {
    next_id: u64,
    rules: Vec<StoredRule>,
}

/// The set of active rules.
#[derive(Debug)]
pub struct FaultBook {
    seed: u64,
    book: Mutex<Book>,
}

impl FaultBook {
    /// An empty book whose random draws derive from `seed`.
    pub fn new(seed: u64) -> Self {
        FaultBook {
            seed,
            book: Mutex::new(Book {
                next_id: 1,
                rules: Vec::new(),
            }),
        }
    }

    /// Adds a rule (already validated) and returns its id.
    pub fn add(&self, rule: FaultRule) -> u64 {
        let mut book = self
            .book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = book.next_id;
        book.next_id += 1;
        let rng = StdRng::seed_from_u64(hash(&[self.seed, 0xFA17, id]));
        book.rules.push(StoredRule {
            id,
            remaining: rule.count,
            fired: 0,
            rule,
            rng,
        });
        id
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .rules
            .clear();
    }

    /// Removes one rule; false when there is none with that id.
    pub fn remove(&self, id: u64) -> bool {
        let mut book = self
            .book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = book.rules.len();
        book.rules.retain(|r| r.id != id);
        book.rules.len() != before
    }

    /// The rules and their budgets.
    pub fn list(&self) -> Vec<FaultRuleState> {
        let book = self
            .book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        book.rules
            .iter()
            .map(|r| FaultRuleState {
                id: r.id,
                rule: r.rule.clone(),
                remaining: r.remaining,
                fired: r.fired,
            })
            .collect()
    }

    /// Decides what to inject into one request, spending the budgets of the rules that fire.
    pub fn decide(&self, target: &FaultTarget<'_>) -> FaultDecision {
        let mut decision = FaultDecision::default();
        let mut book = self
            .book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if book.rules.is_empty() {
            return decision;
        }
        for stored in book.rules.iter_mut() {
            if stored.remaining == Some(0) || !stored.rule.matches(target) {
                continue;
            }
            let rule = &stored.rule;
            let mut fired = false;
            if rule.error_rate > 0.0 {
                let roll: f64 = stored.rng.r#gen();
                if roll < rule.error_rate && decision.error.is_none() {
                    decision.error = Some(rule.status);
                    decision.error_body.clone_from(&rule.error_body);
                    fired = true;
                }
            }
            if rule.latency_ms > 0 {
                decision.latency = decision
                    .latency
                    .saturating_add(Duration::from_millis(rule.latency_ms));
                fired = true;
            }
            if rule.hang {
                decision.hang = true;
                fired = true;
            }
            if rule.malformed_body {
                decision.malformed_body = true;
                fired = true;
            }
            if let Some(bytes) = rule.padding_bytes
                && target.clip.is_none()
            {
                decision.padding_bytes =
                    Some(decision.padding_bytes.unwrap_or(0).saturating_add(bytes));
                fired = true;
            }
            if target.clip.is_some() {
                if let Some(bytes) = rule.cut_after_bytes {
                    decision.cut_after_bytes =
                        Some(decision.cut_after_bytes.map_or(bytes, |b| b.min(bytes)));
                    fired = true;
                }
                if let Some(row) = rule.malformed_row {
                    decision.malformed_row = Some((row, rule.malformed_kind.unwrap_or_default()));
                    fired = true;
                }
            }
            if fired {
                stored.fired += 1;
                if let Some(remaining) = stored.remaining.as_mut() {
                    *remaining -= 1;
                }
            }
        }
        decision
    }
}

/// How long an injected hang sleeps: far past any sensible client timeout.
pub(crate) const HANG: Duration = Duration::from_secs(3600);

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(template: &'a str) -> FaultTarget<'a> {
        FaultTarget {
            method: "GET",
            template,
            path: "/x",
            clip: None,
        }
    }

    #[test]
    fn a_rule_with_rate_one_always_fires_until_its_count_is_spent() {
        let book = FaultBook::new(1);
        book.add(FaultRule {
            error_rate: 1.0,
            status: 503,
            count: Some(2),
            ..FaultRule::default()
        });
        assert_eq!(book.decide(&target("/a")).error, Some(503));
        assert_eq!(book.decide(&target("/b")).error, Some(503));
        assert!(book.decide(&target("/a")).is_none());
        assert_eq!(book.list()[0].fired, 2);
    }

    #[test]
    fn fractional_rates_are_reproducible_for_a_seed() {
        let run = || {
            let book = FaultBook::new(7);
            book.add(FaultRule {
                error_rate: 0.5,
                ..FaultRule::default()
            });
            (0..64)
                .map(|_| book.decide(&target("/a")).error.is_some())
                .collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        let hits = first.iter().filter(|h| **h).count();
        assert!((16..=48).contains(&hits), "{hits} of 64");
    }

    #[test]
    fn rules_match_by_template_method_and_prefix() {
        let book = FaultBook::new(1);
        book.add(FaultRule {
            endpoint: "/api/v1/projects/{project_id}/activities".into(),
            method: Some("post".into()),
            error_rate: 1.0,
            ..FaultRule::default()
        });
        let get = target("/api/v1/projects/{project_id}/activities");
        assert!(book.decide(&get).is_none());
        let post = FaultTarget {
            method: "POST",
            ..get
        };
        assert_eq!(book.decide(&post).error, Some(500));
        book.clear();
        book.add(FaultRule {
            endpoint: "/x*".into(),
            latency_ms: 5,
            ..FaultRule::default()
        });
        assert_eq!(book.decide(&get).latency, Duration::from_millis(5));
    }

    #[test]
    fn an_error_body_goes_with_the_error_that_fires_and_padding_skips_dataclips() {
        let book = FaultBook::new(1);
        book.add(FaultRule {
            error_rate: 1.0,
            status: 422,
            error_body: Some("first".into()),
            ..FaultRule::default()
        });
        book.add(FaultRule {
            error_rate: 1.0,
            error_body: Some("second".into()),
            padding_bytes: Some(10),
            ..FaultRule::default()
        });
        let decision = book.decide(&target("/a"));
        assert_eq!(decision.error, Some(422));
        assert_eq!(decision.error_body.as_deref(), Some("first"));
        assert_eq!(decision.padding_bytes, Some(10));
        let clip = FaultTarget {
            clip: Some("resource-usages-export"),
            ..target("/a")
        };
        assert_eq!(book.decide(&clip).padding_bytes, None);
    }

    #[test]
    fn invalid_rules_are_refused() {
        assert!(
            FaultRule {
                error_rate: 1.5,
                ..FaultRule::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            FaultRule {
                status: 200,
                ..FaultRule::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            FaultRule {
                method: Some("GE T".into()),
                ..FaultRule::default()
            }
            .validate()
            .is_err()
        );
        assert!(FaultRule::default().validate().is_ok());
    }
}
