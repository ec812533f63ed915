//! cargo-fuzz entry point; the harness is `tests/fuzzing/parse_files.rs`, which
//! `cargo test` also runs on the seeds and past crash inputs.
#![no_main]

#[path = "../../tests/fuzzing/parse_files.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
