//! What e-mail says, in English, Traditional Chinese and Simplified Chinese: one plain-text
//! and one HTML body (askama, so every value is escaped) per message.

use askama::Template;
use chrono::{DateTime, Utc};

pub use softland_workflow::Lang;

/// The language of a stored tag; English when there is none.
pub fn lang_of(tag: Option<&str>) -> Lang {
    tag.and_then(Lang::from_tag).unwrap_or_default()
}

trait Pick {
    fn pick(self, en: &'static str, hant: &'static str, hans: &'static str) -> &'static str;
}

impl Pick for Lang {
    fn pick(self, en: &'static str, hant: &'static str, hans: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::ZhHant => hant,
            Lang::ZhHans => hans,
        }
    }
}

/// What a message is about, in the recipient's language.
#[derive(Debug, Clone, Default)]
pub struct About {
    /// The application, as people name it (workflow title, firm, short reference).
    pub application: String,
    /// The step (state title).
    pub step: String,
    /// Who works the step (agency name, or the firm).
    pub assignee: String,
    /// When it falls due.
    pub due: Option<DateTime<Utc>>,
    /// The console page.
    pub link: String,
}

/// A message to write.
#[derive(Debug, Clone)]
pub enum Letter {
    /// A task opened for an agency.
    TaskOpened(About),
    /// An agency asked the firm for information.
    InformationRequested(About),
    /// A step of the applicant's that is not a request: an offer to accept, a place that came
    /// free.
    StepAwaits(About),
    /// A task falls due soon.
    Reminder(About),
    /// A task went past its due time.
    Overdue(About),
    /// The application reached its end (`outcome` as the workflow words it).
    Completed {
        /// The application.
        about: About,
        /// `approved`, `rejected`, …
        outcome: String,
    },
    /// The firm withdrew the application.
    Withdrawn(About),
    /// Tasks opened since the last digest.
    Digest {
        /// The agency.
        inbox: String,
        /// Each task (step and application) with its page.
        tasks: Vec<(String, String)>,
        /// The inbox page.
        link: String,
    },
    /// A webhook endpoint was disabled after failing.
    EndpointDisabled {
        /// Its URL.
        url: String,
        /// Why.
        reason: String,
        /// The console.
        link: String,
    },
}

/// A written message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The subject.
    pub subject: String,
    /// Plain text.
    pub text: String,
    /// HTML.
    pub html: String,
}

#[derive(Template)]
#[template(path = "letter.html")]
struct Html<'a> {
    lang: &'a str,
    subject: &'a str,
    lines: &'a [String],
    items: &'a [(String, String)],
    link: Option<(&'a str, &'a str)>,
    footer: &'a str,
}

/// Hong Kong time, with the zone named.
pub fn hong_kong_time(at: DateTime<Utc>, lang: Lang) -> String {
    let hkt = softland_workflow::HONG_KONG;
    let local = at.with_timezone(&hkt);
    let zone = lang.pick("Hong Kong time", "香港時間", "香港时间");
    format!("{} ({zone})", local.format("%Y-%m-%d %H:%M"))
}

/// A message's subject, paragraphs, listed links and button.
type Parts = (
    String,
    Vec<String>,
    Vec<(String, String)>,
    Option<(&'static str, String)>,
);

/// Writes `letter` in `lang`.
pub fn write(letter: &Letter, lang: Lang) -> Written {
    let l = lang;
    let due = |a: &About| {
        a.due.map(|d| {
            format!(
                "{} {}",
                l.pick("Due:", "限期：", "期限："),
                hong_kong_time(d, l)
            )
        })
    };
    let open = l.pick("Open in softland", "在 softland 開啟", "在 softland 打开");
    let (subject, mut lines, items, link): Parts = match letter {
        Letter::TaskOpened(a) => (
            format!("{}{}", l.pick("New task: ", "新工作：", "新任务："), a.step),
            vec![
                format!("{} {}", l.pick("A task is waiting for", "有一項工作等待", "有一项任务等待"), a.assignee),
                format!("{} {}", l.pick("Step:", "步驟：", "步骤："), a.step),
                format!("{} {}", l.pick("Application:", "申請：", "申请："), a.application),
            ],
            vec![],
            Some((open, a.link.clone())),
        ),
        Letter::InformationRequested(a) => (
            format!("{}{}", l.pick("Information requested: ", "要求補充資料：", "要求补充材料："), a.application),
            vec![
                l.pick(
                    "A reviewing agency has asked for more information about your application. Please read the question and answer it in softland.",
                    "審批機構要求就閣下的申請補充資料。請在 softland 閱讀問題並作答。",
                    "审批机构要求就您的申请补充材料。请在 softland 阅读问题并作答。",
                )
                .to_owned(),
                format!("{} {}", l.pick("Step:", "步驟：", "步骤："), a.step),
                format!("{} {}", l.pick("Application:", "申請：", "申请："), a.application),
            ],
            vec![],
            Some((open, a.link.clone())),
        ),
        Letter::StepAwaits(a) => (
            format!("{}{}", l.pick("Your next step: ", "閣下的下一步：", "您的下一步："), a.step),
            vec![
                l.pick(
                    "Your application has moved on, and its next step is yours. Please open it in softland.",
                    "閣下的申請已進入下一階段，下一步由閣下處理。請在 softland 開啟申請。",
                    "您的申请已进入下一阶段，下一步由您处理。请在 softland 打开申请。",
                )
                .to_owned(),
                format!("{} {}", l.pick("Step:", "步驟：", "步骤："), a.step),
                format!("{} {}", l.pick("Application:", "申請：", "申请："), a.application),
            ],
            vec![],
            Some((open, a.link.clone())),
        ),
        Letter::Reminder(a) => (
            format!("{}{}", l.pick("Reminder: due soon — ", "提示：即將到期 — ", "提醒：即将到期 — "), a.step),
            vec![
                l.pick(
                    "This task falls due soon and is still open.",
                    "此工作即將到期，仍未完成。",
                    "此任务即将到期，仍未完成。",
                )
                .to_owned(),
                format!("{} {}", l.pick("Step:", "步驟：", "步骤："), a.step),
                format!("{} {}", l.pick("Application:", "申請：", "申请："), a.application),
            ],
            vec![],
            Some((open, a.link.clone())),
        ),
        Letter::Overdue(a) => (
            format!("{}{}", l.pick("Overdue: ", "已逾期：", "已逾期："), a.step),
            vec![
                format!(
                    "{} {}",
                    l.pick("A task has passed its due time. Assigned to:", "一項工作已超過限期。負責：", "一项任务已超过期限。负责："),
                    a.assignee
                ),
                format!("{} {}", l.pick("Step:", "步驟：", "步骤："), a.step),
                format!("{} {}", l.pick("Application:", "申請：", "申请："), a.application),
            ],
            vec![],
            Some((open, a.link.clone())),
        ),
        Letter::Completed { about, outcome } => (
            format!("{}{}", l.pick("Application decided: ", "申請已有結果：", "申请已有结果："), about.application),
            vec![format!("{} {outcome}", l.pick("Outcome:", "結果：", "结果："))],
            vec![],
            Some((open, about.link.clone())),
        ),
        Letter::Withdrawn(a) => (
            format!("{}{}", l.pick("Application withdrawn: ", "申請已撤回：", "申请已撤回："), a.application),
            vec![l.pick("The application was withdrawn.", "申請已撤回。", "申请已撤回。").to_owned()],
            vec![],
            Some((open, a.link.clone())),
        ),
        Letter::Digest { inbox, tasks, link } => (
            format!("{}{} ({})", l.pick("Daily digest: ", "每日摘要：", "每日摘要："), inbox, tasks.len()),
            vec![l.pick("Tasks opened for your inbox since the last digest:", "自上次摘要以來新增的工作：", "自上次摘要以来新增的任务：").to_owned()],
            tasks.clone(),
            Some((l.pick("Open the inbox", "開啟工作箱", "打开任务箱"), link.clone())),
        ),
        Letter::EndpointDisabled { url, reason, link } => (
            l.pick("A webhook endpoint was disabled", "一個 webhook 端點已停用", "一个 webhook 端点已停用").to_owned(),
            vec![
                format!("{} {url}", l.pick("Endpoint:", "端點：", "端点：")),
                format!("{} {reason}", l.pick("Why:", "原因：", "原因：")),
                l.pick(
                    "Deliveries stopped. Fix the receiver, then enable the endpoint and redeliver what failed.",
                    "已停止傳送。修正接收端後，請重新啟用端點並重新傳送失敗的項目。",
                    "已停止发送。修复接收端后，请重新启用端点并重新发送失败的项目。",
                )
                .to_owned(),
            ],
            vec![],
            Some((open, link.clone())),
        ),
    };
    if let Letter::TaskOpened(a)
    | Letter::InformationRequested(a)
    | Letter::StepAwaits(a)
    | Letter::Reminder(a)
    | Letter::Overdue(a) = letter
        && let Some(d) = due(a)
    {
        lines.push(d);
    }
    let footer = l.pick(
        "You receive this because of your role in softland. Sign in to see the details.",
        "閣下因在 softland 的角色而收到此郵件。請登入查看詳情。",
        "您因在 softland 中的角色而收到此邮件。请登录查看详情。",
    );
    let mut text = format!("{subject}\n\n");
    for line in &lines {
        text.push_str(line);
        text.push_str("\n\n");
    }
    for (what, url) in &items {
        text.push_str(&format!("- {what}\n  {url}\n"));
    }
    if let Some((label, url)) = &link {
        text.push_str(&format!("{label}: {url}\n\n"));
    }
    text.push_str(footer);
    text.push('\n');
    let html = Html {
        lang: lang.tag(),
        subject: &subject,
        lines: &lines,
        items: &items,
        link: link.as_ref().map(|(a, b)| (*a, b.as_str())),
        footer,
    }
    .render()
    .unwrap_or_else(|_| text.clone());
    Written {
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_letter_is_written_in_each_language_and_escaped() {
        let about = About {
            application: "Acme <script>alert(1)</script>".to_owned(),
            step: "InvestHK review".to_owned(),
            assignee: "InvestHK".to_owned(),
            due: Some(DateTime::from_timestamp(1_800_000_000, 0).expect("time")),
            link: "https://softland.example/applications/1?a=1&b=2".to_owned(),
        };
        let w = write(&Letter::TaskOpened(about.clone()), Lang::En);
        assert_eq!(w.subject, "New task: InvestHK review");
        assert!(
            w.text
                .contains("https://softland.example/applications/1?a=1&b=2")
        );
        assert!(w.html.contains("&#60;script&#62;"), "{}", w.html);
        assert!(!w.html.contains("<script>"));
        assert!(w.text.contains("(Hong Kong time)"));
        let zh = write(&Letter::InformationRequested(about.clone()), Lang::ZhHant);
        assert!(zh.subject.starts_with("要求補充資料"), "{}", zh.subject);
        assert!(zh.html.contains("lang=\"zh-Hant\""));
        let hans = write(&Letter::Reminder(about), Lang::ZhHans);
        assert!(hans.subject.starts_with("提醒"), "{}", hans.subject);
        assert!(hans.text.contains("香港时间"));
    }
}
