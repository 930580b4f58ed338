//! The edit a `--set` makes to a scenario's TOML text: the value replaces
//! the one written, or a key is added where its table is written (see the
//! parent module); and the way back from a diagnostic of the edited text to
//! the file's own line and column.

use super::{toml_string, Override, Seg};
use crate::scenario::diag::{echo, Diagnostic};
use std::ops::Range;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// A key as TOML text: bare if it can be, else quoted.
fn key_text(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        toml_string(k)
    }
}

/// Where an edit went in the edited text, to read diagnostics back in the
/// file's own lines and columns.
#[derive(Clone, Debug)]
pub(super) struct Edit {
    /// The argument that made it.
    arg: String,
    /// The field it set, as the loader names fields (`phase[0].app.hosts`).
    field: String,
    /// 1-based line of the edit in the edited text.
    line: usize,
    /// 1-based column (characters) where the new text starts.
    column: usize,
    /// Characters written, and characters of the text they replaced.
    new_chars: usize,
    old_chars: usize,
    /// The edit is a line of its own, inserted before `line + 1` of the
    /// file (so the file's later lines moved down by one).
    new_line: bool,
}

/// How a table is written, which decides where a new key goes.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// The document itself.
    Root,
    /// `[table]` or `[[table]]`: a new key goes on the line after it.
    Header,
    /// `{ … }`: a new key goes before the `}`.
    Inline,
    /// Made by dotted keys or a sub-table's header: a new key goes in the
    /// table above, dotted.
    Implicit,
}

fn kind_of(text: &str, span: &Range<usize>) -> Kind {
    match text.get(span.clone()).and_then(|s| s.chars().next()) {
        Some('{') => Kind::Inline,
        Some('[') => Kind::Header,
        _ => Kind::Implicit,
    }
}

/// A table on the way down, for inserting into.
struct Frame<'t, 'a> {
    table: &'t DeTable<'a>,
    span: Range<usize>,
    kind: Kind,
    /// Its key in the table above (for a dotted insertion through it).
    key: String,
}

/// A failure to apply an override: what, and the byte in the text where the
/// path stopped.
pub(super) struct Miss {
    pub(super) at: usize,
    pub(super) message: String,
}

/// `text` with `o` set to `literal`, and where the edit went; `Ok(None)`
/// when the text is not TOML (the loader then says why).
pub(super) fn apply(
    text: &str,
    o: &Override,
    literal: &str,
) -> Result<Option<(String, Edit)>, Miss> {
    let Ok(doc) = DeTable::parse(text) else {
        return Ok(None);
    };
    let mut frames = vec![Frame {
        table: doc.get_ref(),
        span: 0..0,
        kind: Kind::Root,
        key: String::new(),
    }];
    let mut field = String::new();
    let mut at: Option<&Spanned<DeValue>> = None;
    let mut i = 0;
    while i < o.segs.len() {
        let seg = &o.segs[i];
        let here = if field.is_empty() {
            "the scenario".to_string()
        } else {
            format!("`{field}`")
        };
        let stop = at.map_or(0, |v| v.span().start);
        match (at.map(|v| v.get_ref()), seg) {
            // In a table (the root, or a table reached).
            (None | Some(DeValue::Table(_)), Seg::Key(k)) => {
                let table = frames.last().expect("the root").table;
                match table.iter().find(|(name, _)| name.get_ref() == k) {
                    Some((_, v)) => {
                        push_field(&mut field, &Seg::Key(k.clone()));
                        if let DeValue::Table(t) = v.get_ref() {
                            frames.push(Frame {
                                table: t,
                                span: v.span(),
                                kind: kind_of(text, &v.span()),
                                key: k.clone(),
                            });
                        }
                        at = Some(v);
                    }
                    None => {
                        // A new key: every step left must be a key.
                        let mut keys = Vec::new();
                        for s in &o.segs[i..] {
                            match s {
                                Seg::Key(k) => keys.push(k.clone()),
                                Seg::Index(n) => {
                                    return Err(Miss {
                                        at: stop,
                                        message: format!(
                                            "{here} has no `{}`, so it has no entry [{n}]",
                                            echo(k)
                                        ),
                                    })
                                }
                            }
                        }
                        for k in &keys {
                            push_field(&mut field, &Seg::Key(k.clone()));
                        }
                        return Ok(Some(insert(text, &mut frames, keys, literal, o, field)));
                    }
                }
            }
            (None | Some(DeValue::Table(_)), Seg::Index(n)) => {
                return Err(Miss {
                    at: stop,
                    message: format!(
                    "{here} is a table, not a list, so it has no entry [{n}]: name one of its keys"
                ),
                })
            }
            (Some(DeValue::Array(a)), seg) => {
                let found = match seg {
                    Seg::Index(n) => a.get(*n).map(|v| (*n, v)).ok_or_else(|| Miss {
                        at: stop,
                        message: if a.is_empty() {
                            format!("{here} is an empty list")
                        } else {
                            format!(
                                "{here} has {} entries, [0] to [{}] (got [{n}])",
                                a.len(),
                                a.len() - 1
                            )
                        },
                    })?,
                    Seg::Key(name) => {
                        let names: Vec<&str> = a.iter().filter_map(entry_name).collect();
                        a.iter()
                            .enumerate()
                            .find(|(_, v)| entry_name(v) == Some(name.as_str()))
                            .ok_or_else(|| Miss {
                                at: stop,
                                message: format!(
                                    "{here} has no entry named `{}`; {}",
                                    echo(name),
                                    if names.is_empty() {
                                        "its entries have no names: choose one by index, [0]"
                                            .to_string()
                                    } else {
                                        format!(
                                            "names: {}; or choose one by index, [0] to [{}]",
                                            crate::scenario::quoted_in_order(&names),
                                            a.len() - 1
                                        )
                                    }
                                ),
                            })?
                    }
                };
                push_field(&mut field, &Seg::Index(found.0));
                if let DeValue::Table(t) = found.1.get_ref() {
                    frames.push(Frame {
                        table: t,
                        span: found.1.span(),
                        kind: kind_of(text, &found.1.span()),
                        key: String::new(),
                    });
                }
                at = Some(found.1);
            }
            (Some(_), _) => {
                return Err(Miss {
                    at: stop,
                    message: format!("{here} is a single value; nothing is inside it"),
                })
            }
        }
        i += 1;
    }
    let v = at.expect("a path has at least one key");
    let span = v.span();
    let whole = match v.get_ref() {
        DeValue::Table(_) => kind_of(text, &span) != Kind::Inline,
        DeValue::Array(a) => a
            .first()
            .is_some_and(|x| kind_of(text, &x.span()) == Kind::Header),
        _ => false,
    };
    if whole {
        return Err(Miss {
            at: span.start,
            message: format!(
                "`{field}` is a whole section of the file; set its fields one at a time (--set {}.KEY=VALUE)",
                o.path
            ),
        });
    }
    let (line, column) = line_col(text, span.start);
    let old = &text[span.clone()];
    let mut out = String::with_capacity(text.len() + literal.len());
    out.push_str(&text[..span.start]);
    out.push_str(literal);
    out.push_str(&text[span.end..]);
    Ok(Some((
        out,
        Edit {
            arg: o.arg.clone(),
            field,
            line,
            column,
            new_chars: literal.chars().count(),
            old_chars: old.chars().count(),
            new_line: false,
        },
    )))
}

/// The `name` of a list entry that is a table with a string `name`.
pub(super) fn entry_name<'v>(v: &'v Spanned<DeValue<'_>>) -> Option<&'v str> {
    let DeValue::Table(t) = v.get_ref() else {
        return None;
    };
    t.iter()
        .find(|(k, _)| k.get_ref() == "name")
        .and_then(|(_, v)| v.get_ref().as_str())
        .map(str::trim)
}

/// The field's dotted path one step further, as the loader names fields.
fn push_field(field: &mut String, seg: &Seg) {
    match seg {
        Seg::Key(k) => {
            if !field.is_empty() {
                field.push('.');
            }
            crate::scenario::path::push_key(field, k);
        }
        Seg::Index(n) => field.push_str(&format!("[{n}]")),
    }
}

/// Add `keys = literal` to the innermost table of `frames` that can take a
/// key of its own (through implicit tables, as a dotted key).
fn insert(
    text: &str,
    frames: &mut Vec<Frame>,
    mut keys: Vec<String>,
    literal: &str,
    o: &Override,
    field: String,
) -> (String, Edit) {
    while frames.last().is_some_and(|f| f.kind == Kind::Implicit) {
        let f = frames.pop().expect("checked");
        keys.insert(0, f.key);
    }
    let f = frames.last().expect("the root is never implicit");
    let dotted: Vec<String> = keys.iter().map(|k| key_text(k)).collect();
    let pair = format!("{} = {literal}", dotted.join("."));
    let edit = |line, column, new_chars, new_line| Edit {
        arg: o.arg.clone(),
        field: field.clone(),
        line,
        column,
        new_chars,
        old_chars: 0,
        new_line,
    };
    match f.kind {
        Kind::Inline => {
            // Before the closing brace, after the last key if any.
            let close = f.span.end.saturating_sub(1);
            let piece = if f.table.iter().next().is_some() {
                format!(", {pair} ")
            } else {
                format!("{pair} ")
            };
            let (line, column) = line_col(text, close);
            let out = format!("{}{piece}{}", &text[..close], &text[close..]);
            (out, edit(line, column, piece.chars().count(), false))
        }
        Kind::Header | Kind::Root => {
            // The line after the header (for the root, the first line).
            let at = if f.kind == Kind::Root {
                0
            } else {
                text[f.span.end..]
                    .find('\n')
                    .map_or(text.len(), |i| f.span.end + i + 1)
            };
            let newline = if at == text.len() && !text.ends_with('\n') && at > 0 {
                "\n"
            } else {
                ""
            };
            let out = format!("{}{newline}{pair}\n{}", &text[..at], &text[at..]);
            let (line, _) = line_col(&out, at + newline.len());
            (out, edit(line, 1, pair.chars().count(), true))
        }
        Kind::Implicit => unreachable!("implicit tables were passed through"),
    }
}

/// 1-based line and column (characters) of byte `at` of `text`.
pub(super) fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// A diagnostic of the edited text read back in the file's own lines and
/// columns; one about an edit names its `--set` argument.
pub(super) fn map_back(mut d: Diagnostic, edits: &[Edit]) -> Diagnostic {
    let mut named = false;
    for e in edits.iter().rev() {
        let about_field = d.field == e.field
            || d.field.starts_with(&format!("{}.", e.field))
            || d.field.starts_with(&format!("{}[", e.field));
        let inside = if e.new_line {
            d.line == e.line
        } else {
            d.line == e.line && d.column >= e.column && d.column < e.column + e.new_chars.max(1)
        };
        if (inside || about_field) && !named {
            named = true;
            d.field = if d.field.is_empty() {
                format!("--set {}", e.arg)
            } else {
                format!("--set {}: {}", e.arg, d.field)
            };
        }
        if e.new_line {
            if d.line == e.line {
                // The header (or the top of the file) the line went under.
                d.line = e.line.saturating_sub(1).max(1);
                d.column = 1;
            } else if d.line > e.line {
                d.line -= 1;
            }
        } else if d.line == e.line {
            if inside {
                d.column = e.column;
            } else if d.column >= e.column + e.new_chars {
                d.column = d.column + e.old_chars - e.new_chars;
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::set::Override;

    const TEXT: &str = "name = \"x\"\n[sweep]\nreplications = 3\n[[phase]]\nname = \"A\"\napp = { hosts = 1 }\n[[phase]]\nname = \"B\"\nnet.rtt = 2\n";

    fn set(arg: &str) -> (String, Edit) {
        let o = Override::parse(arg).unwrap();
        let lit = o.literal.clone();
        apply(TEXT, &o, &lit).ok().flatten().unwrap()
    }

    #[test]
    fn a_value_is_replaced_in_place_or_added_where_its_table_is() {
        let (t, e) = set("sweep.replications=10");
        assert!(t.contains("replications = 10\n"), "{t}");
        assert_eq!((e.line, e.column, e.new_line), (3, 16, false));
        let (t, e) = set("phase.A.app.cores_per_host=4");
        assert!(
            t.contains("app = { hosts = 1 , cores_per_host = 4 }"),
            "{t}"
        );
        assert_eq!(e.field, "phase[0].app.cores_per_host");
        let (t, e) = set("phase[1].net.x=5");
        assert!(t.contains("[[phase]]\nnet.x = 5\nname = \"B\""), "{t}");
        assert!(DeTable::parse(&t).is_ok(), "{t}");
        assert!(e.new_line);
        let (t, _) = set("slo.p95_ms=200");
        assert!(t.starts_with("slo.p95_ms = 200\nname"), "{t}");
        assert!(DeTable::parse(&t).is_ok(), "{t}");
    }

    #[test]
    fn a_path_that_leads_nowhere_says_what_is_there() {
        let o = Override::parse("phase.C.app.hosts=2").unwrap();
        let Err(m) = apply(TEXT, &o, "2") else {
            panic!("applied")
        };
        assert!(m.message.contains("no entry named `C`"), "{}", m.message);
        assert!(m.message.contains("`A`, `B`"), "{}", m.message);
        let o = Override::parse("phase[5].app.hosts=2").unwrap();
        let Err(m) = apply(TEXT, &o, "2") else {
            panic!("applied")
        };
        assert!(m.message.contains("[0] to [1] (got [5])"), "{}", m.message);
        let o = Override::parse("sweep=2").unwrap();
        let Err(m) = apply(TEXT, &o, "2") else {
            panic!("applied")
        };
        assert!(m.message.contains("whole section"), "{}", m.message);
    }

    #[test]
    fn diagnostics_after_an_inserted_line_keep_the_file_s_line() {
        let e = Edit {
            arg: "a=1".into(),
            field: "a".into(),
            line: 4,
            column: 1,
            new_chars: 5,
            old_chars: 0,
            new_line: true,
        };
        let d = |line, field: &str| Diagnostic {
            line,
            column: 3,
            field: field.into(),
            message: String::new(),
        };
        let later = map_back(d(9, "b"), std::slice::from_ref(&e));
        assert_eq!((later.line, later.field.as_str()), (8, "b"));
        let mine = map_back(d(4, "a"), std::slice::from_ref(&e));
        assert_eq!((mine.line, mine.field.as_str()), (3, "--set a=1: a"));
    }
}
