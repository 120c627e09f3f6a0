//! The function crate's integration tests, as one test binary (one link, one run): the router driven with
//! `oneshot` against moto, API Gateway events through lambda_http, the built binary in local mode, and
//! values that files elsewhere in the workspace must agree on. `support` is the shared harness; each other
//! module is one topic.

mod api_routes;
mod bad_requests;
mod capacity;
mod concurrency;
mod lambda_events;
mod local_mode;
mod support;
mod throttling;
mod workspace_files;
