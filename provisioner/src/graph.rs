//! A stack as a graph of steps, each naming the steps it needs. [`run`] starts every step whose needs are
//! done, runs ready steps concurrently, and reports each under a spinner as it finishes.
//!
//! A step may read ahead ([`Step::read_ahead`]): its reads start with the run, beside everything else, and
//! its work gets what they found once its needs are done. When the read failed (say, the parent did not
//! exist yet), or a need changed something and the step [`Keep`]s its read only if none did, the work gets
//! `None` and reads for itself, after its needs. So a run that changes nothing is one wave of reads, however
//! deep the graph.
//!
//! After a failure no new step starts, but the running ones finish before the first error is returned: a
//! step cancelled between two calls could leave, say, a bucket created but not yet tagged, which the next
//! `up` would have to refuse as foreign.

use std::any::Any;
use std::collections::BTreeSet;
use std::future::Future;

use anyhow::bail;
use futures::future::LocalBoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;

use crate::change::Change;
use crate::report::{Reporter, Step as Progress, Verb};

/// What a step read ahead, type-erased; `None` when it reads nothing ahead or its read failed.
type Ahead = Option<Box<dyn Any>>;

/// Whether a step's read ahead still holds once its needs have run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Always: the needs never change what it reads (they only have to exist before it writes; a read made
    /// while a parent was still missing fails, and is then made again).
    Always,
    /// Only when no need changed anything: a need may create or replace what it reads (a table recreated
    /// is empty, whatever was read from the old one).
    IfNeedsUnchanged,
}

type Work<'a> = Box<dyn FnOnce(Ahead) -> LocalBoxFuture<'a, anyhow::Result<Vec<Change>>> + 'a>;

/// One step: a label (which is also its name in other steps' `needs`), what it needs, and its work.
pub struct Step<'a> {
    pub label: &'static str,
    pub needs: &'static [&'static str],
    keep: Keep,
    ahead: Option<LocalBoxFuture<'a, anyhow::Result<Box<dyn Any>>>>,
    work: Work<'a>,
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
            keep: Keep::Always,
            ahead: None,
            work: Box::new(move |_| Box::pin(work())),
        }
    }

    /// A step whose `read` starts at once, before its needs are done; `work` gets what it read, or `None`
    /// (then it reads for itself) when the read failed or `keep` says it no longer holds. `read` must only
    /// read.
    pub fn read_ahead<L, R, F, Fut>(
        label: &'static str,
        needs: &'static [&'static str],
        keep: Keep,
        read: R,
        work: F,
    ) -> Self
    where
        L: 'static,
        R: Future<Output = anyhow::Result<L>> + 'a,
        F: FnOnce(Option<L>) -> Fut + 'a,
        Fut: Future<Output = anyhow::Result<Vec<Change>>> + 'a,
    {
        let ahead = read.map(|read| read.map(|found| Box::new(found) as Box<dyn Any>));
        Self {
            label,
            needs,
            keep,
            ahead: Some(Box::pin(ahead)),
            work: Box::new(move |ahead: Ahead| {
                let found = ahead.and_then(|any| any.downcast::<L>().ok()).map(|b| *b);
                Box::pin(work(found))
            }),
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

/// What finished: a read ahead, or a step's work.
enum Event {
    Read(usize, anyhow::Result<Box<dyn Any>>),
    Done(usize, Progress, anyhow::Result<Vec<Change>>),
    /// The gate of [`run_gated`] answered.
    Gate(anyhow::Result<()>),
}

/// Runs the steps, each as soon as its needs are done (and its read ahead, if any, has finished); returns
/// every change in the steps' declared order. A read ahead that failed is made again by its step's work.
pub async fn run(
    steps: Vec<Step<'_>>,
    progress: &Reporter,
    verb: Verb,
) -> anyhow::Result<Vec<Change>> {
    run_with(steps, progress, verb, None, None).await
}

/// [`run`], but no step's work starts before `gate` has succeeded (the reads ahead start at once, beside
/// it); a failed gate fails the run before any work, so before any write (`up`'s Free Tier guard).
pub async fn run_gated<'a>(
    steps: Vec<Step<'a>>,
    progress: &Reporter,
    verb: Verb,
    gate: impl Future<Output = anyhow::Result<()>> + 'a,
) -> anyhow::Result<Vec<Change>> {
    run_with(steps, progress, verb, None, Some(Box::pin(gate))).await
}

/// [`run`], but no step's work starts before every read ahead has succeeded: a failed read fails the run,
/// with `read_failed` as its context, before anything was written (`destroy` reads and checks the owner of
/// everything it would delete, and deletes nothing unless all of it is this stack's).
pub async fn run_after_reads(
    steps: Vec<Step<'_>>,
    progress: &Reporter,
    verb: Verb,
    read_failed: &'static str,
) -> anyhow::Result<Vec<Change>> {
    run_with(steps, progress, verb, Some(read_failed), None).await
}

/// Whether a step that `needs` these changed anything (`results` so far, by step as in `labels`).
fn a_need_changed(needs: &[&str], labels: &[&str], results: &[Vec<Change>]) -> bool {
    needs.iter().any(|need| {
        let need = labels.iter().position(|label| label == need);
        need.is_some_and(|i| results[i].iter().any(Change::is_mutation))
    })
}

/// What a finished read ahead leaves for its step's work. A failed read is made again by the work, or, with
/// `reads_first`, fails the run (the first error is kept).
fn kept_read(
    label: &str,
    found: anyhow::Result<Box<dyn Any>>,
    reads_first: Option<&'static str>,
    first_error: &mut Option<anyhow::Error>,
) -> Ahead {
    match (found, reads_first) {
        (Ok(found), _) => Some(found),
        (Err(err), Some(context)) => {
            first_error.get_or_insert(err.context(context));
            None
        }
        (Err(err), None) => {
            tracing::debug!(
                "{label}: reading ahead failed, it reads again after its needs: {err:#}"
            );
            None
        }
    }
}

async fn run_with<'a>(
    steps: Vec<Step<'a>>,
    progress: &Reporter,
    verb: Verb,
    reads_first: Option<&'static str>,
    gate: Option<LocalBoxFuture<'a, anyhow::Result<()>>>,
) -> anyhow::Result<Vec<Change>> {
    order(&steps)?;
    let needs: Vec<&[&str]> = steps.iter().map(|s| s.needs).collect();
    let labels: Vec<&str> = steps.iter().map(|s| s.label).collect();
    let mut events = FuturesUnordered::<LocalBoxFuture<'a, Event>>::new();
    let mut gate_open = gate.is_none();
    if let Some(gate) = gate {
        events.push(Box::pin(gate.map(Event::Gate)));
    }
    // Per step: `None` while its read ahead runs, then what it read.
    let mut read: Vec<Option<Ahead>> = Vec::with_capacity(labels.len());
    let keep: Vec<Keep> = steps.iter().map(|s| s.keep).collect();
    let mut pending: Vec<Option<Work<'_>>> = steps
        .into_iter()
        .enumerate()
        .map(|(index, step)| {
            let ahead = step
                .ahead
                .map(|ahead| ahead.map(move |found| Event::Read(index, found)));
            read.push(if ahead.is_some() { None } else { Some(None) });
            events.extend(ahead.map(|ahead| Box::pin(ahead) as LocalBoxFuture<'a, Event>));
            Some(step.work)
        })
        .collect();
    // Reads ahead still running.
    let mut reading = read.iter().filter(|r| r.is_none()).count();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut results: Vec<Vec<Change>> = vec![Vec::new(); labels.len()];
    let mut error = None;
    loop {
        if error.is_none() && gate_open && (reads_first.is_none() || reading == 0) {
            for index in 0..labels.len() {
                let ready =
                    read[index].is_some() && needs[index].iter().all(|need| done.contains(need));
                if let Some(work) = pending[index].take_if(|_| ready) {
                    let changed = keep[index] == Keep::IfNeedsUnchanged
                        && a_need_changed(needs[index], &labels, &results);
                    let ahead = read[index].take().flatten().filter(|_| !changed);
                    let started = progress.begin(labels[index]);
                    let work = work(ahead);
                    events.push(Box::pin(
                        async move { Event::Done(index, started, work.await) },
                    ));
                }
            }
        }
        let Some(event) = events.next().await else {
            break;
        };
        match event {
            Event::Read(index, found) => {
                reading -= 1;
                read[index] = Some(kept_read(labels[index], found, reads_first, &mut error));
            }
            Event::Done(index, started, Ok(changes)) => {
                progress.end(started, verb, &changes);
                done.insert(labels[index]);
                results[index] = changes;
            }
            Event::Gate(Ok(())) => gate_open = true,
            Event::Gate(Err(err)) => {
                error.get_or_insert(err);
            }
            Event::Done(_, started, Err(err)) => {
                progress.end(started, verb, &[]);
                error.get_or_insert(err);
            }
        }
    }
    match error {
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

    #[tokio::test]
    async fn reads_ahead_run_before_the_needs_and_count_only_when_nothing_they_need_changed() {
        use crate::change::Action;
        use std::sync::Mutex;
        let log = Mutex::new(Vec::new());
        let say = |line: &str| log.lock().unwrap().push(line.to_owned());
        let change = |action| vec![Change::new("Thing", "a", action)];
        let steps = vec![
            Step::new("unchanged", &[], || async {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                say("unchanged done");
                Ok(change(Action::Unchanged))
            }),
            Step::new("created", &[], || async {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                Ok(change(Action::Create))
            }),
            Step::read_ahead(
                "after unchanged",
                &["unchanged"],
                Keep::IfNeedsUnchanged,
                async {
                    say("read ahead");
                    Ok(7)
                },
                |read| async move {
                    say(&format!("after unchanged got {read:?}"));
                    Ok(Vec::new())
                },
            ),
            Step::read_ahead(
                "after created",
                &["created", "unchanged"],
                Keep::IfNeedsUnchanged,
                async { Ok(8) },
                |read| async move {
                    say(&format!("after created got {read:?}"));
                    Ok(Vec::new())
                },
            ),
            Step::read_ahead(
                "kept after created",
                &["created"],
                Keep::Always,
                async { Ok(9) },
                |read| async move {
                    say(&format!("kept after created got {read:?}"));
                    Ok(Vec::new())
                },
            ),
            Step::read_ahead(
                "read fails",
                &[],
                Keep::Always,
                async { Err::<u8, _>(anyhow::anyhow!("no table yet")) },
                |read| async move {
                    say(&format!("read fails got {read:?}"));
                    Ok(Vec::new())
                },
            ),
        ];
        run(steps, &Reporter::quiet(), Verb::Up).await.unwrap();
        let log = log.into_inner().unwrap();
        let at = |line: &str| log.iter().position(|l| l == line).unwrap_or(usize::MAX);
        assert!(at("read ahead") < at("unchanged done"), "{log:?}");
        assert!(
            at("unchanged done") < at("after unchanged got Some(7)"),
            "{log:?}"
        );
        assert!(
            log.contains(&"after created got None".to_owned()),
            "{log:?}"
        );
        assert!(
            log.contains(&"kept after created got Some(9)".to_owned()),
            "{log:?}"
        );
        assert!(log.contains(&"read fails got None".to_owned()), "{log:?}");
    }

    #[tokio::test]
    async fn after_reads_no_work_starts_before_every_read_is_in_and_a_failed_read_stops_all() {
        use std::sync::Mutex;
        use std::time::Duration;
        let log = Mutex::new(Vec::new());
        let say = |line: &str| log.lock().unwrap().push(line.to_owned());
        let steps = |fail: bool| {
            vec![
                Step::read_ahead("quick", &[], Keep::Always, async { Ok(1) }, |_| async {
                    say("quick work");
                    Ok(Vec::new())
                }),
                Step::read_ahead(
                    "slow",
                    &[],
                    Keep::Always,
                    async move {
                        tokio::time::sleep(Duration::from_millis(30)).await;
                        say("slow read");
                        match fail {
                            true => Err(anyhow::anyhow!("someone else's")),
                            false => Ok(2),
                        }
                    },
                    |_| async {
                        say("slow work");
                        Ok(Vec::new())
                    },
                ),
            ]
        };
        run_after_reads(steps(false), &Reporter::quiet(), Verb::Destroy, "checking")
            .await
            .unwrap();
        assert_eq!(
            log.lock().unwrap()[0],
            "slow read",
            "no work before the last read"
        );
        log.lock().unwrap().clear();
        let err = run_after_reads(steps(true), &Reporter::quiet(), Verb::Destroy, "checking")
            .await
            .unwrap_err();
        assert_eq!(format!("{err:#}"), "checking: someone else's");
        assert_eq!(*log.lock().unwrap(), vec!["slow read"], "no work at all");
    }

    #[tokio::test]
    async fn gated_reads_run_beside_the_gate_and_a_failed_gate_stops_all_work() {
        use std::sync::Mutex;
        use std::time::Duration;
        let log = Mutex::new(Vec::new());
        let say = |line: &str| log.lock().unwrap().push(line.to_owned());
        let steps = || {
            vec![Step::read_ahead(
                "step",
                &[],
                Keep::Always,
                async {
                    say("read");
                    Ok(1)
                },
                |_| async {
                    say("work");
                    Ok(Vec::new())
                },
            )]
        };
        let gate = |pass: bool| async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            say("gate");
            match pass {
                true => Ok(()),
                false => Err(anyhow::anyhow!("charges refused")),
            }
        };
        run_gated(steps(), &Reporter::quiet(), Verb::Up, gate(true))
            .await
            .unwrap();
        assert_eq!(*log.lock().unwrap(), vec!["read", "gate", "work"]);
        log.lock().unwrap().clear();
        let err = run_gated(steps(), &Reporter::quiet(), Verb::Up, gate(false))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "charges refused");
        assert_eq!(*log.lock().unwrap(), vec!["read", "gate"]);
    }
}
