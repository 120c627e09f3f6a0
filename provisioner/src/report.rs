//! What the learner sees: on a terminal a spinner per running step and one line per resource as it
//! finishes; plain lines when stdout is not a terminal; a single JSON document with `--output json` (one
//! line per document for `dev`, which prints several). [`Reporter`] is the only thing that prints a verb's
//! output; it hands the text to the one writer to stdout, `console::Console`.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::change::{Action, Change};
use crate::console::{is_closed_pipe, Console};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum OutputFormat {
    Text,
    Json,
}

/// The verb being reported, which decides the wording ("created" vs "would create" vs "missing").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    Up,
    Plan,
    Destroy,
    Status,
}

/// One resource change with the time its step took.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    #[serde(flatten)]
    pub change: Change,
    pub seconds: f64,
}

/// Everything a verb prints to stdout goes through here: progress, notes, the summary and the verb's result.
///
/// What shows when:
/// - progress (spinners, one line per change) and notes: text output only, not with `-q`;
/// - the verb's result (`finish`'s summary, [`Reporter::result`], [`Reporter::verbatim`], [`Reporter::stream`]):
///   in the chosen format; with `-q` only what was asked for is printed (JSON documents, the cost table, the
///   outputs, log events, a completion script), not the text summary of `up`/`plan`/`status`/`destroy`;
/// - [`Reporter::aside`]: a note on stderr, for verbs whose stdout is meant for a pipe; not with `-q`.
///
/// `-v` does not change what is printed here: it makes the AWS SDK log to stderr.
#[derive(Debug)]
pub struct Reporter {
    format: OutputFormat,
    quiet: bool,
    /// JSON documents on one line each (JSON Lines), for verbs that print several, such as `dev`.
    json_lines: bool,
    console: Console,
    recorded: Mutex<Vec<Recorded>>,
}

/// A step in progress (a spinner on a terminal).
pub struct Step {
    started: Instant,
    spinner: Option<ProgressBar>,
}

impl Reporter {
    /// Output in `format`; spinners only for text output on a terminal, and not when `quiet`.
    pub fn new(format: OutputFormat, quiet: bool) -> Self {
        let interactive = format == OutputFormat::Text && !quiet && std::io::stdout().is_terminal();
        Self {
            format,
            quiet,
            console: Console::new(interactive),
            ..Self::plain()
        }
    }

    /// Plain lines, no spinners (for tests and for callers such as `dev`).
    pub fn plain() -> Self {
        Self {
            format: OutputFormat::Text,
            quiet: false,
            json_lines: false,
            console: Console::new(false),
            recorded: Mutex::new(Vec::new()),
        }
    }

    /// Prints nothing; still records the changes.
    pub fn quiet() -> Self {
        Self {
            quiet: true,
            ..Self::plain()
        }
    }

    /// Prints each JSON document on one line (JSON Lines) instead of pretty-printed: for a verb that prints
    /// several documents over time, so that a script can read them line by line.
    pub fn json_lines(self) -> Self {
        Self {
            json_lines: true,
            ..self
        }
    }

    fn text(&self) -> bool {
        self.format == OutputFormat::Text && !self.quiet
    }

    /// A line of information or a hint on what to do next (text output only, not with `-q`). A line that
    /// cannot be written is dropped: it must not fail a deployment halfway.
    pub fn note(&self, line: &str) {
        if self.text() {
            let _ = self.console.line(line);
        }
    }

    /// A note on stderr (not with `-q`), for verbs such as `logs` whose stdout is data for a pipe.
    pub fn aside(&self, line: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }

    /// The verb's result: `value` as JSON with `--output json`, else `render_text(value)`; printed with `-q`
    /// too, since it is what was asked for. A reader that went away (`| head`) is not an error.
    pub fn result<T: Serialize + ?Sized>(
        &self,
        value: &T,
        render_text: impl FnOnce(&T) -> String,
    ) -> anyhow::Result<()> {
        let text = match self.format {
            OutputFormat::Json => self.json(value)?,
            OutputFormat::Text => render_text(value),
        };
        self.verbatim(&text)
    }

    /// Text that is the same in every format, such as a shell completion script; printed with `-q` too.
    pub fn verbatim(&self, text: &str) -> anyhow::Result<()> {
        match self.console.line(text) {
            Err(err) if !is_closed_pipe(&err) => Err(err).context("writing to stdout"),
            _ => Ok(()),
        }
    }

    /// One line of a stream that may go on for long (`logs --follow`); printed with `-q` too. Unlike
    /// [`Reporter::verbatim`] a closed pipe comes back as an error (`BrokenPipe`), so the caller can stop.
    pub fn stream(&self, line: &str) -> std::io::Result<()> {
        self.console.line(line)
    }

    /// One item of a stream (`orders --follow`): a JSON line with `--output json`, else `render_text(value)`;
    /// like [`Reporter::stream`], a closed pipe comes back as an error.
    pub fn stream_value<T: Serialize>(
        &self,
        value: &T,
        render_text: impl FnOnce(&T) -> String,
    ) -> std::io::Result<()> {
        match self.format {
            OutputFormat::Json => self.stream(&serde_json::to_string(value)?),
            OutputFormat::Text => self.stream(&render_text(value)),
        }
    }

    /// Asks a question on stdout and reads one line of answer from stdin.
    pub fn ask(&self, question: &str) -> anyhow::Result<String> {
        self.console.prompt(question).context("writing to stdout")?;
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .context("reading the answer from stdin")?;
        Ok(answer)
    }

    /// A status line that keeps changing, e.g. request counters (see [`Live`]).
    pub fn live(&self, status: &str) -> Live<'_> {
        let spinner = self.spinner(status, 200, None);
        Live {
            reporter: self,
            spinner,
            shown: status.to_owned(),
            shown_at: Instant::now(),
        }
    }

    fn json<T: Serialize + ?Sized>(&self, value: &T) -> serde_json::Result<String> {
        if self.json_lines {
            serde_json::to_string(value)
        } else {
            serde_json::to_string_pretty(value)
        }
    }

    pub fn begin(&self, label: &str) -> Step {
        let style =
            ProgressStyle::with_template("  {spinner} {msg} {elapsed}").expect("valid template");
        Step {
            started: Instant::now(),
            spinner: self.spinner(label, 100, Some(style)),
        }
    }

    /// A spinner showing `message` (on a terminal only), ticking every `tick_ms`.
    fn spinner(
        &self,
        message: &str,
        tick_ms: u64,
        style: Option<ProgressStyle>,
    ) -> Option<ProgressBar> {
        self.console.spinners().map(|multi| {
            let bar = multi.add(ProgressBar::new_spinner());
            if let Some(style) = style {
                bar.set_style(style);
            }
            bar.set_message(message.to_owned());
            bar.enable_steady_tick(Duration::from_millis(tick_ms));
            bar
        })
    }

    /// Ends a step: one line per change, and remembers them for the summary.
    pub fn end(&self, step: Step, verb: Verb, changes: &[Change]) {
        if let Some(spinner) = &step.spinner {
            spinner.finish_and_clear();
        }
        let seconds = step.started.elapsed().as_secs_f64();
        for change in changes {
            self.note(&format_change(verb, change, seconds));
        }
        let mut recorded = self.recorded.lock().expect("reporter lock");
        recorded.extend(changes.iter().map(|change| Recorded {
            change: change.clone(),
            seconds,
        }));
    }

    /// Everything recorded so far, in the order the steps finished.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.recorded.lock().expect("reporter lock").clone()
    }

    /// The final summary: text lines, or the JSON document (`extra` holds URLs and the like). Like a note,
    /// a summary that cannot be written is dropped: the work it reports is done.
    pub fn finish(&self, verb: Verb, elapsed: Duration, extra: serde_json::Value) {
        let recorded = self.recorded();
        let counts = Counts::of(recorded.iter().map(|r| &r.change));
        match self.format {
            OutputFormat::Json => {
                let document = serde_json::json!({
                    "verb": verb,
                    "seconds": elapsed.as_secs_f64(),
                    "summary": counts,
                    "changes": recorded,
                    "details": extra,
                });
                let _ = self
                    .console
                    .line(&self.json(&document).expect("serialisable"));
            }
            OutputFormat::Text if !self.quiet => {
                let map = extra.as_object().cloned().unwrap_or_default();
                let (groups, values): (Vec<_>, Vec<_>) =
                    map.iter().partition(|(_, value)| value.is_object());
                for (key, value) in values {
                    self.note(&format!("{}: {}", label(key), plain(value)));
                }
                self.note(&counts.sentence(verb, elapsed));
                // Groups (console links) come last: what to open next ends the summary.
                for (key, group) in groups {
                    self.note(&group_lines(key, group).join("\n"));
                }
            }
            OutputFormat::Text => {}
        }
    }
}

/// A status line that keeps changing (`dev`'s request counters). On a terminal it is a spinner whose message
/// is replaced; elsewhere a plain line is printed when the status changed, at most every
/// [`Live::PLAIN_LINE_EVERY`], so that a log file does not fill with one line per tick. Like a note, it shows
/// in text output only and not with `-q`. The spinner goes away when the `Live` is dropped.
pub struct Live<'a> {
    reporter: &'a Reporter,
    spinner: Option<ProgressBar>,
    /// The status last shown, and when.
    shown: String,
    shown_at: Instant,
}

impl Live<'_> {
    pub const PLAIN_LINE_EVERY: Duration = Duration::from_secs(10);

    pub fn set(&mut self, status: &str) {
        if let Some(spinner) = &self.spinner {
            spinner.set_message(status.to_owned());
        } else if status != self.shown && self.shown_at.elapsed() >= Self::PLAIN_LINE_EVERY {
            self.reporter.note(status);
            status.clone_into(&mut self.shown);
            self.shown_at = Instant::now();
        }
    }
}

impl Drop for Live<'_> {
    fn drop(&mut self) {
        if let Some(spinner) = &self.spinner {
            spinner.finish_and_clear();
        }
    }
}

/// A JSON value as text: strings without their quotes.
fn plain(value: &serde_json::Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

/// A JSON object as a heading and one indented line per entry: `console links` / `  function  https://...`.
pub fn group_lines(key: &str, group: &serde_json::Value) -> Vec<String> {
    let entries = group.as_object().into_iter().flatten();
    let lines = entries.map(|(key, value)| format!("  {:<22} {}", label(key), plain(value)));
    std::iter::once(format!("{}:", label(key)))
        .chain(lines)
        .collect()
}

/// `website_url` → `website URL`: JSON keys read as words in text output.
fn label(key: &str) -> String {
    key.split('_')
        .map(|word| match word {
            "url" | "api" | "id" => word.to_uppercase(),
            _ => word.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub unchanged: usize,
    pub delete: usize,
    pub already_gone: usize,
}

impl Counts {
    pub fn of<'a>(changes: impl Iterator<Item = &'a Change>) -> Self {
        let mut counts = Counts::default();
        for change in changes {
            match change.action {
                Action::Create => counts.create += 1,
                Action::Update { .. } => counts.update += 1,
                Action::Unchanged => counts.unchanged += 1,
                Action::Delete => counts.delete += 1,
                Action::AlreadyGone => counts.already_gone += 1,
            }
        }
        counts
    }

    fn sentence(&self, verb: Verb, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64();
        match verb {
            Verb::Up => format!(
                "up: {} created, {} updated, {} unchanged in {secs:.1} s",
                self.create, self.update, self.unchanged
            ),
            Verb::Plan => format!(
                "plan: {} to create, {} to update, {} unchanged (nothing was changed)",
                self.create, self.update, self.unchanged
            ),
            Verb::Status => format!(
                "status: {} missing, {} drifted, {} as configured",
                self.create, self.update, self.unchanged
            ),
            Verb::Destroy => format!(
                "destroy: {} deleted, {} already gone in {secs:.1} s",
                self.delete, self.already_gone
            ),
        }
    }
}

/// One line for one change, e.g. `  ~ updated    DynamoDB table shopsmart-dev-carts: read_capacity 1 → 2 (0.3 s)`.
pub fn format_change(verb: Verb, change: &Change, seconds: f64) -> String {
    let (sign, word) = match (&change.action, verb) {
        (Action::Create, Verb::Up) => ("+", "created"),
        (Action::Create, Verb::Plan) => ("+", "create"),
        (Action::Create, _) => ("-", "missing"),
        (Action::Update { .. }, Verb::Up) => ("~", "updated"),
        (Action::Update { .. }, Verb::Plan) => ("~", "update"),
        (Action::Update { .. }, _) => ("~", "drifted"),
        (Action::Unchanged, Verb::Status) => ("=", "ok"),
        (Action::Unchanged, _) => ("=", "unchanged"),
        (Action::Delete, Verb::Destroy) => ("-", "deleted"),
        (Action::Delete, _) => ("-", "delete"),
        (Action::AlreadyGone, _) => ("=", "gone"),
    };
    let mut line = format!("  {sign} {word:<10} {} {}", change.kind, change.id);
    if let Action::Update { fields } = &change.action {
        let fields: Vec<String> = fields
            .iter()
            .map(|f| format!("{} {} → {}", f.field, shorten(&f.old), shorten(&f.new)))
            .collect();
        line.push_str(": ");
        line.push_str(&fields.join("; "));
    }
    if verb != Verb::Plan && verb != Verb::Status {
        line.push_str(&format!(" ({seconds:.1} s)"));
    }
    line
}

/// Most items a listed value shows on a line (e.g. the uploaded website files); `--output json` has them all.
const LISTED_ITEMS: usize = 5;

/// `29 (a, b, c, ...)` → `29 (a, b, c, d, e and 24 more)`: one resource stays one readable line.
fn shorten(value: &str) -> String {
    let Some((head, list)) = value
        .strip_suffix(')')
        .and_then(|rest| rest.split_once(" ("))
    else {
        return value.to_owned();
    };
    let items: Vec<&str> = list.split(", ").collect();
    if items.len() <= LISTED_ITEMS {
        return value.to_owned();
    }
    format!(
        "{head} ({} and {} more)",
        items[..LISTED_ITEMS].join(", "),
        items.len() - LISTED_ITEMS
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::FieldChange;

    #[test]
    fn lines_name_the_resource_and_the_fields() {
        let change = Change::new(
            "Lambda function",
            "shopsmart-dev-api",
            Action::Update {
                fields: vec![FieldChange::new("memory_mb", 128, 256)],
            },
        );
        assert_eq!(
            format_change(Verb::Plan, &change, 0.0),
            "  ~ update     Lambda function shopsmart-dev-api: memory_mb 128 → 256"
        );
        assert_eq!(
            format_change(
                Verb::Up,
                &Change::new("IAM role", "r", Action::Create),
                1.25
            ),
            "  + created    IAM role r (1.2 s)"
        );
    }

    #[test]
    fn json_keys_read_as_words() {
        assert_eq!(label("website_url"), "website URL");
        assert_eq!(label("api_url"), "API URL");
        assert_eq!(label("region"), "region");
    }

    #[test]
    fn long_lists_are_cut_to_a_readable_line() {
        assert_eq!(
            shorten("7 (a, b, c, d, e, f, g)"),
            "7 (a, b, c, d, e and 2 more)"
        );
        assert_eq!(shorten("3 (a, b, c)"), "3 (a, b, c)");
        assert_eq!(shorten("x (y)"), "x (y)");
        assert_eq!(shorten("128"), "128");
    }
}
