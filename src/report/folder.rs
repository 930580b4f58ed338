//! A scenario's output folder appears whole: its files are written into a
//! staging folder beside it (`.SLUG.XXXXXX.staging`), which is then swapped
//! in for the old folder in one step. A crash or a kill at any moment leaves
//! the folder holding one complete run — the previous one or the new one,
//! never a mix of both — and a file that a run no longer writes (a chart
//! after `--no-plots`) does not outlive the run that wrote it.
//!
//! On Linux the swap is one `renameat2(RENAME_EXCHANGE)`: the final name
//! never stops existing. Elsewhere (or on a file system without it) the old
//! folder is renamed aside, then the new one into place: between the two
//! steps the final name is briefly absent, but never mixed. Staging folders
//! left by a killed run, and the temporary files of [`super::write_atomically`],
//! are removed by the next run that writes to the same place.

use anyhow::Context;
use std::path::{Path, PathBuf};

/// Suffix of staging folders (new results, or old ones swapped out).
const STAGING_SUFFIX: &str = ".staging";
/// Suffix of [`super::write_atomically`]'s temporary files.
const PARTIAL_SUFFIX: &str = ".partial";

/// A scenario's output folder being built beside its final place.
pub struct Staging {
    /// Where the results go once whole.
    target: PathBuf,
    /// The folder being filled; removed on drop unless swapped in.
    dir: tempfile::TempDir,
}

impl Staging {
    /// Start building the folder `target` (its parent is created): first
    /// remove what killed runs left beside it.
    pub fn begin(target: &Path) -> anyhow::Result<Self> {
        let parent = parent_of(target);
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let name = file_name(target);
        remove_leftovers(parent, &name);
        let dir = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(STAGING_SUFFIX)
            .tempdir_in(parent)
            .with_context(|| format!("cannot create a staging folder in {}", parent.display()))?;
        Ok(Staging {
            target: target.to_path_buf(),
            dir,
        })
    }

    /// The folder to write the results into.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Put the finished folder in place of the old one, in one step where
    /// the system allows, and remove the old one. Files of the old folder
    /// that capsim does not write (`ours` lists the names it does) are the
    /// user's: they are carried over into the new one (hard-linked, or
    /// copied), so that replacing a run never deletes someone's notes.
    pub fn commit(self, ours: &[&str]) -> anyhow::Result<()> {
        if self.target.is_dir() {
            carry_over(&self.target, self.dir.path(), ours).with_context(|| {
                format!(
                    "cannot keep the other files of {} in its new results",
                    self.target.display()
                )
            })?;
        }
        let staged = self.dir.keep();
        let fail = |e: std::io::Error| {
            anyhow::Error::new(e).context(format!(
                "cannot move the finished results into {}",
                self.target.display()
            ))
        };
        // The staged files' permissions: TempDir makes the folder private
        // (0700); results are meant to be read like any file the user writes.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o755))
                .map_err(fail)?;
        }
        if !self.target.exists() {
            return std::fs::rename(&staged, &self.target).map_err(fail);
        }
        if exchange(&staged, &self.target).is_ok() {
            // `staged` now holds the old results.
            let _ = std::fs::remove_dir_all(&staged);
            return Ok(());
        }
        let aside = staged.with_extension("old.staging");
        std::fs::rename(&self.target, &aside).map_err(fail)?;
        std::fs::rename(&staged, &self.target).map_err(fail)?;
        let _ = std::fs::remove_dir_all(&aside);
        Ok(())
    }
}

/// Link (or copy) into `to` every entry of `from` whose name is not in
/// `ours` and not already in `to`, folders recursively.
fn carry_over(from: &Path, to: &Path, ours: &[&str]) -> std::io::Result<()> {
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name();
        if name.to_str().is_some_and(|n| ours.contains(&n)) || to.join(&name).exists() {
            continue;
        }
        link_tree(&e.path(), &to.join(&name))?;
    }
    Ok(())
}

fn link_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    if from.is_dir() {
        std::fs::create_dir(to)?;
        for e in std::fs::read_dir(from)? {
            let e = e?;
            link_tree(&e.path(), &to.join(e.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::hard_link(from, to).or_else(|_| std::fs::copy(from, to).map(|_| ()))
    }
}

/// Swap two paths atomically.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

/// Swap two paths atomically: not available here, so the caller falls back.
#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Remove what killed runs left in `parent`: the temporary files of atomic
/// writes and the staging folders of the output folder `name`. (Two runs
/// writing into the same place at once are not supported, as with any two
/// writers of one file.)
fn remove_leftovers(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let staging = format!(".{name}.");
    for e in entries.flatten() {
        let file = e.file_name();
        let Some(file) = file.to_str() else { continue };
        if file.starts_with(&staging) && file.ends_with(STAGING_SUFFIX) {
            let _ = std::fs::remove_dir_all(e.path());
        } else if file.starts_with('.') && file.ends_with(PARTIAL_SUFFIX) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn parent_of(p: &Path) -> &Path {
    p.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn a_rerun_replaces_the_whole_folder_and_leaves_nothing_beside_it() {
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("shop");
        let s = Staging::begin(&target).unwrap();
        write(s.path(), "a.csv", "first");
        write(s.path(), "chart.png", "first");
        s.commit(&["a.csv", "chart.png"]).unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("a.csv")).unwrap(),
            "first"
        );
        // A killed run's leftovers, then a rerun that writes no chart.
        std::fs::create_dir(out.path().join(".shop.abc123.staging")).unwrap();
        write(out.path(), ".summary.csv.x1y2.partial", "half");
        let s = Staging::begin(&target).unwrap();
        write(s.path(), "a.csv", "second");
        s.commit(&["a.csv", "chart.png"]).unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("a.csv")).unwrap(),
            "second"
        );
        assert!(!target.join("chart.png").exists(), "a stale chart survived");
        let mut names: Vec<String> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["shop"]);
    }

    #[test]
    fn files_capsim_does_not_write_survive_a_rerun() {
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("shop");
        std::fs::create_dir_all(target.join("mine")).unwrap();
        write(&target, "notes.txt", "keep me");
        write(&target.join("mine"), "deep.txt", "me too");
        write(&target, "chart.png", "stale");
        let s = Staging::begin(&target).unwrap();
        write(s.path(), "a.csv", "new");
        s.commit(&["a.csv", "chart.png"]).unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("notes.txt")).unwrap(),
            "keep me"
        );
        assert_eq!(
            std::fs::read_to_string(target.join("mine/deep.txt")).unwrap(),
            "me too"
        );
        assert!(
            !target.join("chart.png").exists(),
            "a stale output survived"
        );
        assert_eq!(
            std::fs::read_to_string(target.join("a.csv")).unwrap(),
            "new"
        );
    }

    #[test]
    fn a_dropped_staging_folder_leaves_the_old_results_alone() {
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("shop");
        let s = Staging::begin(&target).unwrap();
        write(s.path(), "a.csv", "first");
        s.commit(&["a.csv", "chart.png"]).unwrap();
        let s = Staging::begin(&target).unwrap();
        write(s.path(), "a.csv", "half of the second");
        drop(s);
        assert_eq!(
            std::fs::read_to_string(target.join("a.csv")).unwrap(),
            "first"
        );
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);
    }
}
