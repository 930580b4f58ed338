//! Errors in scenario files, each pointing at file:line:column and a field.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Most diagnostics printed for one file. A hostile (or generated) file can
/// hold hundreds of thousands of mistakes; past the first screenful the rest
/// are counted, not printed: they are usually the same mistake repeated.
pub(super) const MAX_REPORTED: usize = 50;

/// Longest echo of a value the author wrote, in characters: a 10 MB string
/// is quoted by its start, not whole.
pub(super) const MAX_ECHO_CHARS: usize = 60;

/// One problem found in a scenario file.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// 1-based line of the problem in the file.
    pub line: usize,
    /// 1-based column, in characters, within that line.
    pub column: usize,
    /// Dotted path of the field, e.g. `workload.request[2].weight`.
    pub field: String,
    /// What is wrong and what would be valid.
    pub message: String,
}

/// Every problem found in one file: the loader reports them all at once
/// (up to 50, `MAX_REPORTED`; `more` counts the rest).
#[derive(Debug)]
pub struct ScenarioError {
    /// The scenario file, as given.
    pub path: PathBuf,
    /// The problems reported, in file order, each once.
    pub diagnostics: Vec<Diagnostic>,
    /// Problems found beyond the reported ones.
    pub more: usize,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}:{}: ", self.path.display(), d.line, d.column)?;
            if !d.field.is_empty() {
                write!(f, "{}: ", d.field)?;
            }
            write!(f, "{}", d.message)?;
        }
        if self.more > 0 {
            write!(
                f,
                "\n{}: and {} more error{} (only the first {MAX_REPORTED} are shown)",
                self.path.display(),
                self.more,
                if self.more == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// A problem recorded while checking: its position stays a byte offset until
/// the report is assembled, so that recording stays O(1) however many there
/// are and however long the lines.
struct Found {
    at: usize,
    field: String,
    message: String,
}

/// Collects diagnostics while a file is checked.
pub(super) struct Diagnostics<'a> {
    source: &'a str,
    path: &'a Path,
    found: Vec<Found>,
}

impl<'a> Diagnostics<'a> {
    pub(super) fn new(path: &'a Path, source: &'a str) -> Self {
        Diagnostics {
            source,
            path,
            found: Vec::new(),
        }
    }

    /// Record a problem at byte range `span` of the source.
    pub(super) fn error(
        &mut self,
        span: Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.found.push(Found {
            at: floor_char_boundary(self.source, span.start.min(self.source.len())),
            field: field.into(),
            message: message.into(),
        });
    }

    /// Whether anything was recorded so far.
    pub(super) fn has_errors(&self) -> bool {
        !self.found.is_empty()
    }

    /// The value when nothing was found, else every problem in file order.
    pub(super) fn finish<T>(mut self, value: Option<T>) -> Result<T, ScenarioError> {
        match value {
            Some(v) if self.found.is_empty() => return Ok(v),
            // A checker that gave up must have said why; never fail silently.
            None if self.found.is_empty() => self.error(0..0, "", "invalid scenario"),
            _ => {}
        }
        // Stable: problems at one place keep the order they were found in.
        self.found.sort_by_key(|d| d.at);
        // A phase that inherits a bad value from the phase it extends
        // meets the same error at the same place: report it once.
        self.found
            .dedup_by(|a, b| a.at == b.at && a.message == b.message);
        let more = self.found.len().saturating_sub(MAX_REPORTED);
        self.found.truncate(MAX_REPORTED);
        let lines = LineIndex::new(self.source);
        let diagnostics = self
            .found
            .into_iter()
            .map(|f| {
                let (line, column) = lines.line_col(self.source, f.at);
                Diagnostic {
                    line,
                    column,
                    field: f.field,
                    message: f.message,
                }
            })
            .collect();
        Err(ScenarioError {
            path: self.path.to_path_buf(),
            diagnostics,
            more,
        })
    }
}

/// Byte offsets of line starts, for many line:column look-ups in one file.
pub(super) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(super) fn new(source: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            source
                .bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    /// 1-based line and column (in characters) of byte offset `at`.
    pub(super) fn line_col(&self, source: &str, at: usize) -> (usize, usize) {
        let at = floor_char_boundary(source, at.min(source.len()));
        let line = self.starts.partition_point(|&s| s <= at);
        let start = self.starts[line - 1];
        (line, source[start..at].chars().count() + 1)
    }
}

/// 1-based line and column (in characters) of byte offset `at`.
#[cfg(test)]
pub(super) fn line_col(source: &str, at: usize) -> (usize, usize) {
    LineIndex::new(source).line_col(source, at)
}

/// 1-based line and column of byte offset `at` of bytes that are not (all)
/// UTF-8: the valid prefix is counted in characters.
pub(super) fn line_col_bytes(bytes: &[u8], at: usize) -> (usize, usize) {
    let at = at.min(bytes.len());
    let prefix = &bytes[..at];
    let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = prefix
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&prefix[start..]).chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A value the author wrote, for an error message: at most
/// [`MAX_ECHO_CHARS`] characters, the rest replaced by `…`, and control
/// characters escaped so that the message stays one line.
pub(super) fn echo(s: &str) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == MAX_ECHO_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A number for an error message: plain when it reads well, in scientific
/// notation when plain would be hundreds of digits (`1e308`, not its 309
/// digits).
pub(super) fn num(x: f64) -> String {
    let a = x.abs();
    if x.is_finite() && a != 0.0 && !(1e-9..1e15).contains(&a) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// Shorten every run of text between quotes or backticks in a message from
/// elsewhere (the TOML parser echoes whole values).
pub(super) fn shorten_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let q = rest.as_bytes()[open] as char;
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        match after.find(q) {
            Some(close) => {
                out.push_str(&echo(&after[..close]));
                out.push(q);
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&echo(after));
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let s = "a = 1\nñb = 2\n";
        assert_eq!(line_col(s, 0), (1, 1));
        assert_eq!(line_col(s, 6), (2, 1));
        // 'b' sits after the two-byte 'ñ'.
        assert_eq!(line_col(s, 8), (2, 2));
        assert_eq!(line_col(s, 999), (3, 1));
        // Inside a character: that character.
        assert_eq!(line_col(s, 7), (2, 1));
    }

    #[test]
    fn bad_bytes_are_located_by_the_characters_before_them() {
        assert_eq!(line_col_bytes(b"a = 1\n\xc3\xb1 = \xff", 11), (2, 5));
        assert_eq!(line_col_bytes(b"\xff\xfe", 0), (1, 1));
    }

    #[test]
    fn long_values_are_echoed_by_their_start() {
        let long = "x".repeat(1000);
        assert_eq!(echo(&long).chars().count(), MAX_ECHO_CHARS + 1);
        assert!(echo(&long).ends_with('…'));
        assert_eq!(echo("a\nb"), "a\\nb");
        let m = shorten_quoted(&format!("invalid type: string \"{long}\", expected x"));
        assert!(m.len() < 100 && m.ends_with("\", expected x"), "{m}");
        assert_eq!(num(1e308), "1e308");
        assert_eq!(num(-30.0), "-30");
        assert_eq!(num(0.001), "0.001");
    }
}
