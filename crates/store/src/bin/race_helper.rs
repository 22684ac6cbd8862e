//! Test helper for the two-process race: waits until a given instant, then tries to nominate
//! each given task as one OFDS officer and prints `TASK ok` or `TASK CODE` per task.
//!
//! Usage: store-race-helper DB_URL PERSON START_MILLIS TASK_ID...
#![allow(clippy::unwrap_used)]

use softland_store::{Act, Store};
use softland_workflow::Actor;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (url, person, start) = (&args[1], &args[2], args[3].parse::<i64>().unwrap());
    let store = Store::connect(url).await.unwrap();
    let wait = start - chrono::Utc::now().timestamp_millis();
    if wait > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(wait as u64)).await;
    }
    for task in &args[4..] {
        let act = Act::new(
            task.parse().unwrap(),
            Actor::reviewer(person.clone(), "ofds"),
            "nominate",
        );
        match store.act(act).await {
            Ok(_) => println!("{task} ok"),
            // A lost race — the claim or revision taken, or the task closed meanwhile — is what
            // the API answers as CONFLICT; anything else is reported as it is.
            Err(
                softland_store::Error::Conflict(_)
                | softland_store::Error::Rejected(
                    softland_workflow::Rejection::TaskNotOpen(_)
                    | softland_workflow::Rejection::Finished,
                ),
            ) => println!("{task} CONFLICT"),
            Err(e) => println!("{task} {e:?}"),
        }
    }
}
