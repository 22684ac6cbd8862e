//! The console's files, carried in the binary: nothing is loaded from outside the server, so
//! the console works on a network without internet access.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// `(name, media type, content)` of every asset.
const ASSETS: [(&str, &str, &[u8]); 4] = [
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/console.js"),
    ),
    // softland's mark, 32×32 (a PNG inside an ICO), made for the console.
    (
        "favicon.ico",
        "image/x-icon",
        include_bytes!("../assets/favicon.ico"),
    ),
    // htmx 2.0.11 (Zero-Clause BSD, assets/htmx.LICENSE), from the npm package `htmx.org`.
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/htmx.min.js"),
    ),
];

/// `/favicon.ico`, where browsers look for a site's icon.
pub(crate) async fn favicon() -> Response {
    asset("favicon.ico")
}

/// `/assets/{file}`.
pub(crate) async fn serve(Path(file): Path<String>) -> Response {
    asset(&file)
}

fn asset(file: &str) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, media_type, body)) => (
            [
                (header::CONTENT_TYPE, *media_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
