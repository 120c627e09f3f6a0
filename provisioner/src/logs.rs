//! `shopsmart-deploy logs`: the function's log events from CloudWatch Logs, made readable. The function
//! logs JSON lines in Lambda (see function/src/logging.rs); those are pretty-printed, anything else (the
//! Lambda platform's START/END/REPORT lines) is printed as it is. The events are printed as text with either
//! `--output`: they are already the function's own JSON lines, made readable. Messages about the events
//! (none found, following) go to stderr, so that stdout holds only events for a pipe.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use aws_sdk_cloudwatchlogs::types::FilteredLogEvent;

use crate::aws_error::AwsContext;
use crate::report::Reporter;
use crate::resources::Ctx;

/// Where the previous read stopped, so `--follow` prints each event once.
#[derive(Debug, Default)]
pub struct Cursor {
    /// Milliseconds since the epoch of the newest event seen (where the first read starts).
    pub newest_ms: i64,
    /// Ids of the events at `newest_ms` (the next read starts at that same millisecond).
    seen_at_newest: HashSet<String>,
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Prints the events from `cursor` on, advances it, and returns how many were printed.
pub async fn print_new_events(
    ctx: &Ctx,
    cursor: &mut Cursor,
    out: &Reporter,
) -> anyhow::Result<usize> {
    let log_group = ctx.names.log_group();
    let mut pages = ctx
        .aws
        .logs
        .filter_log_events()
        .log_group_name(&log_group)
        .start_time(cursor.newest_ms)
        .into_paginator()
        .send();
    let mut printed = 0;
    let mut events: Vec<FilteredLogEvent> = Vec::new();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => bail!(
                "log group {log_group} does not exist; hint: run `shopsmart-deploy up` first (it creates the \
                 log group before the function), and check --stage/--region"
            ),
            Err(err) => return Err(err).aws_context(|| format!("reading log events (log group {log_group})")),
        };
        events.extend(page.events().iter().cloned());
    }
    events.sort_by_key(|event| event.timestamp().unwrap_or(0));
    for event in events {
        let timestamp = event.timestamp().unwrap_or(0);
        let id = event.event_id().unwrap_or_default().to_owned();
        if timestamp < cursor.newest_ms
            || (timestamp == cursor.newest_ms && cursor.seen_at_newest.contains(&id))
        {
            continue;
        }
        if timestamp > cursor.newest_ms {
            cursor.newest_ms = timestamp;
            cursor.seen_at_newest.clear();
        }
        cursor.seen_at_newest.insert(id);
        out.stream(&render_event(
            timestamp,
            event.message().unwrap_or_default(),
        ))?;
        printed += 1;
    }
    Ok(printed)
}

/// One event: its time, then the message, pretty-printed when it is a JSON object.
pub fn render_event(timestamp_ms: i64, message: &str) -> String {
    let time =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(timestamp_ms) * 1_000_000)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| timestamp_ms.to_string());
    let message = message.trim_end();
    match serde_json::from_str::<serde_json::Value>(message) {
        Ok(json @ serde_json::Value::Object(_)) => {
            let pretty = serde_json::to_string_pretty(&json).unwrap_or_else(|_| message.to_owned());
            // Indented under the time: two spaces before every line.
            format!("{time}\n  {}", pretty.replace('\n', "\n  "))
        }
        _ => format!("{time}  {message}"),
    }
}

/// `logs [--follow] [--since D]`: prints, then with `follow` polls for new events until Ctrl-C (or SIGTERM).
pub async fn run(ctx: &Ctx, since: Duration, follow: bool, out: &Reporter) -> anyhow::Result<()> {
    match print_then_follow(ctx, since, follow, out).await {
        // The reader went away (`logs | head`): that ends the output, it is not a failure.
        Err(err) if is_broken_pipe(&err) => Ok(()),
        result => result,
    }
}

async fn print_then_follow(
    ctx: &Ctx,
    since: Duration,
    follow: bool,
    out: &Reporter,
) -> anyhow::Result<()> {
    // Listening starts before the first read: a Ctrl-C at any moment from here on ends `--follow` cleanly
    // (a listener created per loop turn would miss a signal that arrives while a read is running).
    let mut stop = follow.then(StopSignals::listen).transpose()?;
    let mut cursor = Cursor {
        newest_ms: now_ms() - since.as_millis() as i64,
        ..Cursor::default()
    };
    let printed = print_new_events(ctx, &mut cursor, out).await?;
    let Some(stop) = stop.as_mut() else {
        if printed == 0 {
            out.aside(&format!(
                "No log events in the last {}; the function logs one line per request (open the website to make some), \
                 or widen the window with --since 1h.",
                humantime::format_duration(since)
            ));
        }
        return Ok(());
    };
    out.aside(&format!(
        "Following {} (Ctrl-C to stop) ...",
        ctx.names.log_group()
    ));
    // Polling is what CloudWatch offers without a paid Live Tail session; 2 s keeps well inside API limits.
    let mut poll = tokio::time::interval(Duration::from_secs(2));
    poll.tick().await; // the first tick is immediate, and the first read just happened
    loop {
        tokio::select! {
            _ = stop.received() => return Ok(()),
            _ = poll.tick() => { print_new_events(ctx, &mut cursor, out).await?; }
        }
    }
}

/// SIGINT (Ctrl-C) and SIGTERM, registered once so that none is lost between two waits.
pub(crate) struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    pub(crate) fn listen() -> anyhow::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).context("listening for Ctrl-C (SIGINT)")?,
            terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
        })
    }

    pub(crate) async fn received(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

pub(crate) fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::render_event;

    #[test]
    fn pretty_prints_json_lines_and_keeps_plain_ones() {
        let json = render_event(
            0,
            r#"{"level":"INFO","fields":{"message":"answered","status":200}}"#,
        );
        assert!(json.starts_with("1970-01-01T00:00:00Z\n  {"), "{json}");
        assert!(json.contains("\n    \"level\": \"INFO\""), "{json}");
        let plain = render_event(1_000, "START RequestId: abc Version: $LATEST\n");
        assert_eq!(
            plain,
            "1970-01-01T00:00:01Z  START RequestId: abc Version: $LATEST"
        );
    }
}
