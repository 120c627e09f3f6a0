//! The one writer to stdout. Every verb prints through [`crate::report::Reporter`], which decides *what* to
//! print (text or JSON, quiet or not); this writer decides *how*: while spinners are drawn on a terminal it
//! hides them for the moment it writes, otherwise it writes straight to stdout.

use std::io::{self, Write};

use indicatif::{MultiProgress, ProgressDrawTarget};

#[derive(Debug)]
pub(crate) struct Console {
    /// The spinners, drawn on stdout; `None` when stdout is not a terminal (or nothing is to be drawn).
    spinners: Option<MultiProgress>,
}

impl Console {
    /// With `spinners`, spinners are drawn on stdout (which the caller checked is a terminal) and lines
    /// printed above them; without, plain lines.
    pub(crate) fn new(spinners: bool) -> Self {
        Self {
            spinners: spinners
                .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stdout())),
        }
    }

    pub(crate) fn spinners(&self) -> Option<&MultiProgress> {
        self.spinners.as_ref()
    }

    /// Writes `text` and a newline. A reader that went away (`| head`) comes back as
    /// [`io::ErrorKind::BrokenPipe`] (see [`is_closed_pipe`]); `println!` would panic there instead.
    pub(crate) fn line(&self, text: &str) -> io::Result<()> {
        self.write(|out| writeln!(out, "{text}"))
    }

    /// Writes `text` without a newline, for a question whose answer is read next.
    pub(crate) fn prompt(&self, text: &str) -> io::Result<()> {
        self.write(|out| write!(out, "{text}"))
    }

    fn write(
        &self,
        text: impl FnOnce(&mut io::StdoutLock<'static>) -> io::Result<()>,
    ) -> io::Result<()> {
        let write = || {
            let mut out = io::stdout().lock();
            text(&mut out)?;
            out.flush()
        };
        match &self.spinners {
            Some(multi) => multi.suspend(write),
            None => write(),
        }
    }
}

/// Whether a write failed because the reader went away, which ends the output but is no failure.
pub(crate) fn is_closed_pipe(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::BrokenPipe
}
