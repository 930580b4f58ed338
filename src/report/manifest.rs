//! Each output folder says which scenario it belongs to (`.capsim`), so that
//! a run never silently replaces another scenario's results: two scenario
//! files with the same stem in different folders, or an `--out` pointed at
//! the wrong place, would otherwise overwrite them without a word.

use super::write_atomically;
use crate::scenario::Scenario;
use serde::Deserialize;
use std::path::Path;

/// Name of the manifest inside an output folder.
pub const FILE: &str = ".capsim";

#[derive(Deserialize)]
struct Manifest {
    name: String,
    path: String,
}

/// Whether `dir` may take `sc`'s results: it does not exist, has no
/// manifest (results of an older capsim, or a fresh folder), or its
/// manifest names the same scenario (by `name`; an edited file that kept
/// its name is the same scenario). Otherwise a message naming both.
pub fn check(dir: &Path, sc: &Scenario) -> Result<(), String> {
    let file = dir.join(FILE);
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(format!(
                "cannot read {} ({e}), so cannot tell whose results {} holds; \
                 pass --force to overwrite them with `{}` ({})",
                file.display(),
                dir.display(),
                sc.name,
                sc.path.display()
            ))
        }
    };
    match toml::from_str::<Manifest>(&text) {
        Ok(m) if m.name == sc.name => Ok(()),
        Ok(m) => Err(format!(
            "{} holds the results of scenario `{}` ({}); `{}` ({}) would overwrite them. \
             Use another --out, rename one scenario file, or pass --force",
            dir.display(),
            m.name,
            m.path,
            sc.name,
            sc.path.display()
        )),
        Err(_) => Err(format!(
            "{} is not a capsim manifest, so cannot tell whose results {} holds; \
             pass --force to overwrite them with `{}` ({})",
            file.display(),
            dir.display(),
            sc.name,
            sc.path.display()
        )),
    }
}

/// Record in `dir` that it holds `sc`'s results.
pub fn write(dir: &Path, sc: &Scenario) -> anyhow::Result<()> {
    let text = format!(
        "# Written by capsim's `simulate`: the scenario whose results this folder holds.\n\
         name = {}\npath = {}\n",
        toml_string(&sc.name),
        toml_string(&sc.path.display().to_string())
    );
    write_atomically(&dir.join(FILE), |w| Ok(w.write_all(text.as_bytes())?))
}

/// A TOML basic string (quoted, with `\`, `"` and control characters escaped).
fn toml_string(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_quotes_and_control_characters_round_trip() {
        for name in [
            "plain",
            "a \"quoted\" name",
            "back\\slash",
            "tab\there\nnewline\u{7f}",
            "ñandú 🦤",
        ] {
            let text = format!(
                "name = {}\npath = {}\n",
                toml_string(name),
                toml_string("x")
            );
            let m: Manifest = toml::from_str(&text).unwrap_or_else(|e| panic!("{name:?}: {e}"));
            assert_eq!(m.name, name);
        }
    }
}
