//! The dotted path of the field at a byte offset of a TOML document
//! (`phase[0].app.hosts`), for errors that serde reports with a span only.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Nesting beyond this is not walked (TOML allows arbitrarily deep arrays;
/// no scenario field is deeper than a handful of levels).
const MAX_DEPTH: usize = 16;

/// The dotted path of the innermost key or value whose span holds byte
/// `at`, or `None` if none does. The document is read with the parser's
/// error recovery, so a file with a syntax error still yields a path.
pub(super) fn path_at(source: &str, at: usize) -> Option<String> {
    let (doc, _) = DeTable::parse_recoverable(source);
    let mut best = Best::default();
    walk_table(doc.get_ref(), at, &mut String::new(), 0, &mut best);
    best.path
}

#[derive(Default)]
struct Best {
    /// Depth and span length of the match so far: deeper wins, then shorter.
    rank: Option<(usize, usize)>,
    path: Option<String>,
}

impl Best {
    fn offer(&mut self, span: std::ops::Range<usize>, at: usize, depth: usize, path: &str) {
        let holds = span.start <= at && at < span.end.max(span.start + 1);
        if !holds || path.is_empty() {
            return;
        }
        let len = span.end.saturating_sub(span.start);
        let better = match self.rank {
            None => true,
            Some((d, l)) => depth > d || (depth == d && len < l),
        };
        if better {
            self.rank = Some((depth, len));
            self.path = Some(path.to_string());
        }
    }
}

fn walk_table(t: &DeTable, at: usize, path: &mut String, depth: usize, best: &mut Best) {
    if depth > MAX_DEPTH {
        return;
    }
    for (k, v) in t.iter() {
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        push_key(path, k.get_ref());
        // The key itself (an unknown field points here) ranks below its
        // value's insides but above the enclosing table.
        best.offer(k.span(), at, depth + 1, path);
        walk_value(v, at, path, depth + 1, best);
        path.truncate(len);
    }
}

fn walk_value(v: &Spanned<DeValue>, at: usize, path: &mut String, depth: usize, best: &mut Best) {
    best.offer(v.span(), at, depth, path);
    match v.get_ref() {
        DeValue::Table(t) => walk_table(t, at, path, depth, best),
        DeValue::Array(a) if depth <= MAX_DEPTH => {
            for (i, x) in a.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk_value(x, at, path, depth + 1, best);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// A key as the author would write it: bare if it can be, else quoted
/// (also how `--set` names the field it sets).
pub(super) fn push_key(path: &mut String, key: &str) {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        path.push_str(&super::diag::echo(key));
    } else {
        path.push('"');
        path.push_str(&super::diag::echo(key));
        path.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_tables_arrays_and_inline_keys() {
        let s =
            "[[phase]]\nname = \"a\"\n[[phase]]\nname = \"b\"\napp = { hosts = 1, cores = 2 }\n";
        let at = s.find("cores").unwrap();
        assert_eq!(path_at(s, at).as_deref(), Some("phase[1].app.cores"));
        let at = s.find("\"b\"").unwrap();
        assert_eq!(path_at(s, at).as_deref(), Some("phase[1].name"));
        let s = "users = [1, 2, \"x\"]";
        assert_eq!(path_at(s, 15).as_deref(), Some("users[2]"));
        assert_eq!(
            path_at("[plan]\n\"a b\" = 1", 8).as_deref(),
            Some("plan.\"a b\"")
        );
    }
}
