//! The body of the `csv_import` fuzz target (fuzz/fuzz_targets/csv_import.rs), kept here so
//! that the normal tests run it too, over the seed corpus in fuzz/corpus/csv_import and over
//! generated files. Not an API: it panics when it finds a bug.

use super::incidents::Incidents;
use super::problems::Problems;
use super::requests::Requests;
use super::{Kind, Known, Names, check_csv};
use std::collections::{HashMap, HashSet};
use steward_domain::incident::PriorityMatrix;
use steward_domain::request::{FieldKind, FormField};
use steward_store::request::CatalogueItem;

/// "Now" for rows without an `opened_at`: 2024-06-01T00:00:00Z.
const NOW: i64 = 1_717_200_000_000_000;

/// Checks `data` as an import file and asserts what must hold of any answer. The first byte
/// picks the kind (`r` requests, `p` problems, anything else incidents); the rest is the file.
///
/// Whatever the bytes, the check must not panic, and:
/// - a refused file names at least one bad row, each on a line of the file, in file order,
///   with at least one reason;
/// - an accepted file yields one good row per data row, in file order, each with a trimmed,
///   non-empty external id found on no other row, and lifecycle times that never go back.
///
/// Returns whether the file was accepted.
pub fn csv_import(data: &[u8]) -> bool {
    let Some((&kind, file)) = data.split_first() else {
        return false;
    };
    let known = known();
    match kind {
        b'r' => check::<Requests>(file, &known, |r| {
            vec![
                Some(r.values.opened_at),
                r.values.fulfilled_at,
                r.values.closed_at,
            ]
        }),
        b'p' => check::<Problems>(file, &known, |p| {
            vec![Some(p.opened_at), p.fields.resolved_at, p.fields.closed_at]
        }),
        _ => check::<Incidents>(file, &known, |i| {
            vec![Some(i.opened_at), i.resolved_at, i.closed_at]
        }),
    }
}

fn check<K: Kind>(file: &[u8], known: &Known, times: fn(&K::Fields) -> Vec<Option<i64>>) -> bool {
    // Lines end with `\n`, `\r\n` or `\r`; a row or error must start on one of them.
    let lines = 1 + file
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && file.get(i + 1) != Some(&b'\n')))
        .count() as u64;
    match check_csv::<K>(file, known, NOW) {
        Ok(good) => {
            let rows = csv::Reader::from_reader(file).records().count();
            assert_eq!(good.len(), rows, "every data row is imported");
            let mut ids = HashSet::new();
            let mut previous = 1;
            for row in &good {
                assert!(
                    row.line > previous && row.line <= lines,
                    "row on line {} after line {previous} of {lines}",
                    row.line
                );
                previous = row.line;
                let id = row.external_id.as_str();
                assert!(!id.is_empty() && id.trim() == id, "external id `{id}`");
                assert!(ids.insert(id), "external id `{id}` twice");
                let at: Vec<i64> = times(&row.fields).into_iter().flatten().collect();
                assert!(at.is_sorted(), "times go back on line {}: {at:?}", row.line);
            }
            true
        }
        Err(bad) => {
            assert!(!bad.is_empty(), "a refused file names a bad row");
            let mut previous = 0;
            for row in &bad {
                assert!(
                    row.line > previous && row.line <= lines,
                    "bad row on line {} after line {previous} of {lines}",
                    row.line
                );
                previous = row.line;
                assert!(
                    !row.reasons.is_empty() && row.reasons.iter().all(|r| !r.is_empty()),
                    "{row:?}"
                );
            }
            false
        }
    }
}

/// A tenant with a little of everything a row can name, including an ambiguous service name.
fn known() -> Known {
    let field = |name: &str, kind: FieldKind, required: bool, options: &[&str]| FormField {
        name: name.into(),
        label: name.to_uppercase(),
        kind,
        required,
        options: options.iter().map(|&o| o.into()).collect(),
    };
    let item =
        |id: i64, name: &str, fields: Vec<FormField>, approver_ids: Vec<i64>| CatalogueItem {
            id,
            name: name.into(),
            description: String::new(),
            category: "Hardware".into(),
            fields,
            approver_ids,
            tasks: vec![],
            active: true,
            created_at: 0,
            updated_at: 0,
        };
    let items = [
        item(
            30,
            "Laptop",
            vec![
                field("model", FieldKind::Select, true, &["X1", "T14"]),
                field("manager", FieldKind::User, false, &[]),
                field("count", FieldKind::Number, false, &[]),
                field("needed_by", FieldKind::Date, false, &[]),
                field("note", FieldKind::Text, false, &[]),
            ],
            vec![],
        ),
        item(31, "Access", vec![], vec![21]),
    ];
    let names = |pairs: &[(i64, &str)]| -> Vec<(i64, String)> {
        pairs.iter().map(|&(id, n)| (id, n.to_owned())).collect()
    };
    Known {
        matrix: PriorityMatrix::default(),
        services: Names::new(
            "no service named",
            names(&[(1, "Mail"), (2, "Network"), (3, "VPN"), (4, "vpn")]),
        ),
        categories: Names::new(
            "no category",
            names(&[(10, "Hardware"), (11, "Hardware › Laptops"), (12, "I/O")]),
        ),
        users: Names::new(
            "no user with e-mail",
            names(&[(20, "ann@acme.test"), (21, "bob@acme.test")]),
        ),
        item_names: Names::new(
            "no catalogue item named",
            items.iter().map(|i| (i.id, i.name.clone())),
        ),
        items: items
            .into_iter()
            .map(|i| (i.id, i))
            .collect::<HashMap<_, _>>(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::Path;

    /// The seed corpus is what CI exercises on stable, where `cargo fuzz` cannot run.
    #[test]
    fn the_seed_corpus_passes() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/csv_import");
        let mut kinds = HashSet::new();
        for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/csv_import") {
            let path = entry.expect("corpus entry").path();
            let data = std::fs::read(&path).expect("corpus file");
            kinds.insert(data.first().copied());
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            let good = name.is_some_and(|n| n.contains("_good"));
            assert_eq!(csv_import(&data), good, "{}", path.display());
        }
        assert_eq!(
            kinds,
            HashSet::from([Some(b'i'), Some(b'r'), Some(b'p')]),
            "seeds for every kind"
        );
    }

    /// Cells that mean something to some column, and some that mean nothing.
    const CELLS: &[&str] = &[
        "",
        " ",
        "X-1",
        "X-2",
        " X-1 ",
        "Mail down",
        "new",
        "in_progress",
        "pending",
        "resolved",
        "closed",
        "cancelled",
        "known_error",
        "fulfilled",
        "in_fulfilment",
        "pending_approval",
        "high",
        "low",
        "email",
        "Mail",
        "vpn",
        "Hardware / Laptops",
        "Hardware › Laptops",
        "i/o",
        "ann@acme.test",
        "Laptop",
        "access",
        "2024-03-01T09:00:00Z",
        "2024-03-02T09:00:00+02:00",
        "9999-12-31T23:59:59Z",
        "-009999-01-01T00:00:00Z",
        "yesterday",
        "restarted",
        r#"{"model": "X1", "manager": "ann@acme.test", "count": 3}"#,
        r#"{"model": "Z9", "needed_by": "2024-02-30", "manager": 21}"#,
        r#"{"manager": 9223372036854775807, "count": 1e400}"#,
        "[1]",
        "\"quoted, \"\"twice\"\"\"",
        "two\nlines",
        "\r",
        "\u{0}",
    ];

    fn file() -> impl Strategy<Value = Vec<u8>> {
        let kind = prop::sample::select(vec![b'i', b'r', b'p']);
        let columns = prop::collection::vec(
            prop::sample::select(vec![
                "external_id",
                "title",
                "status",
                "impact",
                "urgency",
                "service",
                "category",
                "source",
                "item",
                "requester",
                "answers",
                "root_cause",
                "workaround",
                "opened_at",
                "resolved_at",
                "fulfilled_at",
                "closed_at",
                "resolution_code",
                "key",
                "priority",
            ]),
            1..8,
        );
        let rows = prop::collection::vec(
            prop::collection::vec(prop::sample::select(CELLS), 0..9),
            0..6,
        );
        let ending = prop::sample::select(vec!["\n", "\r\n", "\r", ""]);
        (kind, columns, rows, ending).prop_map(|(kind, columns, rows, ending)| {
            let mut out = vec![kind];
            let mut writer = csv::WriterBuilder::new()
                .flexible(true)
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(Vec::new());
            let _ = writer.write_record(&columns);
            for row in &rows {
                let _ = writer.write_record(row);
            }
            let text = writer.into_inner().unwrap_or_default();
            out.extend(String::from_utf8_lossy(&text).replace('\n', ending).bytes());
            out
        })
    }

    proptest! {
        #[test]
        fn generated_files_keep_the_invariants(data in file()) {
            let _ = csv_import(&data);
        }

        #[test]
        fn arbitrary_bytes_keep_the_invariants(data in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = csv_import(&data);
        }
    }
}
