//! What every page handler shares: the caller ([`Caller`], an extractor), the layout context,
//! rendering a typed context inside the layout, posted forms ([`FormPairs`]), the ids in a
//! request's URL ([`RequestId`], [`KeyId`]), a form posted on a request's page by a signed-in
//! user ([`RequestPost`]), and the one error type of pages ([`PageError`]), which the web router
//! turns into an HTML error page or a redirect to the sign-in form.

use std::marker::PhantomData;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{csrf, stash};
use crate::error::{ApiError, ErrorCode};
use crate::http::AppState;
use crate::http::principal::{Resolved, client_address};
use crate::principal::Principal;
use gatehouse_core::auth::{Role, User};

use super::requests::OnRequest;

/// The signed-in user, as views show it.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    /// Email.
    pub email: String,
    /// Role.
    pub role: String,
    /// Whether the navigation shows the reviewer's pages.
    pub is_reviewer: bool,
}

/// What every page's layout needs.
#[derive(Debug, Clone, Serialize)]
pub struct Layout {
    /// Page title.
    pub title: String,
    /// The signed-in user, or null.
    pub user: Option<UserView>,
    /// The CSRF token for forms on the page.
    pub csrf: String,
    /// A one-line message at the top of the page ("Draft saved."), or null.
    pub notice: Option<String>,
}

/// A page's context: the layout's fields and the page's own, side by side.
#[derive(Debug, Serialize)]
pub struct Page<'a, T: Serialize> {
    /// The layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The page's own fields.
    #[serde(flatten)]
    pub body: &'a T,
}

/// Why a page could not be shown. Handlers return it with `?`; the web router renders it.
#[derive(Debug)]
pub enum PageError {
    /// An error with its stable code: rendered as the error page with the code's status, or,
    /// for `UNAUTHENTICATED`, a redirect to the sign-in form that comes back here.
    Api(ApiError),
    /// Go elsewhere (303), optionally setting a cookie.
    Redirect {
        /// Where to.
        location: String,
        /// A `Set-Cookie` value.
        cookie: Option<String>,
    },
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl From<gatehouse_core::access::AccessError> for PageError {
    fn from(error: gatehouse_core::access::AccessError) -> Self {
        Self::Api(error.into())
    }
}

impl From<sea_orm::DbErr> for PageError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Api(error.into())
    }
}

impl From<gatehouse_core::vault::VaultError> for PageError {
    fn from(error: gatehouse_core::vault::VaultError) -> Self {
        Self::Api(error.into())
    }
}

/// An error the web router's error layer renders as a page; carried in the response's
/// extensions by [`PageError::into_response`].
#[derive(Debug, Clone)]
pub struct PageFailure(pub ApiError);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            Self::Api(error) => {
                let mut response = crate::error::status(error.code).into_response();
                response.extensions_mut().insert(PageFailure(error));
                response
            }
            Self::Redirect { location, cookie } => see_other(&location, cookie).into_response(),
        }
    }
}

/// A `303 See Other` to `location`, with a cookie if given.
pub fn see_other(location: &str, cookie: Option<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    with_cookie(response, cookie)
}

/// Adds a `Set-Cookie` header when there is one.
pub fn with_cookie(mut response: Response, cookie: Option<String>) -> Response {
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

/// The result of a page handler.
pub type PageResult = Result<Response, PageError>;

/// The caller of a page: who they are, the CSRF token their forms carry, and where they are
/// (for the way back after signing in).
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who is calling; a bad app key on a page is treated as no credentials.
    pub principal: Principal,
    /// The request's headers (cookies, origin).
    pub headers: HeaderMap,
    /// The request's path and query.
    pub here: String,
    /// The address the request came from (see `http::principal::client_address`).
    pub address: std::net::IpAddr,
    csrf: String,
    csrf_cookie: Option<String>,
    secure: bool,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = Resolved::from_request_parts(parts, state)
            .await?
            .0
            .unwrap_or(Principal::Anonymous);
        let address = client_address(
            &parts.extensions,
            &parts.headers,
            state.services.config.http.forwarded_for_hops,
        );
        let secure = state.services.config.cookies_secure();
        let (csrf, csrf_cookie) = csrf::token_for(&principal, &parts.headers, secure);
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
        Ok(Self {
            principal,
            headers: parts.headers.clone(),
            here,
            address,
            csrf,
            csrf_cookie,
            secure,
        })
    }
}

impl Caller {
    /// The signed-in user with at least `role`: `UNAUTHENTICATED` (→ sign in) or `FORBIDDEN`.
    pub fn user(&self, role: Role) -> Result<&User, PageError> {
        Ok(self.principal.require_role(role)?)
    }

    /// The layout of a page titled `title`.
    pub fn layout(&self, title: &str) -> Layout {
        Layout {
            title: title.to_owned(),
            user: self.principal.user().map(|u| UserView {
                email: u.email.clone(),
                role: u.role.to_string(),
                is_reviewer: u.role >= Role::Reviewer,
            }),
            csrf: self.csrf.clone(),
            notice: None,
        }
    }

    /// Renders `view` with `body` inside the layout, with `status`.
    pub fn render<T: Serialize>(
        &self,
        state: &AppState,
        status: StatusCode,
        view: &str,
        layout: Layout,
        body: &T,
    ) -> PageResult {
        let html = state.web.render(view, &Page { layout, body })?;
        Ok(self.finish((status, html).into_response()))
    }

    /// Adds the pre-sign-in CSRF cookie to a response when one was made for this request.
    pub fn finish(&self, response: Response) -> Response {
        with_cookie(response, self.csrf_cookie.clone())
    }

    /// Whether a posted form carries this caller's CSRF token.
    pub fn csrf_ok(&self, form: &FormPairs) -> bool {
        csrf::verify(&self.principal, &self.headers, form.get("csrf"))
    }

    /// The user behind a posted form: signed in with `role` and the form's CSRF token right.
    ///
    /// A form posted without a live session (it expired while the user typed) is kept in a
    /// stash and the user sent to sign in, with the way back to `return_to`, where the form is
    /// restored. A wrong CSRF token is `FORBIDDEN` and changes nothing.
    pub async fn form_user(
        &self,
        state: &AppState,
        form: &FormPairs,
        return_to: &str,
        role: Role,
    ) -> Result<&User, PageError> {
        if matches!(self.principal, Principal::Anonymous) {
            if !stash::same_origin(&self.headers) {
                return Err(csrf_refused());
            }
            let token = stash::save(
                &state.services.db,
                &state.services.stash_limits,
                self.address,
                return_to,
                &form.0,
            )
            .await
            .map_err(ApiError::from)?;
            let back = format!("{return_to}?restore={token}");
            return Err(PageError::Redirect {
                location: format!("/login?next={}", urlencode(&back)),
                cookie: Some(stash::cookie(&token, self.secure)),
            });
        }
        if !self.csrf_ok(form) {
            return Err(csrf_refused());
        }
        self.user(role)
    }

    /// The form stashed for `path` when the session expired, if the caller holds its token
    /// (`?restore=` and the cookie set with it); taken once. The response should clear the
    /// cookie: see [`stash::clear_cookie`].
    pub async fn restore(
        &self,
        state: &AppState,
        path: &str,
        token: Option<&str>,
    ) -> Result<Option<FormPairs>, PageError> {
        let Some(token) = token else {
            return Ok(None);
        };
        let held = crate::http::cookies::read(&self.headers, stash::COOKIE);
        if held.as_deref() != Some(token) {
            return Ok(None);
        }
        Ok(stash::take(&state.services.db, token, path)
            .await?
            .map(FormPairs))
    }
}

/// The error of a form posted with a missing or wrong CSRF token.
pub fn csrf_refused() -> PageError {
    PageError::Api(ApiError::new(
        ErrorCode::CsrfFailed,
        "This form expired or did not come from Gatehouse. Reload the page and try again; \
         nothing was changed.",
    ))
}

/// Percent-encodes a query value.
pub fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A posted `application/x-www-form-urlencoded` body, as its name-value pairs in order
/// (repeated names kept: checkbox groups).
#[derive(Debug, Clone, Default)]
pub struct FormPairs(pub Vec<(String, String)>);

impl FormPairs {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The first value of `name`, if it was sent.
    pub fn opt(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether a checkbox named `name` was checked.
    pub fn checked(&self, name: &str) -> bool {
        self.opt(name).is_some()
    }
}

impl FromRequest<AppState> for FormPairs {
    type Rejection = PageError;

    /// Reads a form within `http.max_form_bytes` and `http.max_form_fields`, refusing (413)
    /// before any work grows past them.
    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limits = &state.services.config.http;
        let form_type = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !form_type {
            return Err(PageError::Api(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the form as application/x-www-form-urlencoded",
            )));
        }
        let body = axum::body::to_bytes(request.into_body(), limits.max_form_bytes)
            .await
            .map_err(|_| {
                PageError::Api(ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("the form is larger than {} bytes", limits.max_form_bytes),
                ))
            })?;
        let mut pairs = Vec::new();
        for (name, value) in url::form_urlencoded::parse(&body) {
            if pairs.len() == limits.max_form_fields {
                return Err(PageError::Api(ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("the form has more than {} fields", limits.max_form_fields),
                )));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Self(pairs))
    }
}

/// A UUID named `{$param}` in the URL; one that is not a UUID is a page that does not exist.
macro_rules! uuid_param {
    ($(#[$doc:meta])* $name:ident, $param:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name(pub Uuid);

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = PageError;

            async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, PageError> {
                #[derive(Deserialize)]
                struct Params {
                    $param: Uuid,
                }
                Path::<Params>::from_request_parts(parts, state)
                    .await
                    .map(|Path(params)| Self(params.$param))
                    .map_err(|_| PageError::Api(ApiError::not_found("page")))
            }
        }
    };
}

uuid_param!(
    /// The `{id}` of an access request's URL.
    RequestId,
    id
);

uuid_param!(
    /// The `{key_id}` of an app key's URL.
    KeyId,
    key_id
);

/// The least role a [`RequestPost`] needs.
pub trait MinRole {
    /// The role.
    const ROLE: Role;
}

/// A contact, or anyone above.
#[derive(Debug)]
pub struct ByContact;

impl MinRole for ByContact {
    const ROLE: Role = Role::Contact;
}

/// A reviewer, or an admin.
#[derive(Debug)]
pub struct ByReviewer;

impl MinRole for ByReviewer {
    const ROLE: Role = Role::Reviewer;
}

/// A form posted on an access request's page (`POST /requests/{id}/...`) by a signed-in user
/// with at least role `R` and the form's CSRF token: what every action on the page starts from.
/// Rejected as [`Caller::form_user`] rejects (a form posted after the session expired is
/// stashed and the user sent to sign in, back to the request's page); an id that is not a UUID
/// is a page that does not exist, refused before the form is read.
#[derive(Debug)]
pub struct RequestPost<R> {
    /// The caller.
    pub caller: Caller,
    /// The signed-in user.
    pub user: User,
    /// The request.
    pub id: Uuid,
    /// The posted form.
    pub form: FormPairs,
    role: PhantomData<R>,
}

impl<R: MinRole> FromRequest<AppState> for RequestPost<R> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, PageError> {
        let (mut parts, body) = request.into_parts();
        let Ok(caller) = Caller::from_request_parts(&mut parts, state).await;
        let RequestId(id) = RequestId::from_request_parts(&mut parts, state).await?;
        let form = FormPairs::from_request(Request::from_parts(parts, body), state).await?;
        let user = caller
            .form_user(state, &form, &format!("/requests/{id}"), R::ROLE)
            .await?
            .clone();
        Ok(Self {
            caller,
            user,
            id,
            form,
            role: PhantomData,
        })
    }
}

impl<R> RequestPost<R> {
    /// The request's page, as this caller sees it: what the action answers with.
    pub fn on<'a>(&'a self, state: &'a AppState) -> OnRequest<'a> {
        OnRequest {
            state,
            caller: &self.caller,
            user: &self.user,
            id: self.id,
        }
    }
}
