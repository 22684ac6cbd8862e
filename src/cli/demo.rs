//! `softland demo`: a newcomer's first five minutes, over real HTTP.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use softland_gateway::Settings;
use softland_store::{KeyRole, Store};

use super::bundled::{SZ_TO_HK_EXAMPLE, Workflows};
use super::db::runtime;
use super::service::Service;

struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    async fn gql(&self, token: &str, query: &str, variables: Value) -> anyhow::Result<Value> {
        let resp: Value = self
            .http
            .post(&self.url)
            .bearer_auth(token)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await?
            .json()
            .await?;
        Ok(resp)
    }

    /// Uploads `bytes` as `filename` (a GraphQL multipart request); the document's fields.
    async fn upload(
        &self,
        token: &str,
        filename: &str,
        bytes: &'static [u8],
    ) -> anyhow::Result<Value> {
        let operations = json!({
            "query": "mutation($f: Upload!) { uploadDocument(file: $f) { id filename sha256 size } }",
            "variables": {"f": null}
        });
        let form = reqwest::multipart::Form::new()
            .text("operations", operations.to_string())
            .text("map", json!({"0": ["variables.f"]}).to_string())
            .part(
                "0",
                reqwest::multipart::Part::bytes(bytes)
                    .file_name(filename.to_owned())
                    .mime_str("application/pdf")?,
            );
        let resp: Value = self
            .http
            .post(&self.url)
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await?
            .json()
            .await?;
        if !resp["errors"].is_null() {
            bail!("GraphQL error: {}", resp["errors"]);
        }
        Ok(resp["data"]["uploadDocument"].clone())
    }

    async fn ok(&self, token: &str, query: &str, variables: Value) -> anyhow::Result<Value> {
        let resp = self.gql(token, query, variables).await?;
        if !resp["errors"].is_null() {
            bail!("GraphQL error: {}", resp["errors"]);
        }
        Ok(resp["data"].clone())
    }
}

const APP_FIELDS: &str =
    "id status outcome revision activeStates openTasks { id state title assignee }";

fn show(app: &Value) {
    let states: Vec<&str> = app["activeStates"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    println!("     now in: {}", states.join(", "));
    for t in app["openTasks"].as_array().into_iter().flatten() {
        println!(
            "     open task: {} — for {}",
            t["title"].as_str().unwrap_or("?"),
            t["assignee"].as_str().unwrap_or("?")
        );
    }
    if let Some(o) = app["outcome"].as_str() {
        println!("     outcome: {o}");
    }
}

fn task_of(app: &Value, state: &str, assignee: &str) -> anyhow::Result<String> {
    app["openTasks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["state"] == state && t["assignee"] == assignee)
        .and_then(|t| t["id"].as_str().map(str::to_owned))
        .with_context(|| format!("no open `{state}` task for {assignee}"))
}

/// The demo's temporary folder, removed however the demo ends (success, error, Ctrl-C).
struct TempFolder(PathBuf);

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(super) fn run(workflows: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let workflows = Workflows::resolve(workflows)?;
    let folder =
        TempFolder(std::env::temp_dir().join(format!("softland-demo-{}", std::process::id())));
    std::fs::create_dir_all(&folder.0)?;
    let result = runtime()?.block_on(async {
        tokio::select! {
            done = tour(&workflows, &folder.0) => done,
            _ = tokio::signal::ctrl_c() => bail!("interrupted"),
        }
    });
    drop(folder);
    result
}

async fn tour(workflows: &Workflows, dir: &Path) -> anyhow::Result<ExitCode> {
    {
        let url = format!("sqlite://{}?mode=rwc", dir.join("demo.db").display());
        let store = Store::open(&url).await?;
        println!(
            "1. softland starts with a temporary database ({})",
            dir.join("demo.db").display()
        );
        for (_, p) in workflows
            .publish(&store, "demo")
            .await
            .with_context(|| format!("cannot load {}", workflows.describe()))?
        {
            println!(
                "   published workflow {} v{}: {}",
                p.definition.key, p.definition.version, p.definition.title
            );
        }
        // The same service `softland serve` starts: gateway, scheduler, outbox relay.
        let settings = Settings {
            listen: "127.0.0.1:0".parse()?,
            workflows_dir: workflows.folder(),
            documents: softland_documents::StorageConfig::Folder(dir.join("documents")),
            ..Settings::default()
        };
        let service = Service::start(
            &store,
            settings,
            Duration::from_secs(1),
            format!("demo-{}", std::process::id()),
            &super::notify::NotifyArgs::default().settings()?,
            None,
        )
        .await?;
        let addr = service.addr();
        let c = Client {
            http: reqwest::Client::new(),
            url: format!("http://{addr}/graphql"),
        };
        println!("   listening on http://{addr}/graphql\n");

        println!("2. API keys, one per person (tokens are stored hashed):");
        let key = |label: &'static str, role: KeyRole| {
            let store = store.clone();
            async move { store.create_key(label, role).await.map(|(_, t)| t) }
        };
        let firm = key(
            "li.wei",
            KeyRole::Applicant {
                organization: "pengcheng-pay".into(),
            },
        )
        .await?;
        let mut reviewers = std::collections::HashMap::new();
        for (name, agency) in [
            ("chen", "ofds"),
            ("wang", "ofds"),
            ("amy", "investhk"),
            ("carl", "investhk"),
            ("ben", "hkstp"),
            ("dora", "hkma"),
        ] {
            let role = KeyRole::Reviewer {
                agency: agency.into(),
            };
            reviewers.insert(name, key(name, role).await?);
        }
        println!(
            "   firm pengcheng-pay (li.wei); reviewers chen and wang (OFDS), amy and carl (InvestHK), ben (HKSTP), dora (HKMA)\n"
        );

        let mut data: Value = serde_json::from_str(SZ_TO_HK_EXAMPLE)?;
        let certificate = c
            .upload(
                &firm,
                "certificate-of-incorporation.pdf",
                super::bundled::SAMPLE_PDF,
            )
            .await?;
        println!(
            "3. Pengcheng Pay uploads its certificate of incorporation ({}, {} bytes, SHA-256 {}…)",
            certificate["filename"].as_str().unwrap_or("?"),
            certificate["size"],
            &certificate["sha256"]
                .as_str()
                .unwrap_or("?")
                .chars()
                .take(12)
                .collect::<String>()
        );
        data["company"]["certificate_of_incorporation"] = certificate["id"].clone();
        println!("   and submits a Shenzhen → Hong Kong soft-landing application naming it");
        let d = c
            .ok(&firm, &format!("mutation($d: JSON!) {{ submitApplication(input: {{workflowKey: \"soft-landing-sz-to-hk\", data: $d, idempotencyKey: \"demo-1\"}}) {{ {APP_FIELDS} }} }}"), json!({"d": data}))
            .await?;
        let mut app = d["submitApplication"].clone();
        println!("   application {}", app["id"].as_str().unwrap_or("?"));
        show(&app);

        let act = format!(
            "mutation($t: ID!, $a: String!, $d: JSON, $c: String) {{ act(input: {{taskId: $t, action: $a, data: $d, comment: $c}}) {{ {APP_FIELDS} }} }}"
        );
        let steps: [(&str, &str, &str, &str, &str, Value); 11] = [
            (
                "OFDS (chen) nominates the firm",
                "ofds_nomination",
                "ofds",
                "chen",
                "nominate",
                Value::Null,
            ),
            (
                "InvestHK (amy) asks for more information",
                "eligibility_screening",
                "investhk",
                "amy",
                "request_info",
                json!({"question": "Please send the audited accounts for FY2025."}),
            ),
            (
                "The firm answers",
                "eligibility_information",
                softland_workflow::Assignee::Applicant.key(),
                "firm",
                "answer",
                json!({"answer": "Audited accounts attached."}),
            ),
            (
                "InvestHK (amy) finds the firm eligible: HKSTP and InvestHK now review in parallel",
                "eligibility_screening",
                "investhk",
                "amy",
                "eligible",
                Value::Null,
            ),
            (
                "HKSTP (ben) admits the firm to incubation",
                "hkstp_review",
                "hkstp",
                "ben",
                "admit",
                Value::Null,
            ),
            (
                "InvestHK (amy) tries to clear the set-up plan herself",
                "investhk_setup_review",
                "investhk",
                "amy",
                "clear",
                Value::Null,
            ),
            (
                "InvestHK (carl) clears the set-up plan: the branches join; a stored-value licence sends the firm to the HKMA",
                "investhk_setup_review",
                "investhk",
                "carl",
                "clear",
                Value::Null,
            ),
            (
                "HKMA (dora) admits the firm to the Fintech Supervisory Sandbox",
                "hkma_sandbox_referral",
                "hkma",
                "dora",
                "admit_to_sandbox",
                Value::Null,
            ),
            (
                "Joint decision: InvestHK (amy) approves",
                "joint_decision",
                "investhk",
                "amy",
                "approve",
                Value::Null,
            ),
            (
                "Joint decision: OFDS (chen) tries to approve — but he nominated the firm",
                "joint_decision",
                "ofds",
                "chen",
                "approve",
                Value::Null,
            ),
            (
                "Joint decision: OFDS (wang) approves — 2 of 3 is enough",
                "joint_decision",
                "ofds",
                "wang",
                "approve",
                Value::Null,
            ),
        ];
        for (n, (what, state, assignee, who, action, input)) in steps.into_iter().enumerate() {
            println!("\n{}. {what}", n + 4);
            let token = reviewers.get(who).unwrap_or(&firm);
            let resp = c
                .gql(
                    token,
                    &act,
                    json!({"t": task_of(&app, state, assignee)?, "a": action, "d": input}),
                )
                .await?;
            if let Some(err) = resp["errors"].get(0) {
                println!(
                    "   refused ({}): {}",
                    err["extensions"]["code"].as_str().unwrap_or("?"),
                    err["message"].as_str().unwrap_or("?")
                );
                continue;
            }
            app = resp["data"]["act"].clone();
            show(&app);
        }

        let h = c.ok(&firm, "query($id: ID!) { application(id: $id) { history { seq kind actor state action } } }", json!({"id": app["id"]})).await?;
        let history = h["application"]["history"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        println!(
            "\n15. The audit log has {} hash-chained events; the last ones:",
            history.len()
        );
        for e in history.iter().rev().take(5).rev() {
            println!(
                "     #{} {} {} {}",
                e["seq"],
                e["kind"].as_str().unwrap_or(""),
                e["state"].as_str().unwrap_or(""),
                e["actor"].as_str().unwrap_or("")
            );
        }
        let report = store.doctor().await?;
        println!(
            "    softland doctor: {} application(s), {} events, {} problem(s)",
            report.applications,
            report.events,
            report.problems.len()
        );
        service.stop().await?;
        store.close().await?;
        if app["outcome"] != "approved" || !report.problems.is_empty() {
            bail!("the demo did not end as expected");
        }
        println!("\nDone: the application was approved. Run `softland serve` to start for real.");
        Ok(ExitCode::SUCCESS)
    }
}
