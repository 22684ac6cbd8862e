//! Fan-out: committed events become notifications — a webhook delivery per endpoint that
//! wants the event and whose owner may see it (as the policy decides for the API: an
//! endpoint's owner is a [`Principal`], [`Principal::of_endpoint`]), and e-mail to the people
//! concerned, written in their language. Runs as a worker beside the scheduler; the store makes it exactly-once per
//! outbox row across servers and crashes (see `softland_store::notify_queue`).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use softland_policy::{Principal, Refusal};
use softland_store::directory::{Agency, Membership, Organization, Person, Role};
use softland_store::notifications::{Endpoint, Message, NewNotification, NotificationStatus};
use softland_store::{ApplicationRecord, Committed, EventRecord, Store};
use softland_workflow::{Assignee, Workflow};
use tokio::sync::watch;
use uuid::Uuid;

use crate::EventType;
use crate::letters::{self, About, Lang, Letter, lang_of};

mod messages;
pub use messages::next_digest;
use messages::{letter_for, payload_time, webhook_body};

/// How fan-out runs.
#[derive(Debug, Clone)]
pub struct FanOutSettings {
    /// The console's address, for links (`https://softland.example`).
    pub public_url: String,
    /// Whether e-mail is configured (without it, no e-mail is queued).
    pub email: bool,
}

struct Pass<'a> {
    store: &'a Store,
    settings: &'a FanOutSettings,
    endpoints: Vec<Endpoint>,
    /// (application, owner) → whether the owner sees it.
    sees: HashMap<(Uuid, String), bool>,
    agencies: HashMap<String, Option<Agency>>,
    organizations: HashMap<String, Option<Organization>>,
    people: HashMap<String, Vec<Person>>,
    out: Vec<NewNotification>,
}

/// Committed commands one fan-out pass takes at most.
const BATCH: u64 = 200;

/// One pass: up to [`BATCH`] committed commands; how many it took.
pub async fn fan_out_once(
    store: &Store,
    settings: &FanOutSettings,
) -> softland_store::Result<usize> {
    let endpoints = store.enabled_webhook_endpoints().await?;
    // Nobody to tell (no endpoint, no e-mail): the rows are only marked, their events unread.
    let tell = !endpoints.is_empty() || settings.email;
    let fan = store.fan_out(BATCH, tell).await?;
    let rows = fan.rows();
    if fan.commands.is_empty() {
        store.finish_fan_out(fan, Vec::new()).await?;
        return Ok(rows);
    }
    let mut pass = Pass {
        store,
        settings,
        endpoints,
        sees: HashMap::new(),
        agencies: HashMap::new(),
        organizations: HashMap::new(),
        people: HashMap::new(),
        out: Vec::new(),
    };
    for c in &fan.commands {
        match pass.command(c).await {
            Ok(()) => {}
            // The database failed: the whole pass is done again later.
            Err(e @ (softland_store::Error::Db(_) | softland_store::Error::Unavailable(_))) => {
                return Err(e);
            }
            // A row that cannot be read never will be: said loudly (doctor names it), and the
            // others go on rather than wait behind it forever.
            Err(e) => tracing::error!(
                application = %c.application_id,
                error = %e,
                "a committed command cannot be announced"
            ),
        }
    }
    let out = std::mem::take(&mut pass.out);
    store.finish_fan_out(fan, out).await?;
    Ok(rows)
}

/// Runs fan-out every `every` until `stop` turns true.
pub fn spawn_fan_out(
    store: Store,
    settings: FanOutSettings,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // A failed pass leaves its events for the next.
        let mut log = softland_store::worker_log::PassLog::new("notification fan-out");
        loop {
            let pass = fan_out_once(&store, &settings).await;
            log.pass(&pass);
            // A full batch: more are waiting; go on at once.
            if pass.is_ok_and(|rows| rows as u64 >= BATCH) && !*stop.borrow() {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                return;
            }
        }
    })
}

impl Pass<'_> {
    async fn command(&mut self, c: &Committed) -> softland_store::Result<()> {
        let Some(app) = self.store.application(c.application_id).await? else {
            return Ok(());
        };
        let wf = self
            .store
            .workflow(&app.workflow_key, app.workflow_version)
            .await?;
        for e in &c.events {
            if let Some(t) = EventType::of(e, &wf) {
                self.webhooks(&app, &wf, e, t).await?;
                if self.settings.email {
                    self.emails(&app, &wf, e, t).await?;
                }
            }
            if self.settings.email
                && let Some(remind_at) = payload_time(e, "remind_at")
            {
                self.reminder(&app, &wf, e, remind_at).await?;
            }
        }
        Ok(())
    }

    fn link(&self, app: &ApplicationRecord) -> String {
        format!("{}/applications/{}", self.settings.public_url, app.id)
    }

    async fn webhooks(
        &mut self,
        app: &ApplicationRecord,
        wf: &Workflow,
        e: &EventRecord,
        event_type: EventType,
    ) -> softland_store::Result<()> {
        let wanted: Vec<Endpoint> = self
            .endpoints
            .iter()
            .filter(|ep| ep.wants(event_type.as_str()))
            .cloned()
            .collect();
        for ep in wanted {
            let who = Principal::of_endpoint(&ep);
            let key = (app.id, ep.owner.clone());
            let sees = match self.sees.get(&key) {
                Some(s) => *s,
                None => {
                    // The policy's answer; if it cannot be had (the database), the pass is
                    // done again rather than the delivery left out.
                    let s = who.can_see(self.store, app).await.map_err(|r| match r {
                        Refusal::Store(e) => e,
                        r => softland_store::Error::Unavailable(format!(
                            "who may see application {}: {r:?}",
                            app.id
                        )),
                    })?;
                    self.sees.insert(key, s);
                    s
                }
            };
            if !sees {
                continue;
            }
            let Some(seen) = who.entry(e.clone()) else {
                continue;
            };
            let body = webhook_body(event_type, app, wf, &seen, &self.link(app));
            let m = Message::webhook(ep.id, event_type.as_str(), app.id, e.seq, body.to_string());
            self.out.push(NewNotification::pending(m, self.store.now()));
        }
        Ok(())
    }

    async fn emails(
        &mut self,
        app: &ApplicationRecord,
        wf: &Workflow,
        e: &EventRecord,
        event_type: EventType,
    ) -> softland_store::Result<()> {
        // Who works the task concerned: the agency the event names, or (overdue) the task's.
        let mut assignee = e.assignee().unwrap_or(Assignee::Applicant);
        let recipients: Vec<(String, Lang)> = match event_type {
            // A hosting firm's task goes to its staff.
            EventType::TaskOpened | EventType::TaskReassigned if assignee.host_firm().is_some() => {
                self.host_staff(&assignee).await?
            }
            // An applicant's step that is no information request (a student's offer to accept).
            EventType::TaskOpened | EventType::TaskReassigned
                if assignee == Assignee::Applicant =>
            {
                self.applicants(app).await?
            }
            EventType::TaskOpened | EventType::TaskReassigned => {
                let Some(agency) = assignee.agency().map(str::to_owned) else {
                    return Ok(());
                };
                if self
                    .held_for_digest(app, wf, e, event_type, &agency)
                    .await?
                {
                    return Ok(());
                }
                self.agency_inbox(&agency).await?
            }
            EventType::InformationRequested
            | EventType::ApplicationCompleted
            | EventType::ApplicationWithdrawn => self.applicants(app).await?,
            EventType::TaskOverdue => {
                let task = e.payload.get("task").and_then(Value::as_i64).unwrap_or(0) as i32;
                match self.store.task_assignee(app.id, task).await? {
                    Some(Assignee::Agency(agency)) => {
                        assignee = Assignee::Agency(agency.clone());
                        self.people_of(&Membership::Agency(agency.to_string()), &[Role::Lead])
                            .await?
                    }
                    _ => self.applicants(app).await?,
                }
            }
            // A place's change reaches people through the task it opens (the offer to accept).
            EventType::ApplicationSubmitted
            | EventType::TaskCompleted
            | EventType::PlaceChanged => return Ok(()),
        };
        for (to, lang) in recipients {
            let about = self.about(app, wf, e, &assignee, lang).await?;
            let Some(letter) = letter_for(event_type, about, wf, e, lang) else {
                continue;
            };
            let written = letters::write(&letter, lang);
            let m = Message::email(
                to,
                lang.tag(),
                event_type.as_str(),
                written.subject,
                written.text,
                Some(written.html),
            );
            self.out.push(NewNotification::pending(
                m.about(app.id, e.seq, None),
                self.store.now(),
            ));
        }
        Ok(())
    }

    /// A task opened for an agency that takes a daily digest at its inbox address: held for
    /// the digest (its subject, and as body its page); `true` when so.
    async fn held_for_digest(
        &mut self,
        app: &ApplicationRecord,
        wf: &Workflow,
        e: &EventRecord,
        event_type: EventType,
        agency: &str,
    ) -> softland_store::Result<bool> {
        let Some(a) = self.agency(agency).await? else {
            return Ok(false);
        };
        let Some(inbox) = a.inbox_email.clone().filter(|_| a.digest) else {
            return Ok(false);
        };
        let lang = lang_of(a.language.as_deref());
        let about = self
            .about(app, wf, e, &Assignee::Agency(agency.into()), lang)
            .await?;
        let m = Message::email(
            inbox,
            lang.tag(),
            event_type.as_str(),
            format!("{} — {}", about.step, about.application),
            about.link,
            None,
        );
        self.out.push(NewNotification {
            message: m.about(app.id, e.seq, None),
            status: NotificationStatus::Held,
            send_at: next_digest(self.store.now()),
        });
        Ok(true)
    }

    /// Who applied: the firm's staff, or the student applying for themselves.
    async fn applicants(
        &mut self,
        app: &ApplicationRecord,
    ) -> softland_store::Result<Vec<(String, Lang)>> {
        use softland_store::directory::STUDENT_SCOPE;
        let Some(student) = app.organization.strip_prefix(STUDENT_SCOPE) else {
            let firm = Membership::Organization(app.organization.clone());
            return self.people_of(&firm, &[Role::Staff, Role::Lead]).await;
        };
        Ok(self
            .store
            .person(student)
            .await?
            .filter(|p| p.active && p.has(Role::Student))
            .and_then(|p| {
                let lang = lang_of(p.language.as_deref());
                p.email.map(|e| (e, lang))
            })
            .into_iter()
            .collect())
    }

    /// The staff of the firm hosting an application (a `host:FIRM` assignee).
    async fn host_staff(
        &mut self,
        assignee: &Assignee,
    ) -> softland_store::Result<Vec<(String, Lang)>> {
        match assignee.host_firm() {
            Some(firm) => {
                let firm = Membership::Organization(firm.to_owned());
                self.people_of(&firm, &[Role::Staff, Role::Lead]).await
            }
            None => Ok(Vec::new()),
        }
    }

    async fn reminder(
        &mut self,
        app: &ApplicationRecord,
        wf: &Workflow,
        e: &EventRecord,
        remind_at: DateTime<Utc>,
    ) -> softland_store::Result<()> {
        let task = e.payload.get("task").and_then(Value::as_i64).unwrap_or(0) as i32;
        let assignee = e.assignee().unwrap_or(Assignee::Applicant);
        let recipients = match &assignee {
            Assignee::Agency(agency) => self.agency_inbox(agency).await?,
            Assignee::Applicant => self.applicants(app).await?,
            Assignee::Host(_) => self.host_staff(&assignee).await?,
        };
        for (to, lang) in recipients {
            let about = self.about(app, wf, e, &assignee, lang).await?;
            let w = letters::write(&Letter::Reminder(about), lang);
            let m = Message::email(
                to,
                lang.tag(),
                "task.reminder",
                w.subject,
                w.text,
                Some(w.html),
            );
            self.out.push(NewNotification::pending(
                m.about(app.id, e.seq, Some(task)),
                remind_at,
            ));
        }
        Ok(())
    }

    async fn agency(&mut self, key: &str) -> softland_store::Result<Option<Agency>> {
        if !self.agencies.contains_key(key) {
            let a = self.store.agency(key).await?;
            self.agencies.insert(key.to_owned(), a);
        }
        Ok(self.agencies.get(key).cloned().flatten())
    }

    /// One organization, read once a pass (every recipient's letter names it).
    async fn organization(&mut self, key: &str) -> softland_store::Result<Option<Organization>> {
        if !self.organizations.contains_key(key) {
            let o = self.store.organization(key).await?;
            self.organizations.insert(key.to_owned(), o);
        }
        Ok(self.organizations.get(key).cloned().flatten())
    }

    /// An agency's inbox address in its language, else its reviewers and leads in theirs.
    async fn agency_inbox(&mut self, key: &str) -> softland_store::Result<Vec<(String, Lang)>> {
        let Some(a) = self.agency(key).await? else {
            return Ok(Vec::new());
        };
        if let Some(inbox) = &a.inbox_email {
            return Ok(vec![(inbox.clone(), lang_of(a.language.as_deref()))]);
        }
        let fallback = a.language.clone();
        let mut out = self
            .people_of(
                &Membership::Agency(key.to_owned()),
                &[Role::Reviewer, Role::Lead],
            )
            .await?;
        for (_, lang) in &mut out {
            if *lang == Lang::En {
                *lang = lang_of(fallback.as_deref());
            }
        }
        Ok(out)
    }

    /// The active people of `m` holding one of `roles`, with an e-mail address, each in their
    /// language (else their organization's).
    async fn people_of(
        &mut self,
        m: &Membership,
        roles: &[Role],
    ) -> softland_store::Result<Vec<(String, Lang)>> {
        let label = m.label();
        if !self.people.contains_key(&label) {
            let p = self.store.people(Some(m)).await?;
            self.people.insert(label.clone(), p);
        }
        let fallback = match m {
            Membership::Organization(o) => self.organization(o).await?.and_then(|o| o.language),
            _ => None,
        };
        Ok(self.people[&label]
            .iter()
            .filter(|p| p.active && !p.service && roles.iter().any(|r| p.has(*r)))
            .filter_map(|p| {
                let lang = p.language.as_deref().or(fallback.as_deref());
                p.email.clone().map(|e| (e, lang_of(lang)))
            })
            .collect())
    }

    async fn about(
        &mut self,
        app: &ApplicationRecord,
        wf: &Workflow,
        e: &EventRecord,
        assignee: &Assignee,
        lang: Lang,
    ) -> softland_store::Result<About> {
        let firm = self
            .organization(&app.organization)
            .await?
            .map(|o| {
                match lang {
                    Lang::ZhHant => o.name_zh_hant,
                    Lang::ZhHans => o.name_zh_hans,
                    Lang::En => None,
                }
                .unwrap_or(o.name)
            })
            .unwrap_or_else(|| app.organization.clone());
        let step = e
            .state
            .as_deref()
            .and_then(|s| wf.state_named(s))
            .map(|s| s.title().get(lang).to_owned())
            .unwrap_or_default();
        let agency = match assignee.agency() {
            Some(key) => self.agency(key).await?,
            None => None,
        };
        let assignee = match agency {
            Some(a) => match lang {
                Lang::ZhHant => a.name_zh_hant,
                Lang::ZhHans => a.name_zh_hans,
                Lang::En => None,
            }
            .unwrap_or(a.name),
            None => firm.clone(),
        };
        let reference = self
            .store
            .application_reference(app)
            .await
            .unwrap_or_else(|_| app.id.simple().to_string().chars().take(8).collect());
        Ok(About {
            application: format!("{} — {firm} ({reference})", wf.title().get(lang)),
            step,
            assignee,
            due: payload_time(e, "due_at"),
            link: self.link(app),
        })
    }
}
