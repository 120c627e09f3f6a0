//! A stack as a graph of steps, each naming the steps it needs. [`run`] starts every step whose needs are
//! done, runs ready steps concurrently, and reports each under a spinner as it finishes.
//!
//! After a failure no new step starts, but the running ones finish before the first error is returned: a
//! step cancelled between two calls could leave, say, a bucket created but not yet tagged, which the next
//! `up` would have to refuse as foreign.

use std::collections::BTreeSet;
use std::future::Future;

use anyhow::bail;
use futures::future::LocalBoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};

use crate::change::Change;
use crate::report::{Reporter, Verb};

/// One step: a label (which is also its name in other steps' `needs`), what it needs, and its work.
pub struct Step<'a> {
    pub label: &'static str,
    pub needs: &'static [&'static str],
    work: Box<dyn FnOnce() -> LocalBoxFuture<'a, anyhow::Result<Vec<Change>>> + 'a>,
}

impl<'a> Step<'a> {
    pub fn new<F, Fut>(label: &'static str, needs: &'static [&'static str], work: F) -> Self
    where
        F: FnOnce() -> Fut + 'a,
        Fut: Future<Output = anyhow::Result<Vec<Change>>> + 'a,
    {
        Self {
            label,
            needs,
            work: Box::new(move || Box::pin(work())),
        }
    }
}

/// Checks that every need names a step and that the steps have no cycle; returns an order to run them in.
pub fn order(steps: &[Step<'_>]) -> anyhow::Result<Vec<usize>> {
    let labels: BTreeSet<&str> = steps.iter().map(|s| s.label).collect();
    for step in steps {
        if let Some(missing) = step.needs.iter().find(|need| !labels.contains(**need)) {
            bail!(
                "internal error: step `{}` needs `{missing}`, which is no step",
                step.label
            );
        }
    }
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::new();
    while order.len() < steps.len() {
        let ready: Vec<usize> = (0..steps.len())
            .filter(|i| !order.contains(i))
            .filter(|i| steps[*i].needs.iter().all(|need| done.contains(need)))
            .collect();
        if ready.is_empty() {
            bail!("internal error: the steps' needs form a cycle");
        }
        done.extend(ready.iter().map(|i| steps[*i].label));
        order.extend(ready);
    }
    Ok(order)
}

/// Runs the steps, each as soon as its needs are done; returns every change in the steps' declared order.
pub async fn run(
    steps: Vec<Step<'_>>,
    progress: &Reporter,
    verb: Verb,
) -> anyhow::Result<Vec<Change>> {
    order(&steps)?;
    let count = steps.len();
    let needs: Vec<&[&str]> = steps.iter().map(|s| s.needs).collect();
    let labels: Vec<&str> = steps.iter().map(|s| s.label).collect();
    let mut pending: Vec<Option<Step<'_>>> = steps.into_iter().map(Some).collect();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut results: Vec<Vec<Change>> = vec![Vec::new(); count];
    let mut running = FuturesUnordered::new();
    let mut first_error = None;
    loop {
        if first_error.is_none() {
            for index in 0..count {
                let ready = needs[index].iter().all(|need| done.contains(need));
                if let Some(step) = pending[index].take_if(|_| ready) {
                    let started = progress.begin(step.label);
                    let work = (step.work)();
                    running.push(async move { (index, started, work.await) });
                }
            }
        }
        let Some((index, started, result)) = running.next().await else {
            break;
        };
        match result {
            Ok(changes) => {
                progress.end(started, verb, &changes);
                done.insert(labels[index]);
                results[index] = changes;
            }
            Err(err) => {
                progress.end(started, verb, &[]);
                first_error.get_or_insert(err);
            }
        }
    }
    match first_error {
        Some(err) => Err(err),
        None => Ok(results.concat()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(label: &'static str, needs: &'static [&'static str]) -> Step<'static> {
        Step::new(label, needs, || async { Ok(Vec::new()) })
    }

    #[test]
    fn order_runs_needs_first_and_refuses_cycles_and_unknown_needs() {
        let steps = [step("b", &["a"]), step("a", &[]), step("c", &["a", "b"])];
        assert_eq!(order(&steps).unwrap(), vec![1, 0, 2]);
        let cycle = [step("a", &["b"]), step("b", &["a"])];
        assert!(order(&cycle).unwrap_err().to_string().contains("cycle"));
        let unknown = [step("a", &["zz"])];
        assert!(order(&unknown).unwrap_err().to_string().contains("zz"));
    }

    #[tokio::test]
    async fn a_failed_step_stops_its_dependants_but_not_running_steps() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let finished = AtomicBool::new(false);
        let dependant_ran = AtomicBool::new(false);
        let steps = vec![
            Step::new("fails", &[], || async { bail!("boom") }),
            Step::new("slow", &[], || async {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                finished.store(true, Ordering::SeqCst);
                Ok(Vec::new())
            }),
            Step::new("after", &["fails"], || async {
                dependant_ran.store(true, Ordering::SeqCst);
                Ok(Vec::new())
            }),
        ];
        let err = run(steps, &Reporter::quiet(), Verb::Up).await.unwrap_err();
        assert_eq!(err.to_string(), "boom");
        assert!(finished.load(Ordering::SeqCst), "the running step finished");
        assert!(!dependant_ran.load(Ordering::SeqCst));
    }
}
