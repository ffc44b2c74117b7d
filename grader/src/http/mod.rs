//! The grader's own HTTP server for labs that talk to a network: routes, latency and injected failures
//! under the spec's and the check's control, and a record of every request, measured from the server's side.
pub mod routes;
mod server;

pub use routes::HttpSpec;
pub use server::Server;
