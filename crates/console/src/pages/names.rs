//! What agencies and firms are called in the reader's language.

use serde::Deserialize;
use softland_workflow::Lang;

use crate::i18n::Text;

/// A partner agency's names.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Agency {
    key: String,
    name: String,
    name_zh_hant: Option<String>,
    name_zh_hans: Option<String>,
}

impl Agency {
    /// Its key.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }
}

/// What an assignee or party (`hkstp`, `applicant`) is called in `lang`.
pub(crate) fn party_name(agencies: &[Agency], key: &str, lang: Lang, t: &Text) -> String {
    let key = match softland_workflow::Assignee::parse(key) {
        softland_workflow::Assignee::Agency(key) => key,
        softland_workflow::Assignee::Host(_) => return t.pos_host.to_owned(),
        softland_workflow::Assignee::Applicant => return t.applicant.to_owned(),
    };
    match agencies.iter().find(|a| a.key.as_str() == &*key) {
        Some(a) => super::in_lang(
            lang,
            &a.name,
            a.name_zh_hant.as_deref(),
            a.name_zh_hans.as_deref(),
        )
        .to_owned(),
        None => key.to_uppercase(),
    }
}
