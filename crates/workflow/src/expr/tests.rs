use super::*;
use serde_json::json;

fn form() -> Value {
    json!({"type": "object", "properties": {
        "staff": {"type": "integer"},
        "licences": {"type": "array", "items": {"type": "string"}},
        "company": {"type": "object", "properties": {"age_years": {"type": "number"}}}
    }})
}

#[test]
fn evaluates_over_form_data() {
    let c = Condition::compile(
        r#"data.staff >= 5 && "svf" in data.licences"#,
        Some(&form()),
    )
    .expect("compiles");
    assert_eq!(
        c.eval(&to_cel(&json!({"staff": 7, "licences": ["svf"]}))),
        Ok(true)
    );
    assert_eq!(
        c.eval(&to_cel(&json!({"staff": 2, "licences": ["svf"]}))),
        Ok(false)
    );
    let m = Condition::compile("data.licences.exists(l, l == 'vb')", Some(&form())).expect("macro");
    assert_eq!(m.eval(&to_cel(&json!({"licences": ["vb"]}))), Ok(true));
}

#[test]
fn rejects_unknown_fields_and_variables() {
    let errs = Condition::compile("data.company.agee > 1 || applicant.x", Some(&form()))
        .expect_err("two errors");
    assert!(
        matches!(&errs[0], ConditionError::UnknownField { path, known } if path == "data.company.agee" && known.contains(&"age_years".to_owned()))
    );
    assert!(matches!(&errs[1], ConditionError::UnknownVariable(v) if v == "applicant"));
}

#[test]
fn knows_which_fields_it_reads() {
    let c = Condition::compile(
        r#"data.staff > 1 && data.licences.exists(l, l == "x")"#,
        Some(&form()),
    )
    .expect("compiles");
    assert_eq!(
        c.fields(),
        Some(&["staff".to_owned(), "licences".to_owned()][..])
    );
    let whole = Condition::compile("size(data) > 0", Some(&form())).expect("compiles");
    assert_eq!(whole.fields(), None);
    let data = json!({"staff": 3, "licences": ["x"], "company": {"age_years": 2}});
    let pruned = to_cel_fields(&data, [c.fields()].into_iter());
    assert_eq!(c.eval(&pruned), Ok(true));
}

#[test]
fn syntax_errors_have_positions() {
    let errs = Condition::compile("data.staff >= ", Some(&form())).expect_err("syntax");
    assert!(matches!(errs[0], ConditionError::Syntax { line: 1, .. }));
}

#[test]
fn long_deep_and_quadratic_conditions_are_refused() {
    let chain = format!("{} > 0", vec!["1"; 8_000].join(" + "));
    let errs = Condition::compile(&chain, Some(&form())).expect_err("too many operators");
    assert!(
        matches!(&errs[0], ConditionError::TooComplex { .. }),
        "{errs:?}"
    );
    let long = format!("data.licences.exists(l, l == \"{}\")", "x".repeat(3_000));
    let errs = Condition::compile(&long, Some(&form())).expect_err("too long");
    assert!(
        matches!(&errs[0], ConditionError::TooComplex { column: 2001, message, .. } if message.contains("longer than")),
        "{errs:?}"
    );
    let ops = format!("{} > 0", vec!["1"; 200].join("+"));
    let errs = Condition::compile(&ops, Some(&form())).expect_err("too many operators");
    assert!(
        matches!(&errs[0], ConditionError::TooComplex { line: 1, column, message } if message.contains("operators") && *column > 100),
        "{errs:?}"
    );
    let deep = format!("{}1{} > 0", "(".repeat(40), ")".repeat(40));
    let errs = Condition::compile(&deep, Some(&form())).expect_err("too deep");
    assert!(
        matches!(&errs[0], ConditionError::TooComplex { column: 13, .. }),
        "{errs:?}"
    );
    let nested = "data.licences.exists(a, data.licences.exists(b, a == b))";
    let errs = Condition::compile(nested, Some(&form())).expect_err("quadratic");
    assert!(
        matches!(&errs[0], ConditionError::TooComplex { message, .. } if message.contains("inside")),
        "{errs:?}"
    );
    // operators inside strings do not count; the bounds leave room for real conditions
    let quoted = format!("data.licences.exists(l, l == \"{}\")", "+".repeat(500));
    assert!(Condition::compile(&quoted, Some(&form())).is_ok());
    let fine = vec!["data.staff > 1"; 30].join(" || ");
    assert!(Condition::compile(&fine, Some(&form())).is_ok());
}

#[test]
fn runtime_errors_are_reported() {
    let c = Condition::compile("data.staff > 1", Some(&form())).expect("compiles");
    assert!(c.eval(&to_cel(&json!({}))).is_err());
}

mod direct {
    use super::*;
    use proptest::prelude::*;

    /// Comparisons, memberships and folds of every kind the data below can hold — ones decided
    /// without CEL and ones left to it (doubles, arithmetic, functions, mixed kinds).
    const ATOMS: &[&str] = &[
        r#"data.s == "a""#,
        "data.s != 'b'",
        r#"data.s > "a""#,
        "data.n >= 1",
        "data.n < 2",
        "data.n < 2u",
        "data.n == 1.0",
        "data.n == null",
        "data.n + 1 > 2",
        "data.b",
        "!data.b",
        "data.b == true",
        r#"data.s in ["a", "b"]"#,
        "data.n in [1, 2]",
        "data.n in [null]",
        "data.b in [true]",
        r#"data.s in ["a", 1]"#,
        "has(data.o)",
        "has(data.o.s)",
        r#"data.o.s == "a""#,
        "data.o.n <= 0",
        r#"data.l.exists(x, x == "a")"#,
        r#"data.l.all(x, x in ["a", "b"])"#,
        "data.l.exists(x, x > 1)",
        "data.l.all(x, x != 2)",
        r#"data.l.exists(x, x == data.s)"#,
        "data.l.exists_one(x, x == 1)",
        "size(data.l) > 1",
        r#"data.s.startsWith("a")"#,
        "data.absent == 1",
        "data.s",
    ];

    fn condition() -> impl Strategy<Value = String> {
        let atom = proptest::sample::select(ATOMS).prop_map(str::to_owned);
        atom.prop_recursive(3, 12, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} && {b})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} || {b})")),
                inner.prop_map(|a| format!("!({a})")),
            ]
        })
    }

    fn scalar() -> impl Strategy<Value = Option<Value>> {
        prop_oneof![
            Just(None),
            Just(Some(Value::Null)),
            any::<bool>().prop_map(|b| Some(json!(b))),
            (-3i64..4).prop_map(|n| Some(json!(n))),
            Just(Some(json!(u64::MAX))),
            Just(Some(json!(1.0))),
            Just(Some(json!(1.5))),
            proptest::sample::select(vec!["", "a", "b", "qianhai"]).prop_map(|s| Some(json!(s))),
        ]
    }

    fn data() -> impl Strategy<Value = Value> {
        let list = proptest::collection::vec(scalar(), 0..4)
            .prop_map(|items| Value::Array(items.into_iter().flatten().collect()));
        (
            scalar(),
            scalar(),
            scalar(),
            prop_oneof![list.prop_map(Some), scalar()],
            prop_oneof![
                Just(None),
                (scalar(), scalar()).prop_map(|(s, n)| {
                    let mut o = serde_json::Map::new();
                    o.extend(s.map(|v| ("s".to_owned(), v)));
                    o.extend(n.map(|v| ("n".to_owned(), v)));
                    Some(Value::Object(o))
                }),
                scalar(),
            ],
        )
            .prop_map(|(s, n, b, l, o)| {
                let mut m = serde_json::Map::new();
                for (k, v) in [("s", s), ("n", n), ("b", b), ("l", l), ("o", o)] {
                    m.extend(v.map(|v| (k.to_owned(), v)));
                }
                Value::Object(m)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn what_is_decided_without_cel_is_what_cel_decides(source in condition(), data in data()) {
            let c = Condition::compile(&source, None).expect("compiles");
            if let Some(decided) = c.decide(&data) {
                prop_assert_eq!(c.eval(&to_cel(&data)), Ok(decided), "{} over {}", source, data);
            }
        }
    }

    #[test]
    fn the_bundled_conditions_are_decided_without_cel() {
        let cases = [
            (
                r#"data.licensing.regulated_activities.exists(a, a in ["stored_value_facility", "virtual_bank"])"#,
                json!({"licensing": {"regulated_activities": ["remittance", "virtual_bank"]}}),
                true,
            ),
            (
                r#"data.shenzhen_plan.zone == "qianhai""#,
                json!({"shenzhen_plan": {"zone": "futian"}}),
                false,
            ),
            (
                "data.student.hk_permanent_resident && data.student.year_of_study >= 2",
                json!({"student": {"hk_permanent_resident": true, "year_of_study": 3}}),
                true,
            ),
        ];
        for (source, data, holds) in cases {
            let c = Condition::compile(source, None).expect("compiles");
            assert_eq!(c.decide(&data), Some(holds), "{source}");
            assert_eq!(c.eval(&to_cel(&data)), Ok(holds), "{source}");
        }
    }

    #[test]
    fn what_cel_would_refuse_is_left_to_it() {
        let c = Condition::compile(r#"data.zone == "qianhai""#, None).expect("compiles");
        // a missing field is CEL's error to report; so is a comparison of two kinds
        assert_eq!(c.decide(&json!({})), None);
        assert!(c.eval(&to_cel(&json!({}))).is_err());
        assert_eq!(c.decide(&json!({"zone": 3})), None);
        let ratio = Condition::compile("data.ratio > 0.5", None).expect("compiles");
        assert_eq!(ratio.decide(&json!({"ratio": 0.7})), None);
        assert_eq!(ratio.eval(&to_cel(&json!({"ratio": 0.7}))), Ok(true));
    }
}
