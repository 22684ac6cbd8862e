//! Linking documents to applications (issue 16). A submission's form data, or an action's
//! input, names documents where its JSON Schema says `format: softland-document`. Before the
//! command runs, each must be a document of the caller's organisation (or agency), not erased,
//! not linked to another application — else the command is refused with a violation at its
//! JSON pointer. The command then records a `document_linked` event after its own (with the
//! content's SHA-256, so the hash chain covers it), and once it has committed the document's
//! row names the application. The events are the record: reading an application's documents
//! repairs a row a crash left unnamed.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::Value;
use softland_workflow::{
    Actor, Event, EventKind, Instance, Party, Rejection, Violation, Workflow, document_refs,
};
use uuid::Uuid;

use crate::Store;
use crate::documents::DocumentRecord;
use crate::entity::{document, event};
use crate::error::{Error, Result};
use softland_workflow::EventName;

/// Documents one command may name.
pub const MOST_LINKS: usize = 50;
/// Documents one application may have.
pub const MOST_PER_APPLICATION: u64 = 200;

/// A document a command links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    pub id: Uuid,
    pub sha256: String,
    pub pointer: String,
}

/// Whose documents `actor` may name: their organisation's (`organization:KEY`) or agency's.
pub(crate) fn owner_of(actor: &Actor, organization: &str) -> String {
    match &actor.party {
        Party::Agency(a) => format!("agency:{a}"),
        Party::Applicant => format!("organization:{organization}"),
        Party::System => "none".to_owned(),
    }
}

fn refused(violations: Vec<Violation>) -> Error {
    Error::Rejected(Rejection::InvalidInput { violations })
}

/// A document field's violation: the document it names is not one the caller may attach.
fn violation(pointer: &str, message: &str) -> Violation {
    Violation {
        path: pointer.to_owned(),
        message: message.to_owned(),
        missing: None,
        rule: "document".to_owned(),
        limit: None,
    }
}

impl Store {
    /// The documents `data` names (by `schema`), checked for `owner` and application `app`
    /// (`None`: a new one).
    pub(crate) async fn links(
        &self,
        db: &impl ConnectionTrait,
        schema: &Value,
        data: &Value,
        owner: &str,
        app: Option<Uuid>,
    ) -> Result<Vec<Link>> {
        let refs = document_refs(schema, data);
        if refs.is_empty() {
            return Ok(Vec::new());
        }
        if refs.len() > MOST_LINKS {
            return Err(refused(vec![violation(
                "",
                &format!("at most {MOST_LINKS} documents in one submission or action"),
            )]));
        }
        let ids: Vec<Option<Uuid>> = refs.iter().map(|r| Uuid::parse_str(&r.id).ok()).collect();
        let rows = document::Entity::find()
            .filter(document::Column::Id.is_in(ids.iter().flatten().copied()))
            .all(db)
            .await?;
        let mut links = Vec::new();
        let mut violations = Vec::new();
        for (r, id) in refs.iter().zip(&ids) {
            // Absent, and another organisation's, read alike: nothing tells which.
            let found = id
                .and_then(|id| rows.iter().find(|d| d.id == id))
                .filter(|d| d.owner == owner);
            match found {
                None => violations.push(violation(&r.pointer, "no such document of yours")),
                Some(d) if d.erased_at.is_some() => {
                    violations.push(violation(&r.pointer, "this document was erased"))
                }
                Some(d) if d.application_id.is_some_and(|a| Some(a) != app) => violations.push(
                    violation(&r.pointer, "this document belongs to another application"),
                ),
                Some(d) => links.push(Link {
                    id: d.id,
                    sha256: d.sha256.clone(),
                    pointer: r.pointer.clone(),
                }),
            }
        }
        if violations.is_empty()
            && let Some(app) = app
        {
            let linked = document::Entity::find()
                .filter(document::Column::ApplicationId.eq(app))
                .count(db)
                .await?;
            let new = links
                .iter()
                .filter(|l| {
                    rows.iter()
                        .any(|d| d.id == l.id && d.application_id.is_none())
                })
                .count();
            if linked + new as u64 > MOST_PER_APPLICATION {
                violations.push(violation(
                    "",
                    &format!("an application has at most {MOST_PER_APPLICATION} documents"),
                ));
            }
        }
        if violations.is_empty() {
            Ok(links)
        } else {
            Err(refused(violations))
        }
    }

    /// Names `app` on the linked documents' rows (those not yet naming one).
    pub(crate) async fn name_application(&self, app: Uuid, links: &[Link]) -> Result<()> {
        if links.is_empty() {
            return Ok(());
        }
        document::Entity::update_many()
            .col_expr(document::Column::ApplicationId, Expr::value(app))
            .col_expr(document::Column::LinkedAt, Expr::value(self.now()))
            .filter(document::Column::Id.is_in(links.iter().map(|l| l.id)))
            .filter(document::Column::ApplicationId.is_null())
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// The documents linked to an application, in the order they were linked — as its events
    /// record them; a row a crash left without its application is given it now.
    pub async fn documents_of(&self, application: Uuid) -> Result<Vec<DocumentRecord>> {
        let linked: Vec<(Uuid, String)> = event::Entity::find()
            .filter(event::Column::ApplicationId.eq(application))
            .filter(event::Column::Kind.eq(EventName::DocumentLinked.as_str()))
            .order_by_asc(event::Column::Seq)
            .all(self.db())
            .await?
            .into_iter()
            .filter_map(|e| {
                let payload: Value = serde_json::from_str(&e.payload).ok()?;
                let id = Uuid::parse_str(payload.get("document")?.as_str()?).ok()?;
                Some((id, payload.get("pointer")?.as_str()?.to_owned()))
            })
            .collect();
        // One read for every linked row, in the order the events linked them.
        let rows = document::Entity::find()
            .filter(document::Column::Id.is_in(linked.iter().map(|(id, _)| *id)))
            .all(self.db())
            .await?;
        let mut out: Vec<DocumentRecord> = Vec::new();
        let mut unnamed = Vec::new();
        for (id, pointer) in &linked {
            if out.iter().any(|d| d.id == *id) {
                continue;
            }
            if let Some(d) = rows.iter().find(|d| d.id == *id) {
                let d = crate::documents::record(d.clone());
                if d.application_id.is_none() {
                    unnamed.push(Link {
                        id: d.id,
                        sha256: d.sha256.clone(),
                        pointer: pointer.clone(),
                    });
                }
                out.push(d);
            }
        }
        if !unnamed.is_empty() {
            self.name_application(application, &unnamed).await?;
            for d in &mut out {
                d.application_id.get_or_insert(application);
            }
        }
        Ok(out)
    }
}

/// `events` with a `document_linked` event for each of `links` right after the command's own
/// event (the submission, or the completed task), each applied to `inst`.
pub(crate) fn with_links(
    wf: &Workflow,
    inst: &mut Instance,
    events: Vec<Event>,
    links: &[Link],
) -> Result<Vec<Event>> {
    if links.is_empty() {
        return Ok(events);
    }
    let at = events
        .iter()
        .position(|e| {
            matches!(
                e.kind,
                EventKind::Submitted { .. } | EventKind::TaskCompleted { .. }
            )
        })
        .unwrap_or(0);
    let Some(base) = events.get(at).cloned() else {
        return Ok(events);
    };
    let made: Vec<Event> = links
        .iter()
        .map(|l| Event {
            at: base.at,
            actor: base.actor.clone(),
            party: base.party.clone(),
            kind: EventKind::DocumentLinked {
                document: l.id.to_string(),
                sha256: l.sha256.clone(),
                pointer: l.pointer.clone(),
            },
        })
        .collect();
    for e in &made {
        inst.apply(wf, e).map_err(crate::error::corrupt)?;
    }
    let mut out = Vec::with_capacity(events.len() + made.len());
    let mut events = events.into_iter();
    out.extend(events.by_ref().take(at + 1));
    out.extend(made);
    out.extend(events);
    Ok(out)
}
