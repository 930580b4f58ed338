//! `--set path=value`: override any field of a scenario from the command
//! line, e.g. `--set workload.think_time.mean_s=5` or
//! `--set phase.Base.app.hosts=4`.
//!
//! The override is an edit of the file's TOML text, made before the text is
//! checked, so every check of the loader applies to the new value as to one
//! written in the file: the value replaces the one written (same line), or
//! is added to the table the path names (a key of an inline table, a line
//! after a `[table]` header, a dotted key of the nearest table otherwise).
//! A diagnostic about an edit names the `--set` argument; every other keeps
//! its line and column in the file as written.
//!
//! A path is keys separated by dots; an entry of a list of tables is chosen
//! by its index (`phase[0]`) or by its `name` (`phase.Base`,
//! `phase["Fase 1: SQLite"]`). The value is TOML (`4`, `0.5`, `true`,
//! `"wal"`, `{ dist = "exponential", mean_s = 5 }`); a bare word that is not
//! TOML is a string (`--set phase.Base.database.journal=wal`).
//!
//! A list sweeps the field: `--set phase.Base.app.hosts=[1,2,4]` makes one
//! variant of the scenario per value (several lists: every combination,
//! the first list varying slowest), each named after its values — the
//! output folder `shop@hosts=2`, the title `Shop (phase.Base.app.hosts = 2)`.
//! The fields that are lists themselves (`sweep.users`,
//! `sweep.arrival_rates_per_s`, `replicas.primary_reads`, and any field
//! written as a list in the file) take a list as their value instead.

use super::diag::{echo, Diagnostic};
use super::{parse, parse_bytes, read_file, LoadError, Scenario, ScenarioError};
use std::ops::Range;
use std::path::Path;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Most variants the `--set` lists of one job may make of a scenario: each
/// is a whole sweep.
pub const MAX_VARIANTS: usize = 256;

/// Keys whose value is a list: a list given for them is their value.
const LIST_KEYS: [&str; 3] = ["users", "arrival_rates_per_s", "primary_reads"];

/// One step of a path: a key of a table, or an entry of a list by index.
#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// One `--set path=value` of the command line, read.
#[derive(Clone, Debug)]
pub struct Override {
    /// The argument as given (`phase.Base.app.hosts=4`).
    pub arg: String,
    /// The path as given (`phase.Base.app.hosts`).
    path: String,
    segs: Vec<Seg>,
    /// The value's TOML text (a bare word quoted as a string).
    literal: String,
    /// The TOML text of each element, when the value is a list.
    elements: Option<Vec<String>>,
}

/// A `--set` argument that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
#[error("--set {arg}: {message}")]
pub struct SetError {
    /// The argument as given.
    pub arg: String,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl Override {
    /// Read `path=value`.
    pub fn parse(arg: &str) -> Result<Self, SetError> {
        let fail = |message: String| SetError {
            arg: echo(arg),
            message,
        };
        let Some((path, value)) = arg.split_once('=') else {
            return Err(fail(
                "expected path=value, e.g. --set workload.think_time.mean_s=5 or --set phase.Base.app.hosts=4".into(),
            ));
        };
        let path = path.trim();
        let segs = parse_path(path).map_err(fail)?;
        let (literal, elements) = parse_value(value.trim()).map_err(fail)?;
        Ok(Override {
            arg: arg.to_string(),
            path: path.to_string(),
            segs,
            literal,
            elements,
        })
    }

    /// The key the path ends with (`hosts` of `phase.Base.app.hosts`).
    fn leaf(&self) -> String {
        match self.segs.last() {
            Some(Seg::Key(k)) => k.clone(),
            _ => self.path.clone(),
        }
    }
}

/// Keys separated by dots, each bare (`app`) or quoted (`"a b"`), each
/// followed by any number of `[index]` or `[name]`.
fn parse_path(p: &str) -> Result<Vec<Seg>, String> {
    let what = "a path is keys separated by dots, an entry of a list by its index or name: workload.think_time.mean_s, phase[0].app.hosts, phase.Base.app.hosts, phase[\"Fase 1\"].app.hosts";
    let bare = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut segs = Vec::new();
    let mut rest = p;
    loop {
        let (key, after) = if let Some(q) = rest.strip_prefix('"') {
            let end = q
                .find('"')
                .ok_or_else(|| format!("a quoted key is not closed; {what}"))?;
            (q[..end].to_string(), &q[end + 1..])
        } else {
            let end = rest.find(|c: char| !bare(c)).unwrap_or(rest.len());
            if end == 0 {
                return Err(if p.is_empty() {
                    format!("no path before `=`; {what}")
                } else {
                    format!("`{}` is not a path; {what}", echo(p))
                });
            }
            (rest[..end].to_string(), &rest[end..])
        };
        segs.push(Seg::Key(key));
        rest = after;
        while let Some(b) = rest.strip_prefix('[') {
            let end = b
                .find(']')
                .ok_or_else(|| format!("a `[` is not closed; {what}"))?;
            let inner = b[..end].trim();
            let inner_unquoted = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"'));
            segs.push(match (inner.parse::<usize>(), inner_unquoted) {
                (Ok(i), _) => Seg::Index(i),
                (_, Some(name)) => Seg::Key(name.to_string()),
                _ if !inner.is_empty() => Seg::Key(inner.to_string()),
                _ => return Err(format!("`[]` names no entry; {what}")),
            });
            rest = &b[end + 1..];
        }
        match rest.strip_prefix('.') {
            Some(r) => rest = r,
            None if rest.is_empty() => return Ok(segs),
            None => return Err(format!("`{}` is not a path; {what}", echo(p))),
        }
    }
}

/// The value's TOML text, and each element's when it is a list. A value
/// that is not TOML is a string.
fn parse_value(v: &str) -> Result<(String, Option<Vec<String>>), String> {
    if v.contains(['\n', '\r']) {
        return Err("write the value on one line".into());
    }
    if v.is_empty() {
        return Err("no value after `=`; give a TOML value: a number, true or false, a quoted string, a list [2, 4] (which sweeps the field) or a table { … }".into());
    }
    let doc = format!("v = {v}");
    let Ok(t) = DeTable::parse(&doc) else {
        return Ok((quote(v), None));
    };
    let t = t.get_ref();
    let mut it = t.iter();
    let (Some((_, value)), None) = (it.next(), it.next()) else {
        return Ok((quote(v), None));
    };
    let elements = match value.get_ref() {
        DeValue::Array(a) => Some(
            a.iter()
                .map(|x| doc[x.span()].to_string())
                .collect::<Vec<_>>(),
        ),
        _ => None,
    };
    Ok((v.to_string(), elements))
}

/// A TOML basic string holding `s`.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A key as TOML text: bare if it can be, else quoted.
fn key_text(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        quote(k)
    }
}

/// Where an edit went in the edited text, to read diagnostics back in the
/// file's own lines and columns.
#[derive(Clone, Debug)]
struct Edit {
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
struct Miss {
    at: usize,
    message: String,
}

/// `text` with `o` set to `literal`, and where the edit went; `Ok(None)`
/// when the text is not TOML (the loader then says why).
fn apply(text: &str, o: &Override, literal: &str) -> Result<Option<(String, Edit)>, Miss> {
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
                                            super::quoted_in_order(&names),
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
fn entry_name<'v>(v: &'v Spanned<DeValue<'_>>) -> Option<&'v str> {
    let DeValue::Table(t) = v.get_ref() else {
        return None;
    };
    t.iter()
        .find(|(k, _)| k.get_ref() == "name")
        .and_then(|(_, v)| v.get_ref().as_str())
        .map(str::trim)
}

fn push_field(field: &mut String, seg: &Seg) {
    match seg {
        Seg::Key(k) => {
            if !field.is_empty() {
                field.push('.');
            }
            field.push_str(&key_text(k));
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
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// A diagnostic of the edited text read back in the file's own lines and
/// columns; one about an edit names its `--set` argument.
fn map_back(mut d: Diagnostic, edits: &[Edit]) -> Diagnostic {
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

/// Load `path` with the overrides `sets` applied: one scenario, or one per
/// combination of the values of the `--set` lists that sweep (see the
/// module's documentation), in order, the first list varying slowest.
pub fn load_with(path: &Path, sets: &[Override]) -> Result<Vec<Scenario>, LoadError> {
    if sets.is_empty() {
        return super::load(path).map(|s| vec![s]);
    }
    let bytes = read_file(path)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) if !super::looks_like_utf16(bytes) => t,
        // Not text: the loader's own error says so.
        _ => return Ok(vec![parse_bytes(path, bytes)?]),
    };
    let variants = variants(text, sets).map_err(LoadError::Set)?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    let mut out = Vec::with_capacity(variants.len());
    for variant in &variants {
        let mut t = text.to_string();
        let mut edits = Vec::new();
        for (o, literal) in variant {
            match apply(&t, o, literal) {
                Ok(Some((next, e))) => {
                    t = next;
                    edits.push(e);
                }
                Ok(None) => {}
                Err(miss) => {
                    let (line, column) = line_col(&t, miss.at);
                    let d = map_back(
                        Diagnostic {
                            line,
                            column,
                            field: String::new(),
                            message: miss.message,
                        },
                        &edits,
                    );
                    return Err(LoadError::Invalid(ScenarioError {
                        path: path.to_path_buf(),
                        diagnostics: vec![Diagnostic {
                            field: format!("--set {}", o.arg),
                            ..d
                        }],
                        more: 0,
                    }));
                }
            }
        }
        let mut sc = parse(path, &t).map_err(|mut e| {
            e.diagnostics = e
                .diagnostics
                .into_iter()
                .map(|d| map_back(d, &edits))
                .collect();
            LoadError::Invalid(e)
        })?;
        let swept: Vec<&(&Override, String)> =
            variant.iter().filter(|(o, _)| sweeps(o, text)).collect();
        if !swept.is_empty() {
            let leaves: Vec<String> = swept.iter().map(|(o, _)| o.leaf()).collect();
            let label: Vec<String> = swept
                .iter()
                .zip(&leaves)
                .map(|((o, v), leaf)| {
                    // The field's own name, or its whole path when two
                    // swept fields share a name.
                    let shared = leaves.iter().filter(|l| *l == leaf).count() > 1;
                    let name = if shared { &o.path } else { leaf };
                    format!("{}={}", folder_safe(name), folder_safe(&bare(v)))
                })
                .collect();
            sc.slug = format!("{stem}@{}", label.join(","));
            let title: Vec<String> = swept
                .iter()
                .map(|(o, v)| format!("{} = {}", o.path, bare(v)))
                .collect();
            sc.name = format!("{} ({})", sc.name, title.join(", "));
        }
        sc.overrides = variant
            .iter()
            .map(|(o, v)| format!("{}={v}", o.path))
            .collect();
        out.push(sc);
    }
    Ok(out)
}

/// Whether `o`'s list sweeps its field (rather than being the field's
/// value): it is a list, and the field is not one the scenario writes as a
/// list.
fn sweeps(o: &Override, text: &str) -> bool {
    if o.elements.is_none() {
        return false;
    }
    if LIST_KEYS.contains(&o.leaf().as_str()) {
        return false;
    }
    // Written as a list in the file: the list is its value.
    !matches!(existing(text, o), Some(true))
}

/// Whether the field `o` names holds a list in `text` (`None`: not there).
fn existing(text: &str, o: &Override) -> Option<bool> {
    let doc = DeTable::parse(text).ok()?;
    let mut v: Option<&Spanned<DeValue>> = None;
    for seg in &o.segs {
        let next = match (v.map(|v| v.get_ref()), seg) {
            (None, Seg::Key(k)) => doc
                .get_ref()
                .iter()
                .find(|(n, _)| n.get_ref() == k)
                .map(|(_, v)| v),
            (Some(DeValue::Table(t)), Seg::Key(k)) => {
                t.iter().find(|(n, _)| n.get_ref() == k).map(|(_, v)| v)
            }
            (Some(DeValue::Array(a)), Seg::Index(n)) => a.get(*n),
            (Some(DeValue::Array(a)), Seg::Key(name)) => {
                a.iter().find(|v| entry_name(v) == Some(name.as_str()))
            }
            _ => None,
        };
        v = Some(next?);
    }
    v.map(|v| matches!(v.get_ref(), DeValue::Array(_)))
}

/// Every combination of the overrides' values: each a list of (override,
/// the TOML text it sets), the first sweeping list varying slowest.
fn variants<'o>(
    text: &str,
    sets: &'o [Override],
) -> Result<Vec<Vec<(&'o Override, String)>>, SetError> {
    let mut out: Vec<Vec<(&Override, String)>> = vec![Vec::new()];
    for o in sets {
        let values: Vec<String> = match &o.elements {
            Some(e) if sweeps(o, text) => {
                if e.is_empty() {
                    return Err(SetError {
                        arg: echo(&o.arg),
                        message:
                            "an empty list sweeps nothing: give the values to run, e.g. [2, 4, 8]"
                                .into(),
                    });
                }
                e.clone()
            }
            _ => vec![o.literal.clone()],
        };
        if out.len().saturating_mul(values.len()) > MAX_VARIANTS {
            return Err(SetError {
                arg: echo(&o.arg),
                message: format!(
                    "the --set lists make {} variants of the scenario; at most {MAX_VARIANTS} are run (each is a whole sweep): give fewer values",
                    out.len().saturating_mul(values.len())
                ),
            });
        }
        out = out
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut next = prefix.clone();
                    next.push((o, v.clone()));
                    next
                })
            })
            .collect();
    }
    Ok(out)
}

/// A value as a reader names it: a string without its quotes.
fn bare(literal: &str) -> String {
    let t = literal.trim();
    t.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(t)
        .to_string()
}

/// Text fit for a folder name: letters, digits and `._-+` kept, anything
/// else `_`.
fn folder_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || "._-+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_keys_indices_and_names() {
        assert_eq!(
            parse_path("phase[1].app.hosts").unwrap(),
            vec![
                Seg::Key("phase".into()),
                Seg::Index(1),
                Seg::Key("app".into()),
                Seg::Key("hosts".into())
            ]
        );
        assert_eq!(
            parse_path("phase[\"Fase 1\"].app").unwrap(),
            vec![
                Seg::Key("phase".into()),
                Seg::Key("Fase 1".into()),
                Seg::Key("app".into())
            ]
        );
        assert!(parse_path("a..b").is_err());
        assert!(parse_path("").is_err());
        assert!(parse_path("a[1").is_err());
    }

    #[test]
    fn a_bare_word_is_a_string_and_a_list_has_elements() {
        assert_eq!(parse_value("four").unwrap(), ("\"four\"".into(), None));
        assert_eq!(parse_value("4").unwrap(), ("4".into(), None));
        let (_, e) = parse_value("[2, 4,8]").unwrap();
        assert_eq!(e.unwrap(), vec!["2", "4", "8"]);
    }

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
