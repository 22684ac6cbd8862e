//! softland-gateway: GraphQL over HTTP (async-graphql on axum). Built in issue #4; this crate
//! is part of the workspace layout and holds no code yet.
