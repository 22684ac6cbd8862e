//! The one registry of the codes a client sees as `extensions.code`, each documented (here and
//! in `docs/errors.md`, which a test keeps complete). Domain errors — the store's and the
//! engine's — are turned into codes here and nowhere else; nothing is classified by its text.

use softland_store::Error as StoreError;
use softland_workflow::Rejection;

softland_workflow::code_registry! {
    /// A stable error code of the API. The text form (`NOT_FOUND`) is what clients match on.
    ErrorCode {
        /// No valid credential came with the request (missing, unknown or revoked API key), or a
        /// subscription's key was revoked while it was open.
        Unauthenticated => "UNAUTHENTICATED",
        /// The caller is known but may not do this: another agency's task they can see, a
        /// four-eyes or quorum rule, a role that does not allow it.
        Forbidden => "FORBIDDEN",
        /// No such thing — or one the caller may not see: the two are answered alike.
        NotFound => "NOT_FOUND",
        /// The request itself is wrong: a form or action input that breaks its schema (with
        /// `extensions.violations`), a definition that does not compile, a body that is not a
        /// GraphQL request, a value too long, too deep or holding NUL, a retired workflow.
        BadUserInput => "BAD_USER_INPUT",
        /// The task has no action of that name.
        InvalidAction => "INVALID_ACTION",
        /// Someone else changed the same thing first (a stale `expectedRevision`, a concurrent
        /// action or claim, a closed task, a reused idempotency key): reload and decide again.
        Conflict => "CONFLICT",
        /// A per-caller limit is reached (live subscriptions per key).
        LimitExceeded => "LIMIT_EXCEEDED",
        /// The operation would cost more than one request may: too many fields once its
        /// fragments are spread out, fragments nested too deep, or a cost — list sizes
        /// multiplied by what each item selects — over the limit. Ask for less per request.
        TooComplex => "TOO_COMPLEX",
        /// The request body is larger than the server accepts.
        PayloadTooLarge => "PAYLOAD_TOO_LARGE",
        /// The server cannot answer now (the sign-in's identity provider or the database is
        /// unreachable): try again.
        Unavailable => "UNAVAILABLE",
        /// The server failed (the database is unreachable, stored data is unreadable); the details
        /// are in the server's log, never in the answer.
        Internal => "INTERNAL",
    }
}

softland_workflow::code_registry! {
    /// Which rule refused, beside the code (`extensions.reason`), for clients to explain it in
    /// their own words.
    Reason {
        /// A four-eyes rule: the caller acted at a step this one must not be decided by the
        /// same person as (`extensions.step` names the step).
        FourEyes => "FOUR_EYES",
        /// The pool of places the action reserves from is full and the action names no
        /// waitlist (`extensions.pool` names the pool).
        PoolFull => "POOL_FULL",
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&Rejection> for ErrorCode {
    fn from(r: &Rejection) -> Self {
        match r {
            Rejection::Finished
            | Rejection::TaskNotOpen(_)
            | Rejection::NotDue(_)
            | Rejection::PoolFull { .. }
            | Rejection::NotWaiting { .. } => ErrorCode::Conflict,
            Rejection::NotAssignee { .. }
            | Rejection::FourEyes { .. }
            | Rejection::NotPermitted(_) => ErrorCode::Forbidden,
            Rejection::UnknownAction { .. } => ErrorCode::InvalidAction,
            Rejection::InvalidInput { .. } => ErrorCode::BadUserInput,
        }
    }
}

impl From<&StoreError> for ErrorCode {
    fn from(e: &StoreError) -> Self {
        match e {
            StoreError::Rejected(r) => r.into(),
            StoreError::Conflict(_) => ErrorCode::Conflict,
            StoreError::NotFound(_) => ErrorCode::NotFound,
            StoreError::Forbidden(_) | StoreError::NotYours { .. } => ErrorCode::Forbidden,
            StoreError::InvalidDefinition(_)
            | StoreError::Retired { .. }
            | StoreError::BadCursor(_)
            | StoreError::InvalidDirectory(_)
            | StoreError::InvalidPosition(_)
            | StoreError::InvalidPlan(_) => ErrorCode::BadUserInput,
            // The database was out of reach for a moment (a failover, a restart): retryable.
            e if e.is_unreachable() => ErrorCode::Unavailable,
            _ => ErrorCode::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_documented() {
        let docs =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/errors.md"))
                .expect("docs/errors.md");
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {c}");
            assert!(
                docs.contains(&format!("## `{c}`")),
                "docs/errors.md has no section for {c}"
            );
            assert_eq!(ErrorCode::parse(c.as_str()), Some(*c));
        }
        for r in Reason::ALL {
            assert!(
                docs.contains(&format!("`{}`", r.as_str())),
                "docs/errors.md does not name the reason {}",
                r.as_str()
            );
        }
    }

    #[test]
    fn rejections_have_their_codes() {
        use softland_workflow::TaskId;
        let cases = [
            (Rejection::Finished, ErrorCode::Conflict),
            (Rejection::TaskNotOpen(TaskId(1)), ErrorCode::Conflict),
            (Rejection::NotDue(TaskId(1)), ErrorCode::Conflict),
            (Rejection::NotPermitted("x"), ErrorCode::Forbidden),
            (
                Rejection::NotAssignee {
                    task: TaskId(1),
                    assignee: "ofds".into(),
                },
                ErrorCode::Forbidden,
            ),
            (
                Rejection::FourEyes {
                    actor: "chen".into(),
                    step: "ofds_nomination".into(),
                },
                ErrorCode::Forbidden,
            ),
            (
                Rejection::UnknownAction {
                    action: "x".into(),
                    offered: vec![],
                },
                ErrorCode::InvalidAction,
            ),
            (
                Rejection::InvalidInput { violations: vec![] },
                ErrorCode::BadUserInput,
            ),
        ];
        for (r, code) in cases {
            assert_eq!(ErrorCode::from(&r), code, "{r:?}");
        }
    }
}
