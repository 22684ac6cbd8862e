//! Names the GraphQL operation on the request's span (`graphql.operation.name` and
//! `graphql.operation.type`, as OpenTelemetry's conventions call them), so a trace says which
//! query or mutation a request ran, not only `POST /graphql`.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Request, ServerResult, Variables};

/// The longest operation name recorded (names are the client's; the query's size bounds them,
/// this keeps a trace's attributes small).
const MAX_NAME: usize = 100;

pub(crate) struct OperationName;

impl ExtensionFactory for OperationName {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationNameExtension::default())
    }
}

/// One per request: the `operationName` the request asked for, until the document is parsed.
#[derive(Default)]
struct OperationNameExtension {
    requested: Mutex<Option<String>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for OperationNameExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        *self.requested.lock().unwrap_or_else(|e| e.into_inner()) = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let requested = self
            .requested
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some((name, kind)) = chosen(&doc, requested.as_deref()) {
            let span = tracing::Span::current();
            if let Some(name) = name {
                let name: String = name.chars().take(MAX_NAME).collect();
                span.record("graphql.operation.name", name.as_str());
            }
            span.record("graphql.operation.type", kind);
        }
        Ok(doc)
    }
}

/// The operation the request runs: the one it names, else the document's only one.
fn chosen<'d>(
    doc: &'d ExecutableDocument,
    requested: Option<&str>,
) -> Option<(Option<&'d str>, &'static str)> {
    let mut operations = doc.operations.iter();
    let (name, op) = match requested {
        Some(wanted) => operations.find(|(name, _)| name.is_some_and(|n| n.as_str() == wanted))?,
        None => {
            let only = operations.next()?;
            if operations.next().is_some() {
                return None;
            }
            only
        }
    };
    let kind = match op.node.ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    };
    Some((name.map(|n| n.as_str()), kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(q).expect("parses")
    }

    #[test]
    fn the_named_or_only_operation_is_chosen() {
        let one = parse("mutation Submit { a }");
        assert_eq!(chosen(&one, None), Some((Some("Submit"), "mutation")));
        let anonymous = parse("{ a }");
        assert_eq!(chosen(&anonymous, None), Some((None, "query")));
        let two = parse("query A { a } mutation B { b }");
        assert_eq!(chosen(&two, Some("B")), Some((Some("B"), "mutation")));
        assert_eq!(chosen(&two, None), None, "ambiguous: nothing runs");
        assert_eq!(chosen(&two, Some("C")), None, "unknown: nothing runs");
    }
}
