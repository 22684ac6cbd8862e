//! GraphiQL at `GET /graphql`, served from files inside the binary.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// GraphiQL, served from files inside the binary (`assets/graphiql/`, GraphiQL 3.8.3 and React
/// 18.3.1 from npm; licences beside them): it works on a machine without internet, and its
/// Content-Security-Policy lets the page load nothing from anywhere else.
const GRAPHIQL: [(&str, &str, &[u8]); 7] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../assets/graphiql/index.html"),
    ),
    (
        "start.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/start.js"),
    ),
    (
        "page.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/page.css"),
    ),
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
];

/// Only this server (GraphiQL sets styles inline; its editors use data: images and fonts).
const GRAPHIQL_CSP: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

fn graphiql_file(name: &str) -> Response {
    match GRAPHIQL.iter().find(|(n, _, _)| *n == name) {
        Some((_, media, body)) => (
            [
                (header::CONTENT_TYPE, *media),
                (header::CONTENT_SECURITY_POLICY, GRAPHIQL_CSP),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

/// The GraphiQL page.
pub(crate) async fn page() -> Response {
    graphiql_file("index.html")
}

/// One of GraphiQL's files (`/graphiql/{file}`).
pub(crate) async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    graphiql_file(&name)
}
