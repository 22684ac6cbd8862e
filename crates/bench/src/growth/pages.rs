//! The console's pages in `softland growth`: the inbox and an application page, rendered in
//! process exactly as `softland serve` renders them for a browser (session cookie, GraphQL
//! through the API's schema, templates), minus the network. The target: under 50 ms at p95 with
//! a million applications.

use std::path::Path;

use anyhow::{Context, ensure};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use softland_store::Store;
use softland_store::directory::{NewPerson, Role};
use tower::ServiceExt;
use uuid::Uuid;

/// The p95 the console's pages must stay under, in milliseconds.
pub const PAGE_TARGET_MS: f64 = 50.0;

/// The console, with signed-in sessions to ask it as.
pub(super) struct Pages {
    router: axum::Router,
    /// `(agency, session cookie)` of a reviewer of each agency.
    reviewers: Vec<(&'static str, String)>,
    /// An administrator's session cookie (they may open any application).
    admin: String,
}

async fn session(store: &Store, person: NewPerson) -> anyhow::Result<String> {
    let id = person.id.clone();
    store.put_person(&person).await?;
    let (token, _csrf) = store
        .open_session(&id, chrono::Duration::hours(8), None)
        .await?;
    Ok(format!(
        "{}={token}",
        softland_gateway::signin::SESSION_COOKIE
    ))
}

impl Pages {
    /// The console on `store`, and a session for a reviewer of each of `agencies` and for an
    /// administrator (people `growth.<agency>` and `growth.admin`, added to the directory).
    pub(super) async fn new(
        store: &Store,
        workflows: &Path,
        agencies: &[&'static str],
    ) -> anyhow::Result<Self> {
        let mut reviewers = Vec::new();
        for agency in agencies {
            let person = NewPerson {
                id: format!("growth.{agency}"),
                display_name: None,
                email: None,
                agency: Some((*agency).to_owned()),
                organization: None,
                roles: vec![Role::Reviewer],
                service: false,
                language: None,
            };
            reviewers.push((*agency, session(store, person).await?));
        }
        let admin = NewPerson {
            id: "growth.admin".into(),
            display_name: None,
            email: None,
            agency: None,
            organization: None,
            roles: vec![Role::Admin],
            service: false,
            language: None,
        };
        let admin = session(store, admin).await?;
        let auth = softland_gateway::authn::Authenticator::new(store.clone(), None);
        let storage =
            softland_documents::Storage::open(&softland_documents::StorageConfig::Folder(
                std::env::temp_dir()
                    .join(format!("softland-growth-documents-{}", std::process::id())),
            ))?;
        let documents = softland_gateway::graphql::Documents {
            storage,
            limits: softland_gateway::graphql::UploadLimits::default(),
        };
        let schema = softland_gateway::build_schema(
            store.clone(),
            workflows.to_owned(),
            auth,
            documents,
            softland_gateway::graphql::Webhooks::default(),
        );
        let router = softland_console::pages(softland_gateway::Services {
            schema,
            store: store.clone(),
            browser_sign_in: false,
            secure_cookies: false,
            failures: softland_gateway::throttle::Failures::default(),
        });
        Ok(Pages {
            router,
            reviewers,
            admin,
        })
    }

    async fn get(&self, path: &str, cookie: &str) -> anyhow::Result<()> {
        let request = Request::get(path)
            .header(header::COOKIE, cookie)
            .header(header::ACCEPT_LANGUAGE, "en")
            .body(Body::empty())?;
        let response = self.router.clone().oneshot(request).await?;
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 4 << 20)
            .await
            .context("reading a page")?;
        ensure!(
            status == StatusCode::OK,
            "{path} answered {status}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(300)
                .collect::<String>()
        );
        Ok(())
    }

    /// The inbox page of the reviewer of agency number `pick` (modulo their number).
    pub(super) async fn inbox(&self, pick: usize) -> anyhow::Result<()> {
        let (_, cookie) = &self.reviewers[pick % self.reviewers.len()];
        self.get("/inbox", cookie).await
    }

    /// An application's page, as an administrator sees it.
    pub(super) async fn application(&self, id: Uuid) -> anyhow::Result<()> {
        self.get(&format!("/applications/{id}"), &self.admin).await
    }
}
