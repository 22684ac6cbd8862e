//! The form schema of a definition: inline, or a file the caller's loader reads (never quoted
//! in a message — the definition may come from someone who must not read it).

use serde_json::Value;

use crate::diagnostic::{Code, Diagnostics};
use crate::rawdef::RawForm;
use crate::schema::{Schema, SchemaLoader};

/// The form's schema, or `None` (with diagnostics) when there is none or it is not valid.
pub(crate) fn load_form(
    form: Option<&RawForm>,
    loader: Option<&dyn SchemaLoader>,
    d: &mut Diagnostics,
) -> Option<Schema> {
    let (value, pos) = match form? {
        RawForm::Inline(v) => (v.v.clone(), v.pos),
        RawForm::File(path) => {
            let Some(loader) = loader else {
                d.push(path.pos, Code::SchemaFile, format!("`form.file: {}` needs a schema loader; compile with `Workflow::compile_with`, or inline the schema", path.v));
                return None;
            };
            match loader.load(&path.v) {
                Ok(text) => match serde_json::from_str::<Value>(&text) {
                    Ok(v) => (v, path.pos),
                    Err(e) => {
                        d.push(
                            path.pos,
                            Code::SchemaFile,
                            format!("schema file `{}` is not valid JSON: {e}", path.v),
                        );
                        return None;
                    }
                },
                Err(e) => {
                    d.push(
                        path.pos,
                        Code::SchemaFile,
                        format!("cannot read schema file `{}`: {e}", path.v),
                    );
                    return None;
                }
            }
        }
    };
    let file = match form? {
        RawForm::File(path) => Some(path.v.as_str()),
        RawForm::Inline(_) => None,
    };
    match Schema::compile(value) {
        Ok(s) => Some(s),
        // A file's content is never quoted: the definition may come from someone who must not
        // read it.
        Err(e) => {
            let message = match file {
                Some(path) if e.at.is_empty() => {
                    format!("the form file `{path}` is not a valid JSON Schema")
                }
                Some(path) => format!(
                    "the form file `{path}` is not a valid JSON Schema (at {})",
                    e.at
                ),
                None => format!("the form is not a valid JSON Schema: {e}"),
            };
            d.push(pos, Code::InvalidSchema, message);
            None
        }
    }
}
