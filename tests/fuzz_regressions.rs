//! The fuzz harnesses (`tests/fuzzing/`, also run by cargo-fuzz from
//! `fuzz/`) replayed in `cargo test`: on every crash input the fuzzers ever
//! found (`fixtures/fuzz-regressions/<target>/`), on the fixtures the
//! corpora are seeded from, and on a fixed batch of pseudo-random inputs.
//! A harness panics when an invariant breaks, so each of these fails on a
//! regression.

#[path = "fuzzing/assignment_sync.rs"]
mod assignment_sync;
#[path = "fuzzing/parse_files.rs"]
mod parse_files;

use std::fs;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every regular file under `dir`, recursively, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            out.extend(files_under(&path));
        } else if meta.is_file() && meta.len() <= 1 << 20 {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn regressions(target: &str) -> Vec<PathBuf> {
    files_under(&fixtures().join("fuzz-regressions").join(target))
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        .collect()
}

/// The fixture files the corpora are seeded from (see `fuzz/seed.sh`).
fn seeds() -> Vec<PathBuf> {
    ["valid", "invalid", "bad"]
        .iter()
        .flat_map(|d| files_under(&fixtures().join(d)))
        .collect()
}

/// Deterministic pseudo-random inputs (xorshift), so the harnesses run on
/// more than the seeds without a fuzzer.
fn generated(count: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut x = seed;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..count)
        .map(|_| {
            let len = (next() % 512) as usize;
            (0..len).map(|_| next() as u8).collect()
        })
        .collect()
}

fn replay(target: &str, files: &[PathBuf], run: fn(&[u8])) {
    for path in files {
        let data = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(
            outcome.is_ok(),
            "{target} broke an invariant on {}",
            path.display()
        );
    }
}

#[test]
fn the_parsers_survive_every_past_crash_input_and_every_fixture() {
    let mut files = regressions("parse_files");
    files.extend(seeds());
    assert!(files.len() > 100, "the fixtures are where they should be");
    replay("parse_files", &files, parse_files::run);
}

#[test]
fn the_assignment_sync_survives_every_past_crash_input() {
    replay(
        "assignment_sync",
        &regressions("assignment_sync"),
        assignment_sync::run,
    );
}

#[test]
fn the_harnesses_hold_on_generated_inputs() {
    for data in generated(3000, 0x9e37_79b9_7f4a_7c15) {
        parse_files::run(&data);
        assignment_sync::run(&data);
    }
}
