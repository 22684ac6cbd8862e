//! What each caller may see: applications, their history entries, documents, inboxes and the
//! application lists — the same answer for queries, subscriptions, webhooks, e-mail, exports
//! and the console.

use softland_store::documents::DocumentRecord;
use softland_store::{ApplicationFilter, ApplicationRecord, EventRecord, InboxOwner, Store};
use softland_workflow::Assignee;

use crate::{Decision, Principal, Refusal};

impl Principal {
    /// Whether the caller may see an application. Callers that may not see it must get the
    /// same answer as for an application that does not exist.
    pub async fn can_see(&self, store: &Store, app: &ApplicationRecord) -> Decision<bool> {
        Ok(self.sees(store, std::slice::from_ref(app)).await?[0])
    }

    /// Of `apps`, those the caller may see (what [`Principal::can_see`] answers for each).
    pub async fn visible_among(
        &self,
        store: &Store,
        apps: Vec<ApplicationRecord>,
    ) -> Decision<Vec<ApplicationRecord>> {
        let seen = self.sees(store, &apps).await?;
        Ok(apps
            .into_iter()
            .zip(seen)
            .filter_map(|(app, seen)| seen.then_some(app))
            .collect())
    }

    /// Whether the caller may see each of `apps` — the one statement of who sees which
    /// application: an administrator every one; a firm its own and those it hosts (one query
    /// for the rest); a reviewer those its agency has or had a task on (one query); an observer
    /// those of the workflows its agency oversees (the workflows are cached).
    async fn sees(&self, store: &Store, apps: &[ApplicationRecord]) -> Decision<Vec<bool>> {
        Ok(match self {
            Principal::Admin { .. } => vec![true; apps.len()],
            Principal::Applicant { organization, .. } => {
                let others: Vec<uuid::Uuid> = apps
                    .iter()
                    .filter(|a| a.organization != *organization)
                    .map(|a| a.id)
                    .collect();
                let hosted = store.hosted_among(&others, organization).await?;
                apps.iter()
                    .map(|a| a.organization == *organization || hosted.contains(&a.id))
                    .collect()
            }
            Principal::Reviewer { agency, .. } => {
                let ids: Vec<uuid::Uuid> = apps.iter().map(|a| a.id).collect();
                let involved = store.agency_involved_among(&ids, agency).await?;
                apps.iter().map(|a| involved.contains(&a.id)).collect()
            }
            Principal::Observer { agency, .. } => {
                let mut seen = Vec::with_capacity(apps.len());
                for app in apps {
                    let wf = store
                        .workflow(&app.workflow_key, app.workflow_version)
                        .await?;
                    seen.push(wf.oversight().iter().any(|a| a == agency));
                }
                seen
            }
        })
    }

    /// The application `id` if the caller may see it; `None` for one that does not exist and
    /// for one the caller may not see alike.
    pub async fn visible_application(
        &self,
        store: &Store,
        id: uuid::Uuid,
    ) -> Decision<Option<ApplicationRecord>> {
        let Some(app) = store.application(id).await? else {
            return Ok(None);
        };
        Ok(self.can_see(store, &app).await?.then_some(app))
    }

    /// Whether the caller may read a document: whoever may see the application it is linked
    /// to; before it is linked, its uploader's organisation (or agency) — and administrators.
    pub async fn sees_document(&self, store: &Store, doc: &DocumentRecord) -> Decision<bool> {
        match doc.application_id {
            Some(id) => Ok(self.visible_application(store, id).await?.is_some()),
            None => Ok(self.is_admin() || self.membership().label() == doc.owner),
        }
    }

    /// A history entry as the caller may see it; `None` when they may not see it at all. An
    /// internal note reaches agencies' reviewers and administrators only; a firm sees which
    /// agency acted (`party`), not which of its reviewers (`actor` is left out).
    pub fn entry(&self, mut e: EventRecord) -> Option<EventRecord> {
        if e.note().is_some() && !self.reads_internal_notes() {
            return None;
        }
        let by_agency = matches!(e.party(), Some(Assignee::Agency(_)));
        if by_agency && !self.sees_reviewers() {
            e.actor = None;
        }
        Some(e)
    }

    /// Whether the caller writes and reads internal notes (agencies' reviewers and
    /// administrators; never a firm, nor an observer: notes are the working words of the
    /// agencies that decide).
    pub fn reads_internal_notes(&self) -> bool {
        matches!(self, Principal::Admin { .. } | Principal::Reviewer { .. })
    }

    /// Whether the caller may see which reviewer of an agency acted (firms and observers see
    /// the agency), and who at an agency holds a task's claim.
    pub fn sees_reviewers(&self) -> bool {
        matches!(self, Principal::Admin { .. } | Principal::Reviewer { .. })
    }

    /// Narrows an application list to what the caller may see: a firm its own organization's,
    /// a reviewer those its agency has or had a task in, an administrator all. `false` when
    /// the filter asks for another organization's applications than the caller's own, which
    /// can only give an empty list.
    pub fn scope_applications(&self, filter: &mut ApplicationFilter) -> bool {
        let asked = filter.organization.take();
        match self {
            Principal::Admin { .. } => {}
            Principal::Reviewer { agency, .. } => filter.agency = Some(agency.clone()),
            Principal::Observer { agency, .. } => filter.overseen_by = Some(agency.clone()),
            Principal::Applicant { organization, .. } => {
                if asked.as_ref().is_some_and(|o| o != organization) {
                    return false;
                }
                filter.organization = Some(organization.clone());
            }
        }
        if filter.organization.is_none() {
            filter.organization = asked;
        }
        true
    }

    /// Whose inbox the caller works (administrators have none).
    pub fn inbox(&self) -> Option<InboxOwner> {
        match self {
            Principal::Admin { .. } | Principal::Observer { .. } => None,
            Principal::Reviewer { agency, .. } => Some(InboxOwner::Agency(agency.clone())),
            Principal::Applicant { organization, .. } => {
                Some(InboxOwner::Applicant(organization.clone()))
            }
        }
    }

    /// Whether a task for `assignee` may be in the caller's inbox at all (of some
    /// application): an agency's for its reviewers, the applicant's for firms.
    pub fn inbox_may_hold(&self, assignee: &Assignee) -> bool {
        match (self, assignee) {
            (Principal::Reviewer { agency, .. }, Assignee::Agency(a)) => **a == **agency,
            (Principal::Applicant { .. }, Assignee::Applicant) => true,
            (Principal::Applicant { organization, .. }, Assignee::Host(_)) => {
                assignee.host_firm() == Some(organization.as_str())
            }
            _ => false,
        }
    }

    /// Whether a task for `assignee`, of `organization`'s application, is in the caller's
    /// inbox.
    pub fn inbox_holds(&self, assignee: &Assignee, organization: &str) -> bool {
        self.inbox_may_hold(assignee)
            && match self {
                Principal::Applicant {
                    organization: own, ..
                } => organization == own || assignee.host_firm() == Some(own.as_str()),
                _ => true,
            }
    }

    /// The answer to acting on a task that is not the caller's: `Forbidden` when the caller
    /// may see its application, otherwise the same `Hidden` as for a task that does not exist.
    pub async fn not_yours(
        &self,
        store: &Store,
        application: uuid::Uuid,
        assignee: &Assignee,
    ) -> Refusal {
        match self.visible_application(store, application).await {
            Ok(Some(_)) => Refusal::forbidden(format!("this task is for `{assignee}`")),
            Ok(None) => Refusal::Hidden("task"),
            Err(e) => e,
        }
    }
}
