//! Every file in tests/bad_scenarios/ is a broken scenario; the `.err` file
//! beside it holds the exact diagnostics expected, one per line, as
//! `<file>:<line>:<column>: <field>: <message>`.

use crate::helpers::repo;
use std::path::Path;

#[test]
fn every_broken_scenario_reports_exactly_the_expected_errors() {
    let dir = repo("tests/bad_scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "only {} broken scenarios", files.len());
    let mut mismatches = Vec::new();
    for path in &files {
        let source = std::fs::read_to_string(path).unwrap();
        let name = Path::new(path.file_name().unwrap());
        let expected = std::fs::read_to_string(path.with_extension("err"))
            .unwrap_or_else(|_| panic!("{} has no .err file", path.display()));
        match capsim::scenario::parse(name, &source) {
            Ok(_) => mismatches.push(format!("{}: loaded, but should fail", name.display())),
            Err(e) => {
                let got = e.to_string();
                if got.trim() != expected.trim() {
                    mismatches.push(format!(
                        "{}:\n  expected: {}\n  got:      {}",
                        name.display(),
                        expected.trim().replace('\n', "\n            "),
                        got.replace('\n', "\n            ")
                    ));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn every_error_names_file_line_column_and_field() {
    let dir = repo("tests/bad_scenarios");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let err = capsim::scenario::parse(&path, &source).unwrap_err();
        for d in &err.diagnostics {
            assert!(d.line >= 1 && d.column >= 1, "{}: {d:?}", path.display());
            assert!(!d.message.is_empty(), "{}: {d:?}", path.display());
            // Only a scenario with no phase at all has no field to point at
            // beyond the top-level `phase` key.
            assert!(
                !d.field.is_empty(),
                "{}: no field named in {d:?}",
                path.display()
            );
        }
    }
}
