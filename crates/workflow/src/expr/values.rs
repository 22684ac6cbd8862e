//! Between JSON and CEL: the form data as conditions see it, and a data change's value back.

use std::collections::HashMap;
use std::sync::Arc;

use cel::Value as Cel;
use serde_json::Value;

/// Converts only `fields` of the form (all of it when `None`): conditions usually read a few.
pub(crate) fn to_cel_fields<'a>(
    data: &Value,
    fields: impl Iterator<Item = Option<&'a [String]>>,
) -> Cel {
    let mut wanted: Vec<&str> = Vec::new();
    for f in fields {
        match f {
            None => return to_cel(data),
            Some(names) => wanted.extend(names.iter().map(String::as_str)),
        }
    }
    let Value::Object(map) = data else {
        return to_cel(data);
    };
    let m: HashMap<String, Cel> = map
        .iter()
        .filter(|(k, _)| wanted.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), to_cel(v)))
        .collect();
    Cel::Map(m.into())
}

/// Converts JSON to a CEL value. Integers become `int` (not `uint`), so `data.staff >= 5` works.
pub(crate) fn to_cel(v: &Value) -> Cel {
    match v {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cel::Int(i),
            None => n
                .as_u64()
                .map_or_else(|| Cel::Float(n.as_f64().unwrap_or(f64::NAN)), Cel::UInt),
        },
        Value::String(s) => Cel::String(Arc::new(s.clone())),
        Value::Array(items) => Cel::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(map) => {
            let m: HashMap<String, Cel> = map.iter().map(|(k, v)| (k.clone(), to_cel(v))).collect();
            Cel::Map(m.into())
        }
    }
}

/// Converts a CEL value back to JSON (what a data change gives).
pub(super) fn from_cel(v: &Cel) -> Result<Value, String> {
    use cel::objects::Key;
    Ok(match v {
        Cel::Null => Value::Null,
        Cel::Bool(b) => Value::Bool(*b),
        Cel::Int(i) => Value::from(*i),
        Cel::UInt(u) => Value::from(*u),
        Cel::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .ok_or_else(|| format!("{f} is not a JSON number"))?,
        Cel::String(s) => Value::String(s.to_string()),
        Cel::List(items) => Value::Array(items.iter().map(from_cel).collect::<Result<_, _>>()?),
        Cel::Map(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m.map.iter() {
                let key = match k {
                    Key::String(s) => s.to_string(),
                    Key::Int(i) => i.to_string(),
                    Key::Uint(u) => u.to_string(),
                    Key::Bool(b) => b.to_string(),
                };
                out.insert(key, from_cel(v)?);
            }
            Value::Object(out)
        }
        other => return Err(format!("{other:?} cannot be form data")),
    })
}
