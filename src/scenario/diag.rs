//! Errors in scenario files, each pointing at file:line:column and a field.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem found in a scenario file.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    /// Dotted path of the field, e.g. `workload.request[2].weight`.
    pub field: String,
    /// What is wrong and what would be valid.
    pub message: String,
}

/// Every problem found in one file: the loader reports them all at once.
#[derive(Debug)]
pub struct ScenarioError {
    pub path: PathBuf,
    pub diagnostics: Vec<Diagnostic>,
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
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Collects diagnostics while a file is checked.
pub struct Diagnostics<'a> {
    source: &'a str,
    path: &'a Path,
    found: Vec<Diagnostic>,
}

impl<'a> Diagnostics<'a> {
    pub fn new(path: &'a Path, source: &'a str) -> Self {
        Diagnostics {
            source,
            path,
            found: Vec::new(),
        }
    }

    /// Record a problem at byte range `span` of the source.
    pub fn error(
        &mut self,
        span: Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) {
        let (line, column) = line_col(self.source, span.start);
        self.found.push(Diagnostic {
            line,
            column,
            field: field.into(),
            message: message.into(),
        });
    }

    /// The value when nothing was found, else every problem in file order.
    pub fn finish<T>(mut self, value: Option<T>) -> Result<T, ScenarioError> {
        match value {
            Some(v) if self.found.is_empty() => return Ok(v),
            // A checker that gave up must have said why; never fail silently.
            None if self.found.is_empty() => self.error(0..0, "", "invalid scenario"),
            _ => {}
        }
        {
            self.found.sort_by_key(|d| (d.line, d.column));
            // A phase that inherits a bad value from the phase it extends
            // meets the same error at the same place: report it once.
            self.found.dedup_by(|a, b| {
                a.line == b.line && a.column == b.column && a.message == b.message
            });
            Err(ScenarioError {
                path: self.path.to_path_buf(),
                diagnostics: self.found,
            })
        }
    }
}

/// 1-based line and column (in characters) of byte offset `at`.
pub fn line_col(source: &str, at: usize) -> (usize, usize) {
    let at = at.min(source.len());
    let before = &source[..floor_char_boundary(source, at)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
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
    }
}
