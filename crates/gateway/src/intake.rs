//! Reading a GraphQL request's body — after the caller is known, never before.
//!
//! - `application/json` (or `application/graphql-response+json`, with any parameters): one
//!   operation as JSON (`{"query", "variables", "operationName"}`); a batch (a JSON list) is
//!   refused.
//! - `multipart/form-data` (the GraphQL multipart request specification, for uploads): only
//!   from a signed-in caller — an anonymous one is answered before a byte of the body is read,
//!   so nothing an anonymous caller sends is written to disk — with at most [`MAX_FILES`] file
//!   parts and [`MAX_PARTS`] parts in all, each file at most the upload limit; the parser is
//!   `multer`, each file a temporary file (created only for a part within the caps).
//! - Any other media type is refused with 415.

use std::collections::HashMap;
use std::io::Write;

use async_graphql::{ParseRequestError, Request, UploadValue};
use axum::body::Body;
use axum::http::{HeaderMap, header};

/// File parts one request may carry (an `uploadDocument` per file, aliased).
pub const MAX_FILES: usize = 10;
/// Parts in all: `operations`, `map` and the files.
pub const MAX_PARTS: usize = MAX_FILES + 2;
/// The largest `operations` or `map` part.
const MAX_TEXT_PART: u64 = 1 << 20;

/// What the body is, by its `Content-Type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A JSON request.
    Json,
    /// A multipart request, with its boundary.
    Multipart(String),
    /// Anything else (refused: 415).
    Unsupported,
}

/// The kind of body the headers announce (`None`: no `Content-Type` at all).
pub fn kind(headers: &HeaderMap) -> Option<Kind> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let Ok(mime) = ct.parse::<mime::Mime>() else {
        return Some(Kind::Unsupported);
    };
    let suffix = mime.suffix().map(|s| s.as_str());
    Some(
        match (mime.type_().as_str(), mime.subtype().as_str(), suffix) {
            ("application", "json", None) | ("application", "graphql-response", Some("json")) => {
                Kind::Json
            }
            ("multipart", "form-data", None) => match mime.get_param("boundary") {
                Some(b) => Kind::Multipart(b.to_string()),
                None => Kind::Unsupported,
            },
            _ => Kind::Unsupported,
        },
    )
}

/// Why a body is not a request.
#[derive(Debug)]
pub enum Refused {
    /// As async-graphql's own parser would say it.
    Parse(ParseRequestError),
    /// More file parts (or parts) than one request may carry.
    TooManyParts,
}

impl From<ParseRequestError> for Refused {
    fn from(e: ParseRequestError) -> Self {
        Refused::Parse(e)
    }
}

fn io(e: impl std::fmt::Display) -> ParseRequestError {
    ParseRequestError::Io(std::io::Error::other(e.to_string()))
}

fn multipart_error(e: multer::Error) -> ParseRequestError {
    match e {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => {
            ParseRequestError::PayloadTooLarge
        }
        other => ParseRequestError::InvalidMultipart(other),
    }
}

/// One operation from a JSON body.
fn from_json(bytes: &[u8]) -> Result<Request, ParseRequestError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        return Err(ParseRequestError::UnsupportedBatch);
    }
    serde_json::from_slice::<Request>(bytes)
        .map_err(|e| ParseRequestError::InvalidRequest(Box::new(e)))
}

/// A JSON body's request.
pub async fn json(body: Body) -> Result<Request, Refused> {
    let bytes = axum::body::to_bytes(body, usize::MAX).await.map_err(io)?;
    Ok(from_json(&bytes)?)
}

/// A multipart body's request, its files in temporary files. The caller is signed in.
pub async fn multipart(body: Body, boundary: String, file_bytes: u64) -> Result<Request, Refused> {
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .per_field(file_bytes.max(MAX_TEXT_PART))
            .for_field("operations", MAX_TEXT_PART)
            .for_field("map", MAX_TEXT_PART),
    );
    let mut form =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let (mut request, mut map, mut files) =
        (None, None::<HashMap<String, Vec<String>>>, Vec::new());
    let mut parts = 0;
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(Refused::TooManyParts);
        }
        match field.name() {
            Some("operations") => {
                let bytes = field.bytes().await.map_err(multipart_error)?;
                request = Some(from_json(&bytes)?);
            }
            Some("map") => {
                let bytes = field.bytes().await.map_err(multipart_error)?;
                map = Some(
                    serde_json::from_slice(&bytes)
                        .map_err(|e| ParseRequestError::InvalidFilesMap(Box::new(e)))?,
                );
            }
            Some(name) if field.file_name().is_some() => {
                if files.len() >= MAX_FILES {
                    return Err(Refused::TooManyParts);
                }
                let name = name.to_owned();
                let filename = field.file_name().unwrap_or_default().to_owned();
                let content_type = field.content_type().map(ToString::to_string);
                let mut file = tempfile::tempfile().map_err(ParseRequestError::Io)?;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    file.write_all(&chunk).map_err(ParseRequestError::Io)?;
                }
                std::io::Seek::rewind(&mut file).map_err(ParseRequestError::Io)?;
                files.push((name, filename, content_type, file));
            }
            _ => {
                // A text part the specification does not know: read past it, keep nothing.
                while field.chunk().await.map_err(multipart_error)?.is_some() {}
            }
        }
    }
    let mut request = request.ok_or(ParseRequestError::MissingOperatorsPart)?;
    let mut map = map.ok_or(ParseRequestError::MissingMapPart)?;
    for (name, filename, content_type, content) in files {
        let Some(paths) = map.remove(&name) else {
            continue;
        };
        let upload = UploadValue {
            filename,
            content_type,
            content,
        };
        for path in paths.iter().take(MAX_FILES) {
            request.set_upload(path, upload.try_clone().map_err(ParseRequestError::Io)?);
        }
    }
    if !map.is_empty() {
        return Err(ParseRequestError::MissingFiles.into());
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
        h
    }

    #[test]
    fn media_types_are_told_apart() {
        assert_eq!(kind(&HeaderMap::new()), None);
        assert_eq!(kind(&headers("application/json")), Some(Kind::Json));
        assert_eq!(
            kind(&headers("application/json; charset=utf-8")),
            Some(Kind::Json)
        );
        assert_eq!(
            kind(&headers("application/graphql-response+json")),
            Some(Kind::Json)
        );
        assert_eq!(
            kind(&headers("multipart/form-data; boundary=x")),
            Some(Kind::Multipart("x".into()))
        );
        for other in [
            "multipart/form-data",
            "image/png",
            "application/x-www-form-urlencoded",
            "text/plain",
            "nonsense",
        ] {
            assert_eq!(kind(&headers(other)), Some(Kind::Unsupported), "{other}");
        }
    }

    #[test]
    fn a_json_list_is_a_batch() {
        assert!(matches!(
            from_json(b"  [{\"query\": \"{a}\"}]"),
            Err(ParseRequestError::UnsupportedBatch)
        ));
        assert_eq!(from_json(b"{\"query\": \"{a}\"}").unwrap().query, "{a}");
    }
}
