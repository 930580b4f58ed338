//! Each output folder says which scenario it belongs to (`.capsim`), so that
//! a run never silently replaces another scenario's results: two scenario
//! files with the same stem in different folders, or an `--out` pointed at
//! the wrong place, would otherwise overwrite them without a word.

use super::write_atomically;
use crate::scenario::{toml_string, Scenario};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Name of the manifest inside an output folder.
pub const FILE: &str = ".capsim";

#[derive(Deserialize)]
struct Manifest {
    name: String,
    path: String,
}

/// Why an output folder may not take a scenario's results.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The folder's manifest names another scenario.
    #[error(
        "{} holds the results of scenario `{other}` ({other_path}); `{name}` ({}) would overwrite them. \
         Use another --out, rename one scenario file, or pass --force",
        dir.display(),
        path.display()
    )]
    OtherScenario {
        /// The output folder.
        dir: PathBuf,
        /// The scenario whose results it holds, and its file.
        other: String,
        /// The file that scenario was read from.
        other_path: String,
        /// The scenario that would overwrite them, and its file.
        name: String,
        /// The file it was read from.
        path: PathBuf,
    },
    /// The manifest cannot be read, or is not a capsim manifest.
    #[error(
        "{why}, so cannot tell whose results {} holds; pass --force to overwrite them with `{name}` ({})",
        dir.display(),
        path.display()
    )]
    Unreadable {
        /// The manifest file.
        file: PathBuf,
        /// The output folder.
        dir: PathBuf,
        /// What is wrong with it, naming the file.
        why: String,
        /// The scenario that would overwrite the folder.
        name: String,
        /// The file it was read from.
        path: PathBuf,
    },
}

/// Whether `dir` may take `sc`'s results: it does not exist, has no
/// manifest (results of an older capsim, or a fresh folder), or its
/// manifest names the same scenario (by `name`; an edited file that kept
/// its name is the same scenario).
pub fn check(dir: &Path, sc: &Scenario) -> Result<(), ManifestError> {
    let file = dir.join(FILE);
    let unreadable = |why: String| ManifestError::Unreadable {
        file: file.clone(),
        dir: dir.to_path_buf(),
        why,
        name: sc.name.clone(),
        path: sc.path.clone(),
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(unreadable(format!("cannot read {} ({e})", file.display()))),
    };
    match toml::from_str::<Manifest>(&text) {
        Ok(m) if m.name == sc.name => Ok(()),
        Ok(m) => Err(ManifestError::OtherScenario {
            dir: dir.to_path_buf(),
            other: m.name,
            other_path: m.path,
            name: sc.name.clone(),
            path: sc.path.clone(),
        }),
        Err(_) => Err(unreadable(format!(
            "{} is not a capsim manifest",
            file.display()
        ))),
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
