use super::*;

#[test]
fn text_nesting_ignores_strings_and_comments() {
    assert_eq!(text_nesting("{ a { b(x: [1, {c: 2}]) } }"), 5);
    assert_eq!(text_nesting(r#"{ a(s: "{{{[[[(((\"{{") }"#), 2);
    assert_eq!(text_nesting("{ a(s: \"\"\"{{{ \\\"\"\" {{{\"\"\") }"), 2);
    assert_eq!(text_nesting("# {{{{{{\n{ a }"), 1);
    let deep = format!("{}{}", "[".repeat(2000), "]".repeat(2000));
    assert_eq!(text_nesting(&deep), 2000);
    // unbalanced closers never underflow
    assert_eq!(text_nesting("}}}{"), 1);
}

#[test]
fn value_nesting_is_measured_without_recursion() {
    let mut v = Value::Null;
    for _ in 0..100_000 {
        v = Value::List(vec![v]);
    }
    assert!(value_nesting(std::iter::once(&v)) > MAX_NESTING);
    let flat = Value::List(vec![Value::Null; 1000]);
    assert_eq!(value_nesting(std::iter::once(&flat)), 2);
    // the deep value's drop recurses: take it apart by hand
    let mut v = v;
    while let Value::List(mut items) = v {
        v = items.pop().unwrap_or(Value::Null);
    }
}

fn fan_out(n: usize) -> String {
    let mut q = format!("{{ ...F{n} }}\nfragment F0 on Query {{ a: __typename }}\n");
    for i in 1..=n {
        q.push_str(&format!(
            "fragment F{i} on Query {{ ...F{p} ...F{p} }}\n",
            p = i - 1
        ));
    }
    q
}

#[test]
fn fragments_are_multiplied_out_and_counted_once_each() {
    let doc = |q: &str| async_graphql::parser::parse_query(q).unwrap();
    let e = expansion(&doc(&fan_out(10))).unwrap();
    assert_eq!(
        e,
        Expansion {
            fields: 1 << 10,
            aliases: 1 << 10
        }
    );
    // 2^31 fields, counted in 31 steps; deeper chains are refused outright
    let e = expansion(&doc(&fan_out(31))).unwrap();
    assert_eq!(e.fields, 1 << 31);
    assert_eq!(expansion(&doc(&fan_out(40))), None);
    // a cycle counts as nothing where it recurs (validation refuses it later)
    let cycle = "{ ...A } fragment A on Query { x ...B } fragment B on Query { y ...A }";
    assert_eq!(expansion(&doc(cycle)).unwrap().fields, 2);
    // fields inside fields and inline fragments count too
    let plain = "{ a { b c: d } ... on Query { e } }";
    assert_eq!(
        expansion(&doc(plain)).unwrap(),
        Expansion {
            fields: 4,
            aliases: 1
        }
    );
}
