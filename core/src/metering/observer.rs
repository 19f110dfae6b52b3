//! The [`CallObserver`] that writes every upstream call attempt to the usage ledger.

use chrono::Utc;

use super::endpoints::EndpointMap;
use super::ledger::{CallRecord, Ledger};
use crate::upstream::{CallEvent, CallObserver};

/// Hands each upstream call attempt to the ledger (never waits).
#[derive(Debug, Clone)]
pub(crate) struct LedgerObserver {
    ledger: Ledger,
    endpoints: EndpointMap,
}

impl LedgerObserver {
    /// An observer writing to `ledger`, mapping endpoints with `endpoints`.
    pub(crate) fn new(ledger: Ledger, endpoints: EndpointMap) -> Self {
        Self { ledger, endpoints }
    }
}

impl CallObserver for LedgerObserver {
    fn observe(&self, event: &CallEvent) {
        let classified = self.endpoints.classify(&event.method, &event.endpoint);
        let cache = if event.method.eq_ignore_ascii_case("GET") {
            "miss"
        } else {
            "bypass"
        };
        self.ledger.record_call(CallRecord {
            occurred_at: Utc::now(),
            project_id: event.project_id.clone(),
            token_fingerprint: event.token_fingerprint.clone(),
            endpoint: event.endpoint.clone(),
            method: event.method.clone(),
            entity: classified.map(|(entity, _)| entity),
            action: classified.map(|(_, operation)| operation),
            status: event.status,
            error: event.error,
            latency: event.latency,
            bytes_sent: event.bytes_sent,
            bytes_received: event.bytes_received,
            attempt: event.attempt,
            cache,
            app_key_id: event.tag.app_key_id,
            user_id: event.tag.user_id,
            operation: event.tag.operation.clone(),
            workflow: event.tag.workflow.clone(),
            request_id: event.tag.request_id.clone(),
            list: event.list.clone(),
        });
    }
}
