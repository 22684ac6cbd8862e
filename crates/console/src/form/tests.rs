//! The form generator's tests.

use super::*;
use serde_json::json;

fn schema() -> Value {
    json!({
        "type": "object",
        "required": ["company", "licensing"],
        "properties": {
            "company": {
                "type": "object",
                "required": ["name_en", "district"],
                "properties": {
                    "name_en": {"type": "string", "title": "English name", "x-title": {"zh-Hant": "英文名稱"}},
                    "district": {"type": "string", "enum": ["futian", "nanshan"]},
                    "incorporated_on": {"type": "string", "format": "date"},
                    "staff": {"type": "integer"},
                    "listed": {"type": "boolean"}
                }
            },
            "licensing": {
                "type": "object",
                "properties": {
                    "activities": {"type": "array", "items": {"type": "string", "enum": ["virtual_bank", "money_lending"]}},
                    "licences": {"type": "array", "items": {"type": "string"}}
                }
            },
            "website": {"type": "object", "properties": {"url": {"type": "string", "format": "uri"}}}
        }
    })
}

fn inputs(rows: &[Row]) -> Vec<&Input> {
    rows.iter().filter_map(|r| r.input.as_ref()).collect()
}

#[test]
fn objects_become_sections_and_leaves_controls_of_their_type() {
    let mut errors = Errors::default();
    let rows = rows(&schema(), &json!({}), &mut errors, Lang::En);
    let legends: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.open.as_ref().map(|s| s.legend.as_str()))
        .collect();
    assert_eq!(legends, ["Company", "Licensing", "Website"]);
    assert_eq!(rows.iter().filter(|r| r.close).count(), 3);
    let kinds: Vec<(&str, &str, bool)> = inputs(&rows)
        .iter()
        .map(|i| (i.name.as_str(), i.kind, i.required))
        .collect();
    assert_eq!(
        kinds,
        [
            ("/company/name_en", "text", true),
            ("/company/district", "select", true),
            ("/company/incorporated_on", "date", false),
            ("/company/listed", "checkbox", false),
            ("/company/staff", "integer", false),
            ("/licensing/activities", "checkboxes", false),
            ("/licensing/licences[]", "list", false),
            ("/website/url", "url", false),
        ]
    );
    let name = inputs(&rows)[0];
    assert_eq!(name.label, "English name");
    let district = inputs(&rows)[1];
    let labels: Vec<&str> = district.options.iter().map(|o| o.label.as_str()).collect();
    assert_eq!(labels, ["Futian", "Nanshan"]);
}

#[test]
fn labels_follow_the_language() {
    let mut errors = Errors::default();
    let rows = rows(&schema(), &json!({}), &mut errors, Lang::ZhHant);
    assert_eq!(inputs(&rows)[0].label, "英文名稱");
    // No translation: the English title.
    let rows2 = super::rows(&schema(), &json!({}), &mut errors, Lang::ZhHans);
    assert_eq!(inputs(&rows2)[0].label, "English name");
}

#[test]
fn posted_fields_become_typed_json_and_round_trip_into_the_form() {
    let fields: Vec<(String, String)> = [
        ("/company/name_en", "Pengcheng Pay"),
        ("/company/district", "nanshan"),
        ("/company/incorporated_on", ""),
        ("/company/staff", "12"),
        ("/company/listed", "true"),
        ("/licensing/activities", "virtual_bank"),
        ("/licensing/activities", "money_lending"),
        ("/licensing/licences[]", "SVF-1"),
        ("/licensing/licences[]", " "),
        ("/website/url", ""),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    let data = decode(&schema(), &fields);
    assert_eq!(
        data,
        json!({
            "company": {"name_en": "Pengcheng Pay", "district": "nanshan", "staff": 12, "listed": true},
            "licensing": {"activities": ["virtual_bank", "money_lending"], "licences": ["SVF-1"]}
        })
    );
    let mut errors = Errors::default();
    let rows = rows(&schema(), &data, &mut errors, Lang::En);
    let shown = inputs(&rows);
    assert_eq!(shown[0].value, "Pengcheng Pay");
    assert!(
        shown[1]
            .options
            .iter()
            .any(|o| o.value == "nanshan" && o.selected)
    );
    assert_eq!(shown[3].value, "true");
    assert_eq!(shown[4].value, "12");
    assert!(shown[5].options.iter().all(|o| o.selected));
    assert_eq!(shown[6].values, ["SVF-1"]);
}

#[test]
fn a_number_that_does_not_parse_stays_text_for_the_api_to_refuse() {
    let fields = vec![("/company/staff".to_owned(), "twelve".to_owned())];
    let data = decode(&schema(), &fields);
    assert_eq!(data["company"]["staff"], json!("twelve"));
}

fn violation(path: &str, rule: &str, limit: Option<Value>, missing: Option<&str>) -> Violation {
    Violation {
        path: path.to_owned(),
        message: "the validator's English".to_owned(),
        missing: missing.map(str::to_owned),
        rule: rule.to_owned(),
        limit,
    }
}

#[test]
fn violations_land_at_their_controls_and_the_rest_above_the_form() {
    let mut errors = Errors::from_violations(&[
        violation("/company", "required", None, Some("name_en")),
        violation("/company/staff", "type", None, None),
        violation("/licensing/licences/0", "minLength", Some(json!(3)), None),
        violation("/nowhere", "additionalProperties", None, None),
    ]);
    let rows = rows(&schema(), &json!({}), &mut errors, Lang::En);
    let by_name: BTreeMap<&str, Option<&str>> = inputs(&rows)
        .iter()
        .map(|i| (i.name.as_str(), i.error.as_deref()))
        .collect();
    assert_eq!(
        by_name["/company/name_en"],
        Some("English name is required.")
    );
    assert_eq!(
        by_name["/company/staff"],
        Some("Staff has the wrong kind of value.")
    );
    assert_eq!(
        by_name["/licensing/licences[]"],
        Some("Licences needs at least 3 characters.")
    );
    assert_eq!(errors.general, ["Nowhere is not a field of this form."]);
}

#[test]
fn violations_read_in_the_readers_language_or_the_fields_own_words() {
    let code = json!({
        "type": "string", "title": "Unified social credit code",
        "x-title": {"zh-Hans": "统一社会信用代码"}, "pattern": "^[0-9A-Z]{18}$"
    });
    let v = violation("/company/uscc", "pattern", None, None);
    let said = say(&v, &code, &title(&code, Lang::ZhHans, "uscc"), Lang::ZhHans);
    assert_eq!(said, "“统一社会信用代码”的格式不正确，请按提示填写。");
    assert!(!said.contains('^'), "never the expression");
    let short = violation("/answer", "minLength", Some(json!(20)), None);
    assert_eq!(
        say(&short, &json!({}), "回覆", Lang::ZhHant),
        "「回覆」最少需要 20 個字元。"
    );
    let own = json!({"x-messages": {"en": "18 letters and digits, as on the business licence", "zh-Hans": "营业执照上的 18 位代码"}});
    assert_eq!(say(&v, &own, "x", Lang::ZhHans), "营业执照上的 18 位代码");
    assert_eq!(
        say(&v, &own, "x", Lang::ZhHant),
        "18 letters and digits, as on the business licence",
        "English when the field has no words in the reader's language"
    );
    let date = violation("/d", "format", Some(json!("date")), None);
    assert_eq!(
        say(&date, &json!({}), "Incorporated on", Lang::En),
        "Incorporated on must be a date (YYYY-MM-DD)."
    );
}

#[test]
fn a_form_reads_with_titles_and_choice_labels() {
    let data = json!({
        "company": {"name_en": "Pengcheng Pay", "district": "nanshan", "listed": false},
        "licensing": {"activities": ["virtual_bank"]},
        "extra": 3
    });
    let read = read(&schema(), &data, Lang::En);
    let lines: Vec<(usize, &str, Option<&str>)> = read
        .iter()
        .map(|r| (r.depth, r.label.as_str(), r.value.as_deref()))
        .collect();
    assert_eq!(
        lines,
        [
            (0, "Company", None),
            (1, "English name", Some("Pengcheng Pay")),
            (1, "District", Some("Nanshan")),
            (1, "Listed", Some("✗")),
            (0, "Licensing", None),
            (1, "Activities", Some("Virtual bank")),
            (0, "Extra", Some("3")),
        ]
    );
}

#[test]
fn document_fields_choose_among_the_callers_uploads() {
    let schema = json!({"type": "object", "properties": {
        "certificate": {"type": "string", "format": "softland-document"},
        "more": {"type": "array", "items": {"type": "string", "format": "softland-document"}}
    }});
    let uploads = [Choice {
        value: "d1".into(),
        label: "plan.pdf".into(),
        selected: false,
    }];
    let mut errors = Errors::default();
    let data = json!({"more": ["d0"]});
    let rows = rows_with_documents(&schema, &data, &mut errors, Lang::En, &uploads);
    let shown = inputs(&rows);
    assert_eq!(shown[0].kind, "select");
    let choices: Vec<(&str, &str, bool)> = shown[0]
        .options
        .iter()
        .map(|o| (o.value.as_str(), o.label.as_str(), o.selected))
        .collect();
    assert_eq!(choices, [("d1", "plan.pdf", false)]);
    // A list of documents: check boxes; one named already (attached) stays, ticked.
    assert_eq!(shown[1].kind, "checkboxes");
    let ticked: Vec<(&str, bool)> = shown[1]
        .options
        .iter()
        .map(|o| (o.value.as_str(), o.selected))
        .collect();
    assert_eq!(ticked, [("d1", false), ("d0", true)]);
    let posted = vec![
        ("/certificate".to_owned(), "d1".to_owned()),
        ("/more".to_owned(), "d1".to_owned()),
    ];
    assert_eq!(
        decode(&schema, &posted),
        json!({"certificate": "d1", "more": ["d1"]})
    );
}
