//! What the application page asks the API, and the answer's shape.

use super::*;

pub(super) const APPLICATION: &str = r#"query($id: ID!, $agency: String, $reviewer: Boolean!) {
  me { role name }
  agencies { key name nameZhHant nameZhHans }
  unattachedDocuments { id filename }
  colleagues: people(agency: $agency) @include(if: $reviewer) { id displayName roles active }
  application(id: $id) {
    id reference workflowKey workflowVersion organizationName status outcomeTitle revision submittedAt data
    mayWithdraw mayNote
    activeStates
    waitingOnFirm { stateTitle since remainingBusinessDays }
    currentStates { title }
    documents { id filename mediaType size url }
    openTasks {
      id title assignee dueAt overdue claimedBy barredBy holderBarred
      allowed { act claimable claim release handOver }
      actions { name title inputSchema barredBy }
    }
    history {
      kind actor party state action stateTitle actionTitle comment input note at placeChange
      actorPerson { displayName }
    }
  }
}"#;

pub(super) const WORKFLOW: &str = r#"query($key: String!, $version: Int) {
  workflow(key: $key, version: $version) {
    title applicationSchema states { name title kind assignees parallel branch actions { name inputSchema } }
  }
}"#;

#[derive(Deserialize)]
pub(super) struct Answer {
    pub(super) me: Me,
    pub(super) agencies: Vec<Agency>,
    #[serde(default)]
    pub(super) colleagues: Vec<Colleague>,
    #[serde(default, rename = "unattachedDocuments")]
    pub(super) unattached: Vec<crate::pages::applications::Unattached>,
    pub(super) application: Option<Application>,
}

/// A person of the caller's agency, to delegate a task to.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub(super) struct Colleague {
    pub(super) id: String,
    pub(super) display_name: String,
    pub(super) roles: Vec<String>,
    pub(super) active: bool,
}

#[derive(Deserialize)]
pub(super) struct Me {
    pub(super) role: String,
    pub(super) name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Application {
    pub(super) id: String,
    pub(super) workflow_key: String,
    pub(super) workflow_version: i64,
    pub(super) reference: String,
    pub(super) organization_name: String,
    pub(super) status: String,
    pub(super) outcome_title: Option<String>,
    pub(super) revision: i64,
    pub(super) submitted_at: DateTime<Utc>,
    pub(super) data: Value,
    pub(super) active_states: Vec<String>,
    pub(super) current_states: Vec<Title>,
    pub(super) documents: Vec<DocumentLink>,
    pub(super) open_tasks: Vec<Task>,
    pub(super) history: Vec<Event>,
    pub(super) may_withdraw: bool,
    pub(super) may_note: bool,
    #[serde(default)]
    pub(super) waiting_on_firm: Vec<Waiting>,
}

/// An agency step whose clock is paused while the firm answers.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub(super) struct Waiting {
    pub(super) state_title: Option<String>,
    pub(super) since: DateTime<Utc>,
    pub(super) remaining_business_days: Option<i64>,
}

impl Waiting {
    /// In the reader's words: the step, since when, and the working days left.
    pub(super) fn said(&self, t: &Text) -> String {
        let step = self.state_title.as_deref().unwrap_or_default();
        let since = crate::i18n::hk_time(&self.since, t);
        match self.remaining_business_days {
            Some(days) => t
                .waiting_clock
                .replace("{step}", step)
                .replace("{since}", &since)
                .replace("{days}", &days.to_string()),
            None => t
                .waiting_clock_time
                .replace("{step}", step)
                .replace("{since}", &since),
        }
    }
}

/// A document linked to the application.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub(super) struct DocumentLink {
    pub(super) id: String,
    pub(super) filename: String,
    pub(super) media_type: String,
    pub(super) size: i64,
    pub(super) url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Task {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) assignee: String,
    pub(super) due_at: Option<DateTime<Utc>>,
    pub(super) overdue: bool,
    pub(super) claimed_by: Option<String>,
    #[serde(default)]
    pub(super) barred_by: Option<String>,
    #[serde(default)]
    pub(super) holder_barred: bool,
    pub(super) allowed: Allowed,
    pub(super) actions: Vec<Action>,
}

/// What the viewer may do with a task: the API's answer (the policy's), not the page's.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub(super) struct Allowed {
    pub(super) act: bool,
    pub(super) claimable: bool,
    pub(super) claim: bool,
    pub(super) release: bool,
    pub(super) hand_over: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Action {
    pub(super) name: String,
    pub(super) title: String,
    pub(super) input_schema: Option<Value>,
    #[serde(default)]
    pub(super) barred_by: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Event {
    pub(super) kind: String,
    pub(super) state: Option<String>,
    pub(super) action: Option<String>,
    pub(super) actor: Option<String>,
    pub(super) party: Option<String>,
    pub(super) state_title: Option<String>,
    pub(super) action_title: Option<String>,
    pub(super) comment: Option<String>,
    pub(super) input: Option<Value>,
    pub(super) note: Option<String>,
    pub(super) at: DateTime<Utc>,
    pub(super) actor_person: Option<ActorPerson>,
    #[serde(default)]
    pub(super) place_change: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ActorPerson {
    pub(super) display_name: String,
}

#[derive(Deserialize)]
pub(super) struct WorkflowAnswer {
    pub(super) workflow: Option<Workflow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Workflow {
    pub(super) title: String,
    pub(super) application_schema: Value,
    pub(super) states: Vec<StateInfo>,
}
