//! Loading a directory file merges it into the directory: a field the file leaves out keeps
//! the value it has (loading the README's sample never erases a name given elsewhere), and an
//! empty string clears an optional field (`name_zh_hans: ""`). New entries need what
//! [`Directory`] requires (`key`/`id`, `name`, `region`, `roles`).

use serde_json::{Map, Value};

use crate::Store;
use crate::directory::{Directory, Loaded, Membership, Person, invalid};
use crate::error::Result;

/// Fields an empty string cannot clear: they identify the entry or must have a value.
const REQUIRED: [&str; 4] = ["key", "id", "name", "region"];

impl Store {
    /// Loads a directory file (YAML: `agencies`, `organizations`, `people` lists), merged into
    /// what the directory holds (see the module's documentation).
    pub async fn load_directory_file(&self, yaml: &str) -> Result<Loaded> {
        let file: Value = serde_saphyr::from_str(yaml).map_err(|e| invalid(e.to_string()))?;
        self.merge_directory(file).await
    }

    /// Merges a directory given as JSON (the shape of a directory file) into the directory.
    pub async fn merge_directory(&self, mut file: Value) -> Result<Loaded> {
        if file.is_null() {
            file = Value::Object(Map::new());
        }
        let Some(sections) = file.as_object_mut() else {
            return Err(invalid(
                "a directory file is a mapping of `agencies`, `organizations` and `people` lists",
            ));
        };
        for entry in entries(sections, "agencies") {
            if let Some(old) = self.agency(&field(entry, "key")).await? {
                keep_absent(entry, to_map(&old)?);
            }
        }
        for entry in entries(sections, "organizations") {
            if let Some(old) = self.organization(&field(entry, "key")).await? {
                keep_absent(entry, to_map(&old)?);
            }
        }
        for entry in entries(sections, "people") {
            if let Some(old) = self.person(&field(entry, "id")).await? {
                keep_absent(entry, person_fields(&old));
            }
        }
        let directory: Directory =
            serde_json::from_value(file).map_err(|e| invalid(e.to_string()))?;
        self.load_directory(&directory).await
    }
}

/// The mappings of one section (anything else is left for deserializing to refuse).
fn entries<'a>(
    sections: &'a mut Map<String, Value>,
    name: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    sections
        .get_mut(name)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

fn field(entry: &Map<String, Value>, name: &str) -> String {
    entry
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn to_map(entry: &impl serde::Serialize) -> Result<Map<String, Value>> {
    match serde_json::to_value(entry).map_err(|e| invalid(e.to_string()))? {
        Value::Object(m) => Ok(m),
        _ => Ok(Map::new()),
    }
}

/// A person as a directory file gives them.
fn person_fields(p: &Person) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("display_name".into(), p.display_name.clone().into());
    m.insert("email".into(), p.email.clone().into());
    m.insert("roles".into(), p.roles.iter().map(|r| r.as_str()).collect());
    m.insert("service".into(), p.service.into());
    m.insert("language".into(), p.language.clone().into());
    match &p.membership {
        Membership::Agency(a) => m.insert("agency".into(), a.clone().into()),
        Membership::Organization(o) => m.insert("organization".into(), o.clone().into()),
        Membership::None => None,
    };
    m
}

/// Fields the file leaves out take the stored value; an empty string clears an optional field.
fn keep_absent(entry: &mut Map<String, Value>, stored: Map<String, Value>) {
    for (name, value) in entry.iter_mut() {
        if !REQUIRED.contains(&name.as_str()) && value.as_str().is_some_and(|s| s.trim().is_empty())
        {
            *value = Value::Null;
        }
    }
    for (name, value) in stored {
        entry.entry(name).or_insert(value);
    }
}

impl Store {
    /// Loads a directory: agencies, then organizations, then people (each added or updated).
    pub async fn load_directory(&self, d: &Directory) -> Result<Loaded> {
        for a in &d.agencies {
            self.put_agency(a).await?;
        }
        for o in &d.organizations {
            self.put_organization(o).await?;
        }
        for p in &d.people {
            self.put_person(p).await?;
        }
        Ok(Loaded {
            agencies: d.agencies.len(),
            organizations: d.organizations.len(),
            people: d.people.len(),
        })
    }

    /// Adds the agencies, organizations and people of a seed file that the directory lacks,
    /// leaving every existing entry as an administrator set it.
    pub async fn seed_directory(&self, yaml: &str) -> Result<Loaded> {
        let d = Directory::parse_yaml(yaml)?;
        let mut missing = Directory::default();
        for a in d.agencies {
            if self.agency(&a.key).await?.is_none() {
                missing.agencies.push(a);
            }
        }
        let known: std::collections::BTreeSet<String> = self
            .organizations()
            .await?
            .into_iter()
            .map(|o| o.key)
            .collect();
        missing.organizations = d
            .organizations
            .into_iter()
            .filter(|o| !known.contains(&o.key))
            .collect();
        for p in d.people {
            if self.person(&p.id).await?.is_none() {
                missing.people.push(p);
            }
        }
        self.load_directory(&missing).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_fields_keep_and_empty_ones_clear() {
        let mut entry = Map::new();
        entry.insert("key".into(), "hkstp".into());
        entry.insert("inbox_email".into(), "".into());
        let mut stored = Map::new();
        stored.insert("name_zh_hans".into(), "香港科技园公司".into());
        stored.insert("inbox_email".into(), "old@hkstp.example".into());
        keep_absent(&mut entry, stored);
        assert_eq!(entry["name_zh_hans"], "香港科技园公司");
        assert_eq!(entry["inbox_email"], Value::Null);
    }
}
