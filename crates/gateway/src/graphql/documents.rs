//! Parsed query documents, remembered by query text: clients send the same few operations
//! over and over, and parsing one costs more than copying the parsed form. Parsing depends on
//! nothing but the text, so a remembered document is exactly what parsing would return; the
//! limits (aliases, expansion, depth, complexity) still check every request: the cache is
//! asked by `limits::RequestLimits`, which parses before async-graphql does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::ServerResult;
use async_graphql::parser::types::ExecutableDocument;

/// At most this many documents are remembered; when full, the memory starts over.
const CAPACITY: usize = 256;

/// Longer queries are parsed every time (they are rare, and would crowd the memory).
const LONGEST: usize = 4 * 1024;

type Documents = Arc<Mutex<HashMap<String, ExecutableDocument>>>;

/// The memory of parsed documents; one per schema (clones share it).
#[derive(Default, Clone)]
pub(crate) struct DocumentCache(Documents);

fn lock(d: &Documents) -> std::sync::MutexGuard<'_, HashMap<String, ExecutableDocument>> {
    d.lock().unwrap_or_else(|e| e.into_inner())
}

impl DocumentCache {
    /// The parsed form of `query`: remembered, or parsed now (and remembered if short).
    pub(crate) fn parse(&self, query: &str) -> ServerResult<ExecutableDocument> {
        if let Some(doc) = lock(&self.0).get(query) {
            return Ok(doc.clone());
        }
        let doc = async_graphql::parser::parse_query(query)?;
        if query.len() <= LONGEST {
            let mut docs = lock(&self.0);
            if docs.len() >= CAPACITY {
                docs.clear();
            }
            docs.insert(query.to_owned(), doc.clone());
        }
        Ok(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, Variables};

    struct Q;

    #[Object]
    impl Q {
        async fn hello(&self, name: String) -> String {
            format!("hello {name}")
        }
    }

    #[tokio::test]
    async fn remembered_documents_answer_like_parsed_ones() {
        let cache = DocumentCache::default();
        let docs = cache.0.clone();
        let schema = Schema::build(Q, EmptyMutation, EmptySubscription)
            .extension(crate::graphql::limits::RequestLimits::new(cache))
            .finish();
        let query = "query($n: String!) { hello(name: $n) }";
        for name in ["a", "b"] {
            let req = async_graphql::Request::new(query)
                .variables(Variables::from_json(serde_json::json!({ "n": name })));
            let res = schema.execute(req).await;
            assert!(res.errors.is_empty(), "{:?}", res.errors);
            assert_eq!(
                res.data.into_json().unwrap(),
                serde_json::json!({ "hello": format!("hello {name}") })
            );
        }
        assert_eq!(lock(&docs).len(), 1, "parsed once, remembered");
        // A syntax error is not remembered and still reported.
        let res = schema.execute("{ hello(name: ").await;
        assert_eq!(res.errors.len(), 1);
        assert_eq!(lock(&docs).len(), 1);
    }
}
