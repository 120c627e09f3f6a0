//! Bounded waiting for AWS to reach a state: exponential backoff under a deadline, never an open loop or a
//! fixed sleep. (The SDK's DynamoDB waiters poll every 20 s at least; a new table is usually ACTIVE sooner.)

use std::future::Future;
use std::time::Duration;

use anyhow::bail;

const FIRST_DELAY: Duration = Duration::from_millis(200);
const MAX_DELAY: Duration = Duration::from_secs(5);

/// Calls `check` until it returns `Some`, sleeping 0.2 s, 0.4 s, ... (at most 5 s) in between; fails with
/// "timed out after N s waiting for {what}" once `timeout` has passed.
pub async fn until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = FIRST_DELAY;
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            bail!("timed out after {} s waiting for {what}", timeout.as_secs());
        }
        tokio::time::sleep(delay.min(deadline - now)).await;
        delay = (delay * 2).min(MAX_DELAY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_once_the_check_succeeds() {
        let mut calls = 0;
        let value = until("the thing", Duration::from_secs(10), || {
            calls += 1;
            let done = calls == 3;
            async move { Ok(done.then_some(42)) }
        })
        .await
        .unwrap();
        assert_eq!((value, calls), (42, 3));
    }

    #[tokio::test]
    async fn gives_up_at_the_deadline() {
        let started = std::time::Instant::now();
        let err = until::<(), _, _>("the table to be ACTIVE", Duration::from_secs(1), || async {
            Ok(None)
        })
        .await
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "timed out after 1 s waiting for the table to be ACTIVE"
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
