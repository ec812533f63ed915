//! The JSON Schemas in `spec/schemas/` compile, accept every valid fixture
//! and refuse the invalid fixtures a schema can catch. (Some invalid
//! fixtures are refused only by orc's own checks, such as an id that does
//! not match the file name, or are not JSON at all; those are not listed.)

use std::path::{Path, PathBuf};

use serde_json::Value;

const KINDS: [&str; 8] = [
    "work-order",
    "mission",
    "config",
    "ledger-info",
    "counters",
    "grove",
    "assignment",
    "message",
];

/// Invalid fixtures, `fixtures/invalid/<kind>/<case>.json`, that the schema
/// of their kind must refuse.
const REFUSED: [(&str, &[&str]); 8] = [
    (
        "work-order",
        &[
            "unknown-status",
            "wrong-type-priority",
            "wrong-type-depends-on",
            "missing-title",
            "path-in-id",
            "path-in-parent",
            "bad-timestamp",
            "bad-note",
            "future-format",
            "bad-label",
            // Also caught, though not required of a schema:
            "empty-title",
            "control-chars-in-actor",
            "blocked-from-done",
            "duplicate-dependency",
            "not-an-object",
        ],
    ),
    (
        "mission",
        &["unknown-status", "relative-workspace", "bad-id"],
    ),
    (
        "config",
        &[
            "unknown-type",
            "mission-without-id",
            "relative-repo",
            "bad-ledger-branch",
        ],
    ),
    ("counters", &["negative"]),
    ("ledger-info", &["missing-format"]),
    (
        "grove",
        &[
            "slash-in-name",
            "dot-dot-name",
            "space-in-name",
            "relative-path",
            "unknown-status",
            "bad-branch",
        ],
    ),
    (
        "assignment",
        &[
            "unknown-status",
            "empty-note-text",
            "wrong-type-work-orders",
            "bad-entry-status",
            "path-in-entry-id",
            "future-format",
        ],
    ),
    (
        "message",
        &[
            "unknown-recipient",
            "empty-text",
            "missing-from",
            "path-in-reply-to",
        ],
    ),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn schema_path(kind: &str) -> PathBuf {
    root().join(format!("spec/schemas/{kind}.schema.json"))
}

/// The compiled schema of `kind`, with `format` asserted.
fn validator(kind: &str) -> jsonschema::Validator {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&read_json(&schema_path(kind)))
        .unwrap_or_else(|e| panic!("{kind}.schema.json does not compile: {e}"))
}

fn assert_valid(kind: &str, path: &Path) {
    let errors: Vec<String> = validator(kind)
        .iter_errors(&read_json(path))
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{} should match {kind}.schema.json: {errors:#?}",
        path.display()
    );
}

/// Every property of the file, and of objects defined in `$defs` (a work
/// order's notes), has a description.
fn assert_described(kind: &str, schema: &Value) {
    let defs = schema["$defs"]
        .as_object()
        .into_iter()
        .flat_map(|d| d.values());
    for object in std::iter::once(schema).chain(defs) {
        for (name, property) in object["properties"].as_object().into_iter().flatten() {
            assert!(
                property["description"].is_string(),
                "{kind}: property {name} has no description"
            );
        }
    }
}

#[test]
fn every_schema_is_a_valid_draft_2020_12_schema() {
    for kind in KINDS {
        assert!(schema_path(kind).is_file(), "no schema for {kind}");
    }
    for entry in std::fs::read_dir(root().join("spec/schemas")).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        let kind = file
            .strip_suffix(".schema.json")
            .unwrap_or_else(|| panic!("spec/schemas/{file} is not a *.schema.json"));
        let schema = read_json(&schema_path(kind));
        jsonschema::draft202012::meta::validate(&schema).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(schema["$id"], format!("https://orc.invalid/schemas/{file}"));
        assert!(schema["title"].is_string(), "{file}: no title");
        assert_described(kind, &schema);
        validator(kind);
    }
}

#[test]
fn every_valid_fixture_matches_its_schema() {
    let valid = root().join("fixtures/valid");
    let orc = valid.join("mission-workspace/.orc");
    assert_valid("config", &orc.join("config.json"));
    assert_valid("mission", &orc.join("mission.json"));
    assert_valid("ledger-info", &valid.join("ledger/orc.json"));
    assert_valid("counters", &valid.join("ledger/counters.json"));

    let mut work_orders = 0;
    for entry in std::fs::read_dir(orc.join("work-orders")).unwrap() {
        assert_valid("work-order", &entry.unwrap().path());
        work_orders += 1;
    }
    assert!(work_orders >= 4, "only {work_orders} work order fixtures");

    let grove = valid.join("grove/.orc");
    assert_valid("config", &grove.join("config.json"));
    assert_valid("grove", &grove.join("grove.json"));
    assert_valid("assignment", &grove.join("assigned-work.json"));

    let mut messages = 0;
    for inbox in [orc.join("inbox"), grove.join("inbox")] {
        for entry in std::fs::read_dir(inbox).unwrap() {
            assert_valid("message", &entry.unwrap().path());
            messages += 1;
        }
    }
    assert!(messages >= 2, "only {messages} message fixtures");
}

#[test]
fn invalid_fixtures_are_refused_by_their_schema() {
    for (kind, cases) in REFUSED {
        let validator = validator(kind);
        for case in cases {
            let path = root().join(format!("fixtures/invalid/{kind}/{case}.json"));
            assert!(
                !validator.is_valid(&read_json(&path)),
                "{} should not match {kind}.schema.json",
                path.display()
            );
        }
    }
}
