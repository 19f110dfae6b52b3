//! Values that validate on construction: an email address and the two tenant URLs of a request
//! (a project URL and the API-documentation URL).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use url::Url;

/// The domain every SYNCHRO Perform tenant lives under.
pub const TENANT_DOMAIN: &str = "e7.site";

/// The longest project id accepted (UUIDs are 36 characters; numeric ids are shorter).
/// Longest project id accepted.
pub const MAX_PROJECT_ID_LEN: usize = 64;

/// Whether `id` is shaped like a SYNCHRO Perform project id: 1 to [`MAX_PROJECT_ID_LEN`]
/// letters, digits, `-` and `_`.
pub fn is_project_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_PROJECT_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Why a string is not a tenant URL of the expected form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// The text does not parse as an absolute URL.
    #[error("`{input}` is not a URL ({reason}); expected https://{{company}}.e7.site/...")]
    NotAUrl {
        /// The text as given.
        input: String,
        /// What the URL parser said.
        reason: String,
    },
    /// The scheme is not `https`.
    #[error("the URL must use https, not `{scheme}`")]
    NotHttps {
        /// The scheme given.
        scheme: String,
    },
    /// The URL carries a user name or password.
    #[error("the URL must not carry a user name or password")]
    HasCredentials,
    /// The URL names a port.
    #[error("the URL must not name a port")]
    HasPort,
    /// The host is not `<company>.e7.site`.
    #[error("the host must be <company>.e7.site, not `{host}`")]
    NotATenant {
        /// The host given.
        host: String,
    },
    /// The company part of the host is not a valid DNS label.
    #[error(
        "`{company}` is not a valid company name: use 1 to 63 letters, digits or inner hyphens"
    )]
    BadCompany {
        /// The company part given.
        company: String,
    },
    /// The URL has a query string or a fragment.
    #[error("the URL must not have a query string or a fragment")]
    HasQueryOrFragment,
    /// The path is not `/projects/<id>`.
    #[error("the path must be /projects/<id>, not `{path}`")]
    NotAProjectPath {
        /// The path given.
        path: String,
    },
    /// The project id is empty, too long or holds characters other than letters, digits, `-`
    /// and `_`.
    #[error("`{id}` is not a valid project id: use up to 64 letters, digits, `-` or `_`")]
    BadProjectId {
        /// The id given.
        id: String,
    },
    /// The path is not `/api` (or below it).
    #[error("the API documentation lives at /api, not at `{path}`")]
    NotAnApiPath {
        /// The path given.
        path: String,
    },
}

/// Parses `input` as an https URL of a tenant and returns it with the tenant's company.
fn parse_tenant_url(input: &str) -> Result<(Url, String), UrlError> {
    let input = input.trim();
    let url = Url::parse(input).map_err(|err| UrlError::NotAUrl {
        input: input.to_owned(),
        reason: err.to_string(),
    })?;
    if url.scheme() != "https" {
        return Err(UrlError::NotHttps {
            scheme: url.scheme().to_owned(),
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::HasCredentials);
    }
    if url.port().is_some() {
        return Err(UrlError::HasPort);
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(UrlError::HasQueryOrFragment);
    }
    let host = url.host_str().unwrap_or_default().to_owned();
    let company = host
        .strip_suffix(TENANT_DOMAIN)
        .and_then(|rest| rest.strip_suffix('.'))
        .ok_or_else(|| UrlError::NotATenant { host: host.clone() })?;
    if company.contains('.') {
        return Err(UrlError::NotATenant { host });
    }
    if !is_dns_label(company) {
        return Err(UrlError::BadCompany {
            company: company.to_owned(),
        });
    }
    let company = company.to_owned();
    Ok((url, company))
}

/// Whether `label` is a DNS label: 1 to 63 ASCII letters, digits or hyphens, no hyphen at
/// either end.
fn is_dns_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// A project URL: `https://{company}.e7.site/projects/{id}`.
///
/// Built only through [`ProjectUrl::parse`] (or `FromStr`, or deserialisation, which parse);
/// the string form is canonical (lower-case host, no trailing slash).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProjectUrl {
    company: String,
    project_id: String,
}

impl ProjectUrl {
    /// Parses a project URL, with an error that says what to fix.
    pub fn parse(input: &str) -> Result<ProjectUrl, UrlError> {
        let (url, company) = parse_tenant_url(input)?;
        let path = url.path();
        let rest = path.strip_prefix("/projects/");
        let id = rest.map(|rest| rest.strip_suffix('/').unwrap_or(rest));
        let Some(id) = id.filter(|id| !id.is_empty() && !id.contains('/')) else {
            return Err(UrlError::NotAProjectPath {
                path: path.to_owned(),
            });
        };
        if !is_project_id(id) {
            return Err(UrlError::BadProjectId { id: id.to_owned() });
        }
        Ok(ProjectUrl {
            company,
            project_id: id.to_owned(),
        })
    }

    /// The tenant's company (the first label of the host).
    pub fn company(&self) -> &str {
        &self.company
    }

    /// The project id (the last segment of the path).
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// The URL of the API documentation of this project's tenant.
    pub fn api_docs_url(&self) -> ApiDocsUrl {
        ApiDocsUrl {
            company: self.company.clone(),
        }
    }
}

impl fmt::Display for ProjectUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "https://{}.{TENANT_DOMAIN}/projects/{}",
            self.company, self.project_id
        )
    }
}

impl FromStr for ProjectUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProjectUrl::parse(s)
    }
}

impl TryFrom<String> for ProjectUrl {
    type Error = UrlError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        ProjectUrl::parse(&value)
    }
}

impl From<ProjectUrl> for String {
    fn from(value: ProjectUrl) -> Self {
        value.to_string()
    }
}

/// The URL of a tenant's API documentation: `https://{company}.e7.site/api` (a page below
/// `/api` is accepted and stands for the same documentation).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ApiDocsUrl {
    company: String,
}

impl ApiDocsUrl {
    /// Parses the URL of a tenant's API documentation.
    pub fn parse(input: &str) -> Result<ApiDocsUrl, UrlError> {
        let (url, company) = parse_tenant_url(input)?;
        let path = url.path();
        if path != "/api" && !path.starts_with("/api/") {
            return Err(UrlError::NotAnApiPath {
                path: path.to_owned(),
            });
        }
        Ok(ApiDocsUrl { company })
    }

    /// The tenant's company.
    pub fn company(&self) -> &str {
        &self.company
    }
}

impl fmt::Display for ApiDocsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "https://{}.{TENANT_DOMAIN}/api", self.company)
    }
}

impl FromStr for ApiDocsUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ApiDocsUrl::parse(s)
    }
}

impl TryFrom<String> for ApiDocsUrl {
    type Error = UrlError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        ApiDocsUrl::parse(&value)
    }
}

impl From<ApiDocsUrl> for String {
    fn from(value: ApiDocsUrl) -> Self {
        value.to_string()
    }
}

/// Why a string is not an email address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Nothing was given.
    #[error("the email address is empty")]
    Empty,
    /// Longer than 254 characters.
    #[error("the email address is longer than 254 characters")]
    TooLong,
    /// No `@`, or more than one.
    #[error("`{0}` is not an email address: it needs exactly one @")]
    NotOneAt(String),
    /// The part before `@` is empty, too long or holds characters not allowed there.
    #[error("`{0}` is not an email address: the part before @ is not valid")]
    BadLocalPart(String),
    /// The part after `@` is not a domain name with at least two labels.
    #[error("`{0}` is not an email address: the part after @ is not a domain such as example.com")]
    BadDomain(String),
}

/// An email address of the common form `local@domain.tld` (no quoted local parts, no IP
/// literals). The domain is stored in lower case.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses and normalises an email address (surrounding space trimmed, domain lower-cased).
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(EmailError::Empty);
        }
        if input.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let mut parts = input.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(EmailError::NotOneAt(input.to_owned()));
        };
        let local_ok = (1..=64).contains(&local.len())
            && local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        if !local_ok {
            return Err(EmailError::BadLocalPart(input.to_owned()));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| is_dns_label(label))
            && labels
                .last()
                .is_some_and(|tld| tld.bytes().any(|b| b.is_ascii_alphabetic()));
        if !domain_ok {
            return Err(EmailError::BadDomain(input.to_owned()));
        }
        Ok(Email(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Email {
    type Err = EmailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Email::parse(s)
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bentleys_example_project_url_parses_into_company_and_id() {
        let url = ProjectUrl::parse("https://acme.e7.site/projects/1").expect("a valid URL");
        assert_eq!(url.company(), "acme");
        assert_eq!(url.project_id(), "1");
        assert_eq!(url.to_string(), "https://acme.e7.site/projects/1");
    }

    #[test]
    fn a_project_url_is_normalised_to_a_lower_case_host_without_trailing_slash() {
        let url = ProjectUrl::parse("  https://ACME.e7.site/projects/42/ ").expect("a valid URL");
        assert_eq!(url.to_string(), "https://acme.e7.site/projects/42");
    }

    #[test]
    fn a_project_url_over_http_is_refused_for_its_scheme() {
        assert_eq!(
            ProjectUrl::parse("http://acme.e7.site/projects/1"),
            Err(UrlError::NotHttps {
                scheme: "http".to_owned()
            })
        );
    }

    #[test]
    fn a_project_url_on_another_domain_is_refused_for_its_host() {
        assert_eq!(
            ProjectUrl::parse("https://acme.example.com/projects/1"),
            Err(UrlError::NotATenant {
                host: "acme.example.com".to_owned()
            })
        );
        assert!(matches!(
            ProjectUrl::parse("https://a.b.e7.site/projects/1"),
            Err(UrlError::NotATenant { .. })
        ));
        assert!(matches!(
            ProjectUrl::parse("https://e7.site/projects/1"),
            Err(UrlError::NotATenant { .. })
        ));
    }

    #[test]
    fn a_project_url_with_another_path_is_refused_for_its_path() {
        for input in [
            "https://acme.e7.site/",
            "https://acme.e7.site/projects/",
            "https://acme.e7.site/projects/1/activities",
            "https://acme.e7.site/api",
        ] {
            assert!(
                matches!(
                    ProjectUrl::parse(input),
                    Err(UrlError::NotAProjectPath { .. })
                ),
                "{input}"
            );
        }
    }

    #[test]
    fn a_project_url_with_a_query_port_or_credentials_is_refused() {
        assert_eq!(
            ProjectUrl::parse("https://acme.e7.site/projects/1?x=1"),
            Err(UrlError::HasQueryOrFragment)
        );
        assert_eq!(
            ProjectUrl::parse("https://acme.e7.site:8443/projects/1"),
            Err(UrlError::HasPort)
        );
        assert_eq!(
            ProjectUrl::parse("https://joe:pw@acme.e7.site/projects/1"),
            Err(UrlError::HasCredentials)
        );
    }

    #[test]
    fn a_project_url_with_an_encoded_id_is_refused_for_its_id() {
        assert!(matches!(
            ProjectUrl::parse("https://acme.e7.site/projects/a%20b"),
            Err(UrlError::BadProjectId { .. })
        ));
    }

    #[test]
    fn text_that_is_not_a_url_is_refused_with_the_text() {
        assert!(matches!(
            ProjectUrl::parse("acme project 1"),
            Err(UrlError::NotAUrl { input, .. }) if input == "acme project 1"
        ));
    }

    #[test]
    fn a_project_url_deserialises_only_when_valid() {
        let url: ProjectUrl = serde_json::from_str("\"https://acme.e7.site/projects/7\"")
            .expect("a valid URL deserialises");
        assert_eq!(url.project_id(), "7");
        assert!(serde_json::from_str::<ProjectUrl>("\"https://acme.com/projects/7\"").is_err());
    }

    #[test]
    fn the_api_docs_url_of_a_tenant_is_its_api_page() {
        let docs = ApiDocsUrl::parse("https://acme.e7.site/api").expect("a valid URL");
        assert_eq!(docs.company(), "acme");
        let project = ProjectUrl::parse("https://acme.e7.site/projects/1").expect("a valid URL");
        assert_eq!(project.api_docs_url(), docs);
        assert!(ApiDocsUrl::parse("https://acme.e7.site/api/v1/activities").is_ok());
        assert!(matches!(
            ApiDocsUrl::parse("https://acme.e7.site/docs"),
            Err(UrlError::NotAnApiPath { .. })
        ));
    }

    #[test]
    fn an_email_keeps_its_local_part_and_lower_cases_its_domain() {
        let email = Email::parse(" Joe.Bloggs@Example.COM ").expect("a valid email");
        assert_eq!(email.as_str(), "Joe.Bloggs@example.com");
    }

    #[test]
    fn malformed_emails_are_refused_with_the_reason() {
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        assert!(matches!(
            Email::parse("joe.example.com"),
            Err(EmailError::NotOneAt(_))
        ));
        assert!(matches!(
            Email::parse("a@b@c.com"),
            Err(EmailError::NotOneAt(_))
        ));
        assert!(matches!(
            Email::parse(".joe@example.com"),
            Err(EmailError::BadLocalPart(_))
        ));
        assert!(matches!(
            Email::parse("joe bloggs@example.com"),
            Err(EmailError::BadLocalPart(_))
        ));
        assert!(matches!(
            Email::parse("joe@localhost"),
            Err(EmailError::BadDomain(_))
        ));
        assert!(matches!(
            Email::parse("joe@-x.com"),
            Err(EmailError::BadDomain(_))
        ));
        assert!(matches!(
            Email::parse("joe@10.0.0.1"),
            Err(EmailError::BadDomain(_))
        ));
    }

    #[test]
    fn an_undecodable_punycode_company_is_refused_with_a_reason() {
        let err = ProjectUrl::parse("https://xn--a.e7.site/projects/a")
            .expect_err("xn--a is not valid punycode");
        assert!(matches!(err, UrlError::NotAUrl { .. }), "{err:?}");
    }

    /// Text close to a project URL: each part is mostly right and sometimes wrong, so the
    /// parse gets past the URL parser to the host, company, path and id checks.
    fn near_url() -> impl Strategy<Value = String> {
        (
            prop_oneof![4 => "https", 1 => "[a-z]{1,5}"],
            prop_oneof![6 => "", 1 => "[a-z]{0,3}(:[a-z]{0,3})?@"],
            prop_oneof![3 => "[a-z0-9-]{0,8}", 1 => "[a-zA-Z0-9.%-]{0,20}"],
            prop_oneof![6 => "\\.e7\\.site", 1 => "\\.?[a-z0-9.]{0,8}"],
            prop_oneof![6 => "", 1 => ":[0-9]{0,6}"],
            prop_oneof![4 => "/projects/", 1 => "(/[a-z%0-9_.-]{0,10}){0,3}/?"],
            "[A-Za-z0-9_%/.-]{0,20}",
            prop_oneof![6 => "", 1 => "[?#].{0,5}"],
        )
            .prop_map(
                |(scheme, credentials, company, domain, port, path, id, rest)| {
                    format!("{scheme}://{credentials}{company}{domain}{port}{path}{id}{rest}")
                },
            )
    }

    proptest! {
        #[test]
        fn any_well_formed_email_parses_and_round_trips_through_serde(
            local in "[a-z0-9][a-z0-9._+-]{0,20}[a-z0-9]",
            domain in "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?",
            tld in "[a-z]{2,6}",
        ) {
            prop_assume!(!local.contains(".."));
            let input = format!("{local}@{domain}.{tld}");
            let email = Email::parse(&input).expect("a well-formed email parses");
            prop_assert_eq!(email.as_str(), input.as_str());
            let json = serde_json::to_string(&email).expect("an email serialises");
            let back: Email = serde_json::from_str(&json).expect("an email deserialises");
            prop_assert_eq!(back, email);
        }

        #[test]
        fn text_with_whitespace_inside_or_without_an_at_is_never_an_email(
            text in prop_oneof![
                "[^@]{0,40}",
                // A well-formed address with one whitespace character inside it.
                (
                    "[a-z0-9]{1,10}@[a-z0-9]{1,10}\\.[a-z]{2,6}",
                    proptest::sample::select(vec![" ", "\t", "\n", "\r", "\u{a0}", "\u{3000}"]),
                    any::<proptest::sample::Index>(),
                )
                    .prop_map(|(email, space, at)| {
                        let inner = 1 + at.index(email.len() - 1);
                        format!("{}{space}{}", &email[..inner], &email[inner..])
                    }),
            ],
        ) {
            prop_assert!(Email::parse(&text).is_err(), "{:?} parsed", text);
        }

        #[test]
        fn any_valid_project_url_round_trips_through_its_string_form(
            company in "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?",
            id in "[A-Za-z0-9_-]{1,64}",
        ) {
            // Labels with hyphens in places 3 and 4 are reserved for IDNA ("xn--..." is
            // punycode); the URL parser rightly refuses the ones that do not decode.
            prop_assume!(company.get(2..4) != Some("--"));
            let input = format!("https://{company}.e7.site/projects/{id}");
            let url = ProjectUrl::parse(&input).expect("a valid project URL parses");
            prop_assert_eq!(url.company(), company.as_str());
            prop_assert_eq!(url.project_id(), id.as_str());
            prop_assert_eq!(ProjectUrl::parse(&url.to_string()), Ok(url));
        }

        #[test]
        fn parsing_a_project_url_never_panics(text in prop_oneof![".{0,80}", near_url()]) {
            let _ = ProjectUrl::parse(&text);
        }
    }
}
