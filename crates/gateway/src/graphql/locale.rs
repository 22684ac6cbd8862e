//! Labels in three languages. Every field that shows a label the workflow defines (workflow
//! title and description, state, task and action titles, outcomes) takes a `locale`
//! argument; without one it answers in the request's language — the first of
//! `Accept-Language` that softland has — and in English when there is none. A definition that
//! gives no translation answers in English. Error messages stay English: their codes are the
//! contract (docs/errors.md).

use async_graphql::{Context, InputValueError, InputValueResult, Scalar, ScalarType, Value};
use softland_workflow::Lang;

/// The language of a request, from its `Accept-Language` header.
#[derive(Debug, Clone, Copy)]
pub struct RequestLang(pub Lang);

impl RequestLang {
    /// The first language of an `Accept-Language` value (by quality) that softland has.
    pub fn from_header(accept_language: Option<&str>) -> Self {
        RequestLang(
            accept_language
                .map(accept_language::parse)
                .unwrap_or_default()
                .iter()
                .find_map(|tag| Lang::from_tag(tag))
                .unwrap_or_default(),
        )
    }
}

/// A language tag: `en`, `zh-Hant` or `zh-Hans` (and tags that mean one of them, such as
/// `zh-HK` or `zh-CN`).
#[derive(Debug, Clone, Copy)]
pub struct Locale(pub Lang);

/// Longer than any tag softland understands.
const MAX_TAG: usize = 35;

#[Scalar(name = "Locale")]
impl ScalarType for Locale {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(tag) = &value else {
            return Err(InputValueError::expected_type(value));
        };
        (tag.len() <= MAX_TAG)
            .then(|| Lang::from_tag(tag))
            .flatten()
            .map(Locale)
            .ok_or_else(|| {
                InputValueError::custom(
                    "softland has labels in `en`, `zh-Hant` and `zh-Hans` (or tags such as `zh-HK`, `zh-CN`)",
                )
            })
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.tag().to_owned())
    }
}

/// The language a label field answers in: its argument, else the request's, else English.
pub(crate) fn lang(ctx: &Context<'_>, locale: Option<Locale>) -> Lang {
    locale
        .map(|l| l.0)
        .or_else(|| ctx.data_opt::<RequestLang>().map(|r| r.0))
        .unwrap_or_default()
}

/// A label in the language asked (see [`lang`]), or `fallback` when the definition says none.
pub(crate) fn titled(
    ctx: &Context<'_>,
    locale: Option<Locale>,
    titles: Option<&softland_workflow::Text>,
    fallback: &str,
) -> String {
    let lang = lang(ctx, locale);
    titles.map_or_else(|| fallback.to_owned(), |t| t.get(lang).to_owned())
}

/// The titles of state `state` of workflow `key` version `version`, if it still has it.
pub(crate) async fn step_titles(
    store: &softland_store::Store,
    key: &str,
    version: i32,
    state: &str,
) -> Option<softland_workflow::Text> {
    let wf = store.workflow(key, version).await.ok()?;
    wf.state_named(state).map(|s| s.title().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_language_softland_has_wins() {
        for (header, lang) in [
            (Some("zh-HK,zh;q=0.9,en;q=0.8"), Lang::ZhHant),
            (Some("fr-FR, zh-CN;q=0.5, en;q=0.4"), Lang::ZhHans),
            (Some("en;q=0.2, zh-TW;q=0.9"), Lang::ZhHant),
            (Some("fr, de"), Lang::En),
            (Some(""), Lang::En),
            (None, Lang::En),
        ] {
            assert_eq!(RequestLang::from_header(header).0, lang, "{header:?}");
        }
    }
}
