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

mod edit;

use super::diag::{echo, Diagnostic};
use super::{parse, parse_bytes, read_file, LoadError, Scenario, ScenarioError};
use edit::{apply, entry_name, line_col, map_back};
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

    /// The path as given (`phase.Base.app.hosts`).
    pub fn path(&self) -> &str {
        &self.path
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
        return Ok((toml_string(v), None));
    };
    let t = t.get_ref();
    let mut it = t.iter();
    let (Some((_, value)), None) = (it.next(), it.next()) else {
        return Ok((toml_string(v), None));
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

/// A TOML basic string holding `s` (quoted, with `\`, `"` and control
/// characters escaped): how every writer of TOML text in capsim writes one.
pub fn toml_string(s: &str) -> String {
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
    value_of(&doc, o).map(|v| matches!(v.get_ref(), DeValue::Array(_)))
}

/// The number written at the field `o` names (`None`: not there, or not a
/// number) — where `simulate calibrate --fit` starts from.
pub fn number_at(text: &str, o: &Override) -> Option<f64> {
    let doc = DeTable::parse(text).ok()?;
    super::ranges::number(value_of(&doc, o)?.get_ref()).map(|(x, _)| x)
}

/// Whether the field `o` names is written in `text`.
pub fn is_written(text: &str, o: &Override) -> bool {
    DeTable::parse(text).is_ok_and(|doc| value_of(&doc, o).is_some())
}

/// `text` with every override applied, each a single value (a list would
/// make variants: see [`load_with`]): the text `simulate calibrate
/// --base` simulates and writes.
pub fn edited(text: &str, sets: &[Override]) -> Result<String, SetError> {
    let mut t = text.to_string();
    for o in sets {
        match apply(&t, o, &o.literal) {
            Ok(Some((next, _))) => t = next,
            Ok(None) => {
                return Err(SetError {
                    arg: echo(&o.arg),
                    message: "the scenario is not TOML".into(),
                })
            }
            Err(miss) => {
                return Err(SetError {
                    arg: echo(&o.arg),
                    message: miss.message,
                })
            }
        }
    }
    Ok(t)
}

/// The value at the end of `o`'s path in `doc`.
fn value_of<'d, 'a>(
    doc: &'d Spanned<DeTable<'a>>,
    o: &Override,
) -> Option<&'d Spanned<DeValue<'a>>> {
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
    v
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
}
