//! The floor the cold-start benchmark compares every function with: lambda_http
//! and nothing else, built with the workspace's release profile.

use lambda_http::{run, service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_req: Request| async {
        Ok::<_, Error>(Response::new(Body::from("ok")))
    }))
    .await
}
