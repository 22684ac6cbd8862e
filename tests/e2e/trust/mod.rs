//! The second trust review (issue 29), each finding's regression test over real HTTP and
//! WebSocket against the binary: what a request may cost and how it is read (`requests`), who
//! a sign-in, a session or a key speaks for (`signin`), and what rests on disk (`data`).

mod data;
mod requests;
pub(crate) mod signin;

pub(crate) use requests::fan_out;
