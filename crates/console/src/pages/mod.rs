//! The pages, one module per area; each handler asks the API and renders a template.

pub(crate) mod acting;
pub(crate) mod application;
pub(crate) mod applications;
pub(crate) mod audit;
pub(crate) mod charts;
pub(crate) mod dashboard;
pub(crate) mod directory;
pub(crate) mod inbox;
pub(crate) mod migrations;
pub(crate) mod names;
pub(crate) mod positions;
pub(crate) mod reports;
pub(crate) mod signin;
pub(crate) mod uploads;
pub(crate) mod workflows;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use softland_gateway::Principal;
use softland_gateway::{ErrorCode, Reason};
use softland_workflow::Lang;

use crate::api::Failure;
use crate::i18n::{Text, endonym};
use crate::visitor::{Visitor, encode};

/// A link of the navigation bar.
#[derive(Debug)]
pub(crate) struct Nav {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// A link of the language switch.
#[derive(Debug)]
pub(crate) struct LangLink {
    pub href: String,
    pub tag: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What every page shows around its content.
#[derive(Debug)]
pub(crate) struct Frame {
    pub t: &'static Text,
    pub lang: &'static str,
    pub title: String,
    pub csrf: String,
    pub who: Option<String>,
    /// The signed-in person's id: drafts in the browser are kept under it.
    pub person: String,
    pub nav: Vec<Nav>,
    pub langs: Vec<LangLink>,
}

impl Frame {
    /// The frame of a page titled `title`, whose navigation marks `area` (`/inbox`, …).
    pub fn new(v: &Visitor, title: impl Into<String>, area: &str) -> Self {
        let t = v.t();
        let mut nav = Vec::new();
        match &v.principal {
            Some(Principal::Reviewer { lead, .. }) => {
                nav.push(("/inbox", t.nav_inbox));
                nav.push(("/applications", t.nav_applications));
                if *lead {
                    nav.push(("/directory", t.nav_directory));
                }
            }
            Some(Principal::Observer { .. }) => {
                nav.push(("/applications", t.nav_applications));
                nav.push(("/reports", t.rep_title));
            }
            Some(p @ Principal::Applicant { lead, .. }) => {
                // A firm's staff work the interviews of the positions it offers in its inbox.
                if !p.is_student() {
                    nav.push(("/inbox", t.nav_inbox));
                }
                nav.push(("/applications", t.nav_applications));
                nav.push(("/positions", t.nav_positions));
                if *lead {
                    nav.push(("/directory", t.nav_directory));
                }
            }
            Some(Principal::Admin { .. }) => {
                nav.push(("/dashboard", t.dashboard));
                nav.push(("/reports", t.rep_title));
                nav.push(("/applications", t.nav_applications));
                nav.push(("/positions", t.nav_positions));
                nav.push(("/workflows", t.nav_workflows));
                nav.push(("/directory", t.nav_directory));
                nav.push(("/audit", t.nav_audit));
            }
            None => {}
        }
        Frame {
            t,
            lang: v.lang.tag(),
            title: title.into(),
            csrf: v.csrf.clone(),
            who: v.principal.as_ref().map(|_| v.display_name.clone()),
            person: v
                .principal
                .as_ref()
                .map(|p| p.name().to_owned())
                .unwrap_or_default(),
            nav: nav
                .into_iter()
                .map(|(href, label)| Nav {
                    href,
                    label,
                    current: href == area,
                })
                .collect(),
            langs: Lang::ALL
                .iter()
                .map(|l| LangLink {
                    href: format!("/lang/{}?back={}", l.tag(), encode(&v.path)),
                    tag: l.tag(),
                    label: endonym(*l),
                    current: *l == v.lang,
                })
                .collect(),
        }
    }
}

/// A name as the directory gives it in three languages: the viewer's, else English.
pub(crate) fn in_lang<'a>(
    lang: softland_workflow::Lang,
    en: &'a str,
    zh_hant: Option<&'a str>,
    zh_hans: Option<&'a str>,
) -> &'a str {
    match lang {
        softland_workflow::Lang::ZhHant => zh_hant,
        softland_workflow::Lang::ZhHans => zh_hans,
        softland_workflow::Lang::En => None,
    }
    .filter(|n| !n.trim().is_empty())
    .unwrap_or(en)
}

/// A rendered template, or a plain 500 when rendering failed.
pub(crate) fn html(template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => Html(body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a console page failed to render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A page with one message (not found, refused, …).
#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessagePage {
    pub page: Frame,
    pub message: String,
}

/// A question before an action that cannot be taken back: what it does, in the viewer's words,
/// and a form that posts to `action` (with `fields`: `(name, label, value)` text inputs).
#[derive(Template)]
#[template(path = "confirm.html")]
pub(crate) struct ConfirmPage {
    pub page: Frame,
    pub consequence: String,
    pub action: String,
    pub button: String,
    pub back: String,
    pub fields: Vec<(&'static str, &'static str, String)>,
}

/// The page for an API refusal the page cannot show in place.
pub(crate) fn failure(v: &Visitor, f: &Failure) -> Response {
    let t = v.t();
    let (status, words) = match f.code {
        ErrorCode::NotFound => (StatusCode::NOT_FOUND, t.not_found.to_owned()),
        ErrorCode::Forbidden => (
            StatusCode::FORBIDDEN,
            format!("{}: {}", t.refused_forbidden, f.message),
        ),
        ErrorCode::Unauthenticated => return Redirect::to("/signin").into_response(),
        ErrorCode::BadUserInput
        | ErrorCode::Conflict
        | ErrorCode::LimitExceeded
        | ErrorCode::InvalidAction
        | ErrorCode::TooComplex
        | ErrorCode::PayloadTooLarge => (StatusCode::BAD_REQUEST, f.message.clone()),
        _ => (StatusCode::SERVICE_UNAVAILABLE, t.refused_other.to_owned()),
    };
    let page = MessagePage {
        page: Frame::new(v, t.refused_forbidden, ""),
        message: words,
    };
    (status, html(&page)).into_response()
}

/// What a refusal says in the page's words (shown in place, above the form it refused).
pub(crate) fn refusal_words(t: &Text, f: &Failure) -> String {
    match f.code {
        ErrorCode::Forbidden if f.reason == Some(Reason::FourEyes) => format!(
            "{}: {}",
            t.refused_forbidden,
            t.four_eyes.replace("{step}", &f.step)
        ),
        ErrorCode::Forbidden => format!("{}: {}", t.refused_forbidden, f.message),
        ErrorCode::Conflict => format!("{} ({})", t.refused_conflict, f.message),
        ErrorCode::BadUserInput if !f.violations.is_empty() => t.form_has_errors.to_owned(),
        ErrorCode::BadUserInput
        | ErrorCode::LimitExceeded
        | ErrorCode::NotFound
        | ErrorCode::InvalidAction
        | ErrorCode::TooComplex
        | ErrorCode::PayloadTooLarge => f.message.clone(),
        _ => t.refused_other.to_owned(),
    }
}

/// `/`: where each person starts — reviewers at their inbox, administrators at the dashboard,
/// firms at their applications.
pub(crate) async fn home(v: Visitor) -> Response {
    match v.signed_in() {
        Ok(Principal::Reviewer { .. }) => Redirect::to("/inbox").into_response(),
        Ok(Principal::Admin { .. }) => Redirect::to("/dashboard").into_response(),
        Ok(_) => Redirect::to("/applications").into_response(),
        Err(to_sign_in) => to_sign_in,
    }
}

/// Any other path.
pub(crate) async fn not_found(v: Visitor) -> Response {
    let t = v.t();
    let page = MessagePage {
        page: Frame::new(&v, t.not_found, ""),
        message: t.not_found.to_owned(),
    };
    (StatusCode::NOT_FOUND, html(&page)).into_response()
}
