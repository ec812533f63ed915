//! The spec and the code agree: the state machine table in
//! `spec/README.md` is the one the code enforces, and every exit code the
//! spec lists is the one the code uses.

use std::path::Path;

use orc::model::Status;

fn spec() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("spec/README.md")).unwrap()
}

#[test]
fn the_state_machine_table_matches_the_code() {
    let spec = spec();
    let start = spec
        .find("| from \\ to |")
        .expect("the state table is in the spec");
    let rows: Vec<&str> = spec[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(rows.len(), Status::ALL.len());
    let header: Vec<&str> = spec[start..]
        .lines()
        .next()
        .unwrap()
        .split('|')
        .map(str::trim)
        .collect();
    let columns: Vec<Status> = header[2..header.len() - 1]
        .iter()
        .map(|c| c.parse().unwrap())
        .collect();
    for row in rows {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let from: Status = cells[1].trim_matches('*').parse().unwrap();
        let allowed: Vec<Status> = columns
            .iter()
            .zip(&cells[2..cells.len() - 1])
            .filter(|(_, cell)| cell.starts_with("yes"))
            .map(|(to, _)| *to)
            .collect();
        let mut code = from.allowed_next().to_vec();
        code.sort_by_key(|s| s.as_str());
        let mut table = allowed.clone();
        table.sort_by_key(|s| s.as_str());
        assert_eq!(table, code, "row {from}");
    }
}

#[test]
fn the_exit_code_table_matches_the_code() {
    use orc::Kind::*;
    let spec = spec();
    for kind in [
        Internal,
        Usage,
        NotFound,
        Conflict,
        Invalid,
        Environment,
        Busy,
    ] {
        let row = format!("| {} | `{}` |", kind.exit_code(), kind.name());
        assert!(spec.contains(&row), "spec/README.md lacks {row}");
    }
}
