//! Bounded waiting for AWS to reach a state: exponential backoff under a deadline, never an open loop or a
//! fixed sleep. Each pause is the backoff plus up to half of it again at random (jitter), so many waiters do
//! not poll in step, and never shorter than 250 ms. (The SDK's DynamoDB waiters poll every 20 s at least; a
//! new table is usually ACTIVE sooner.)

use std::future::Future;
use std::time::Duration;

use anyhow::bail;

const FIRST_DELAY: Duration = Duration::from_millis(250);

/// How a wait polls: a first pause of 0.25 s, doubling up to `max` (each plus jitter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    max: Duration,
}

impl Pace {
    /// For states AWS reaches in seconds to minutes (a table ACTIVE, a bucket name released): at most 5 s.
    pub const BACKOFF: Pace = Pace {
        max: Duration::from_secs(5),
    };
    /// For a change of ours that is usually done within seconds and holds up everything after it (a new role
    /// reaching Lambda, retried with CreateFunction): at most 0.5 s, so the run overshoots the moment it is
    /// done by a quarter of a second on average instead of up to 7.5 s. Each attempt sends the whole zip
    /// (about 3 MB); on a slow uplink the upload itself spaces the attempts out.
    pub const PROPAGATION: Pace = Pace {
        max: Duration::from_millis(500),
    };
    /// For a cheap read of a state that holds up the end of a run and is usually reached in a few seconds (a
    /// new function leaving Pending): every 0.25 s (plus jitter), overshooting by about 0.15 s.
    pub const QUICK: Pace = Pace { max: FIRST_DELAY };
}

/// The pause for a backoff of `delay`: `delay` to 1.5 × `delay`.
fn jittered(delay: Duration) -> Duration {
    delay + delay.mul_f64(fastrand::f64() / 2.0)
}

/// Calls `check` until it returns `Some`, sleeping 0.25 s, 0.5 s, ... (at most 5 s, plus jitter) in between; fails with
/// "timed out after N s waiting for {what}" once `timeout` has passed.
pub async fn until<T, F, Fut>(what: &str, timeout: Duration, check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    until_paced(Pace::BACKOFF, what, timeout, check).await
}

/// [`until`] at `pace`.
pub async fn until_paced<T, F, Fut>(
    pace: Pace,
    what: &str,
    timeout: Duration,
    mut check: F,
) -> anyhow::Result<T>
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
        tokio::time::sleep(jittered(delay).min(deadline - now)).await;
        delay = (delay * 2).min(pace.max);
    }
}

/// Calls `call` again, with the same backoff, while it fails with an error `is_transient` accepts (AWS not yet
/// consistent after a change we just made); any other outcome is returned at once, and once `timeout` has
/// passed the last transient error is returned as it is, so the caller can explain it.
pub async fn retry_while<T, E, F, Fut>(
    what: &str,
    timeout: Duration,
    call: F,
    is_transient: impl Fn(&E) -> bool,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    retry_while_paced(Pace::BACKOFF, what, timeout, call, is_transient).await
}

/// [`retry_while`] at `pace`.
pub async fn retry_while_paced<T, E, F, Fut>(
    pace: Pace,
    what: &str,
    timeout: Duration,
    mut call: F,
    is_transient: impl Fn(&E) -> bool,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = FIRST_DELAY;
    loop {
        match call().await {
            Err(err) if is_transient(&err) && tokio::time::Instant::now() + delay < deadline => {
                let pause = jittered(delay);
                tracing::debug!("{what}: not yet; retrying in {pause:?}");
                tokio::time::sleep(pause).await;
                delay = (delay * 2).min(pace.max);
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn retries_transient_errors_only_and_until_the_deadline() {
        let mut calls = 0;
        let value: Result<u32, &str> = retry_while(
            "the policy",
            Duration::from_secs(10),
            || {
                calls += 1;
                let result = if calls < 3 { Err("transient") } else { Ok(7) };
                async move { result }
            },
            |e| *e == "transient",
        )
        .await;
        assert_eq!((value, calls), (Ok(7), 3));

        let mut calls = 0;
        let fatal: Result<u32, &str> = retry_while(
            "the policy",
            Duration::from_secs(10),
            || {
                calls += 1;
                async { Err("fatal") }
            },
            |e| *e == "transient",
        )
        .await;
        assert_eq!((fatal, calls), (Err("fatal"), 1));

        let started = std::time::Instant::now();
        let late: Result<u32, &str> = retry_while(
            "the policy",
            Duration::from_secs(1),
            || async { Err("transient") },
            |e| *e == "transient",
        )
        .await;
        assert_eq!(late, Err("transient"), "the last error, as it is");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn pauses_are_jittered_between_the_backoff_and_half_again() {
        let pauses: Vec<Duration> = (0..64).map(|_| jittered(FIRST_DELAY)).collect();
        assert!(pauses
            .iter()
            .all(|p| (FIRST_DELAY..=FIRST_DELAY * 3 / 2).contains(p)));
        assert!(pauses.iter().any(|p| *p != pauses[0]), "not all alike");
    }

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
