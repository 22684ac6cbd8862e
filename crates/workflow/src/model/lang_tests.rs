use super::*;

#[test]
fn tags_map_to_the_three_languages() {
    for (tag, lang) in [
        ("en", Some(Lang::En)),
        ("en-GB", Some(Lang::En)),
        ("zh-Hant", Some(Lang::ZhHant)),
        ("zh-hant-hk", Some(Lang::ZhHant)),
        ("zh-HK", Some(Lang::ZhHant)),
        ("zh_TW", Some(Lang::ZhHant)),
        ("zh-MO", Some(Lang::ZhHant)),
        ("zh-Hans", Some(Lang::ZhHans)),
        ("zh-CN", Some(Lang::ZhHans)),
        ("zh", Some(Lang::ZhHans)),
        ("zh-Hans-HK", Some(Lang::ZhHans)),
        ("fr", None),
        ("", None),
    ] {
        assert_eq!(Lang::from_tag(tag), lang, "{tag}");
    }
}

#[test]
fn untranslated_text_falls_back_to_english() {
    let t = Text {
        en: "Review".into(),
        zh_hant: Some("審核".into()),
        zh_hans: None,
    };
    assert_eq!(t.get(Lang::ZhHant), "審核");
    assert_eq!(t.get(Lang::ZhHans), "Review");
    assert_eq!(t.get(Lang::En), "Review");
}
