//! Shared helpers of the simulator's black-box tests.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::Value;
use synchro_sim::{Scope, SimConfig, SimHandle, spawn};
use uuid::Uuid;

/// A running simulator with a read token and a write token for its first project.
pub struct Harness {
    pub sim: SimHandle,
    pub http: reqwest::Client,
    pub project: Uuid,
    pub other_project: Uuid,
    pub read: String,
    pub write: String,
}

impl Harness {
    pub async fn start(config: SimConfig) -> Harness {
        let sim = spawn(config, "127.0.0.1:0".parse().expect("address"))
            .await
            .expect("simulator starts");
        let projects = sim.projects();
        let project = projects[0].id;
        let other_project = projects[1].id;
        let read = sim.create_token(project, Scope::Read).await;
        let write = sim.create_token(project, Scope::ReadWrite).await;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        Harness {
            sim,
            http,
            project,
            other_project,
            read,
            write,
        }
    }

    pub async fn default() -> Harness {
        Harness::start(SimConfig::default()).await
    }

    /// `{api_url}/projects/{project}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/projects/{}{}", self.sim.api_url(), self.project, path)
    }

    pub fn root(&self, path: &str) -> String {
        format!("{}{}", self.sim.base_url(), path)
    }

    pub async fn get(&self, url: &str, token: &str) -> reqwest::Response {
        self.http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn get_json(&self, url: &str) -> Value {
        let response = self.get(url, &self.read).await;
        assert_eq!(response.status(), 200, "GET {url}");
        response.json().await.expect("json")
    }

    pub async fn post_json(&self, url: &str, token: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(url)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Every record of a page-number list, following `Link` headers.
    pub async fn all_pages(&self, first: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut next = Some(first.to_owned());
        while let Some(url) = next.take() {
            let response = self.get(&url, &self.read).await;
            assert_eq!(response.status(), 200, "GET {url}");
            next = next_link(response.headers()).map(|path| self.root(&path));
            let page: Vec<Value> = response.json().await.expect("json");
            items.extend(page);
        }
        items
    }

    /// The first record of a collection matching a predicate.
    pub async fn find(&self, collection: &str, predicate: impl Fn(&Value) -> bool) -> Value {
        self.all_pages(&self.url(&format!("/{collection}?per_page=200")))
            .await
            .into_iter()
            .find(|v| predicate(v))
            .unwrap_or_else(|| panic!("no matching record in {collection}"))
    }
}

/// The target of `Link: <...>; rel="next"`.
pub fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',')
        .find(|part| part.contains("rel=\"next\""))
        .and_then(|part| {
            let start = part.find('<')? + 1;
            let end = part.find('>')?;
            Some(part[start..end].to_owned())
        })
}

/// The error code of an error body.
pub async fn error_code(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("error body is JSON");
    body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_owned()
}

/// Ids of every record, following the page-number `Link` headers.
pub async fn by_page_number(h: &Harness, path: &str, per_page: u32) -> Vec<String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut url = Some(h.url(&format!("{path}{sep}per_page={per_page}")));
    let mut ids = Vec::new();
    let mut total = None;
    while let Some(u) = url.take() {
        let response = h.get(&u, &h.read).await;
        assert_eq!(response.status(), 200, "{u}");
        total = response.headers().get("x-total-count").map(|v| {
            v.to_str()
                .expect("well-formed answer")
                .parse::<usize>()
                .expect("well-formed answer")
        });
        url = next_link(response.headers()).map(|p| h.root(&p));
        let page: Vec<Value> = response.json().await.expect("well-formed answer");
        assert!(page.len() <= per_page as usize);
        ids.extend(
            page.iter()
                .map(|v| v["id"].as_str().expect("well-formed answer").to_owned()),
        );
    }
    assert_eq!(
        Some(ids.len()),
        total,
        "X-Total-Count matches the records served"
    );
    ids
}

/// Ids of every record, following `_links.next.href`.
pub async fn by_continuation(h: &Harness, path: &str, page_size: u32) -> Vec<String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut url = Some(h.url(&format!("{path}{sep}pageSize={page_size}")));
    let mut ids = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while let Some(u) = url.take() {
        let response = h.get(&u, &h.read).await;
        assert_eq!(response.status(), 200, "{u}");
        let body: Value = response.json().await.expect("well-formed answer");
        let items = body["items"].as_array().expect("well-formed answer");
        assert!(items.len() <= page_size as usize);
        ids.extend(
            items
                .iter()
                .map(|v| v["id"].as_str().expect("well-formed answer").to_owned()),
        );
        url = body["_links"]["next"]["href"].as_str().map(|p| h.root(p));
        if let Some(next) = &url {
            assert!(seen.insert(next.clone()), "paging loops back to {next}");
        }
        if url.is_some() {
            assert!(!items.is_empty(), "a page with a next link is not empty");
        }
    }
    ids
}
