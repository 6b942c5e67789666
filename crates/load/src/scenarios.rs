//! The scenarios. Each one sets up once (reading what it needs through the API), then makes
//! one request per iteration; the iteration number (0, 1, 2, ... continuing across the
//! concurrency levels of a run) lets it vary its input deterministically.
//!
//! To add a scenario:
//! 1. write a struct with an `async fn setup(api: &mut Conn) -> anyhow::Result<Self>` and an
//!    `impl Scenario` that builds the request for an iteration;
//! 2. add a variant to [`ScenarioName`]: its `#[value(name)]` is the name on the command line
//!    and its doc comment the line `--help` shows;
//! 3. add one arm to [`ScenarioName::as_str`] and one to [`ScenarioName::setup`].
//!
//! A scenario whose request carries many rows (an import) says how many in
//! [`Scenario::rows_per_request`], and its figures gain `rows_per_s`. One that is too heavy,
//! or needs more than an agent's token, to run unasked stays out of
//! [`ScenarioName::by_default`].

use crate::http::{Conn, Request};
use anyhow::{Context, anyhow, bail};
use clap::ValueEnum;
use serde_json::{Value, json};

/// One kind of request, set up and ready to run.
pub trait Scenario: Send + Sync {
    /// The request for iteration `i`.
    fn request(&self, i: u64) -> Request;

    /// The rows (records) each request carries; figures report rows per second besides
    /// requests per second when it is not 1.
    fn rows_per_request(&self) -> u64 {
        1
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScenarioName {
    /// A new incident (POST /incidents): title, impact and urgency vary by iteration; services in turn.
    #[value(name = "incident.create")]
    IncidentCreate,
    /// A filtered first page of 50 (GET /incidents): one service, in progress or pending, newest first.
    #[value(name = "incident.list")]
    IncidentList,
    /// Pages 2 to 20 in turn of all incidents newest first, by keyset cursor (GET /incidents).
    #[value(name = "incident.list.deep")]
    IncidentListDeep,
    /// Full-text search (GET /incidents?q=WORD) for words `steward bench generate` writes, 50 rows.
    #[value(name = "incident.search")]
    IncidentSearch,
    /// One incident by key (GET /incidents/INC-n), n spread over the existing keys.
    #[value(name = "incident.view")]
    IncidentView,
    /// 100 new incidents as one CSV file (POST /imports/incidents), external ids unique per run; needs an admin's token, and runs only when named.
    #[value(name = "incident.import")]
    IncidentImport,
}

impl ScenarioName {
    /// Every scenario, in the order a run takes them by default.
    pub const ALL: [ScenarioName; 6] = [
        ScenarioName::IncidentCreate,
        ScenarioName::IncidentList,
        ScenarioName::IncidentListDeep,
        ScenarioName::IncidentSearch,
        ScenarioName::IncidentView,
        ScenarioName::IncidentImport,
    ];

    /// Whether a run without `--scenario` takes it: every scenario but `incident.import`, which
    /// writes 100 incidents a request and needs an admin's token.
    pub fn by_default(self) -> bool {
        self != ScenarioName::IncidentImport
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ScenarioName::IncidentCreate => "incident.create",
            ScenarioName::IncidentList => "incident.list",
            ScenarioName::IncidentListDeep => "incident.list.deep",
            ScenarioName::IncidentSearch => "incident.search",
            ScenarioName::IncidentView => "incident.view",
            ScenarioName::IncidentImport => "incident.import",
        }
    }

    /// Reads what the scenario needs from the server, once before its figures.
    pub async fn setup(self, api: &mut Conn) -> anyhow::Result<Box<dyn Scenario>> {
        Ok(match self {
            ScenarioName::IncidentCreate => Box::new(IncidentCreate::setup(api).await?),
            ScenarioName::IncidentList => Box::new(IncidentList::setup(api).await?),
            ScenarioName::IncidentListDeep => Box::new(IncidentListDeep::setup(api).await?),
            ScenarioName::IncidentSearch => Box::new(IncidentSearch),
            ScenarioName::IncidentView => Box::new(IncidentView::setup(api).await?),
            ScenarioName::IncidentImport => Box::new(IncidentImport::setup(api).await?),
        })
    }
}

/// The words `steward bench generate` puts in titles and descriptions (`WORDS` in
/// `crates/cli/src/bench/mod.rs`; a test below checks the two agree).
pub const WORDS: [&str; 8] = [
    "printer", "vpn", "mailbox", "toner", "jammed", "calendar", "badge", "payroll",
];

const THINGS: [&str; 6] = [
    "Printer",
    "VPN",
    "Mailbox",
    "Calendar",
    "Badge reader",
    "Payroll export",
];
const FAULTS: [&str; 5] = [
    "not working",
    "very slow",
    "out of toner",
    "jammed",
    "keeps disconnecting",
];
const LEVELS: [&str; 3] = ["low", "medium", "high"];

/// A well-mixed 64-bit hash of `i` (SplitMix64), for spreading iterations over a range
/// deterministically without a random number generator.
pub fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `items[i % len]`; `None` when empty.
fn nth<T: Copy>(items: &[T], i: u64) -> Option<T> {
    (!items.is_empty()).then(|| items[(i % items.len() as u64) as usize])
}

/// The ids of the tenant's services (the first 500).
async fn service_ids(api: &mut Conn) -> anyhow::Result<Vec<i64>> {
    let page = api.get_json("/services?limit=500").await?;
    Ok(items(&page)?
        .iter()
        .filter_map(|s| s.get("id").and_then(Value::as_i64))
        .collect())
}

/// The `items` of a list page.
fn items(page: &Value) -> anyhow::Result<&Vec<Value>> {
    page.get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("a list page without `items`"))
}

pub struct IncidentCreate {
    services: Vec<i64>,
}

impl IncidentCreate {
    async fn setup(api: &mut Conn) -> anyhow::Result<Self> {
        Ok(IncidentCreate {
            services: service_ids(api).await.context("listing services")?,
        })
    }
}

impl Scenario for IncidentCreate {
    fn request(&self, i: u64) -> Request {
        let h = mix(i);
        let thing = THINGS[(h % THINGS.len() as u64) as usize];
        let fault = FAULTS[((h >> 8) % FAULTS.len() as u64) as usize];
        let mut body = json!({
            "title": format!("Load test {i}: {thing} {fault}"),
            "description": format!("Opened by steward-load, iteration {i}: {} {fault}.", thing.to_lowercase()),
            "impact": LEVELS[((h >> 16) % 3) as usize],
            "urgency": LEVELS[((h >> 24) % 3) as usize],
        });
        if let Some(service) = nth(&self.services, i) {
            body["service_id"] = json!(service);
        }
        Request::post_json("/incidents", &body)
    }
}

pub struct IncidentList {
    services: Vec<i64>,
}

impl IncidentList {
    async fn setup(api: &mut Conn) -> anyhow::Result<Self> {
        Ok(IncidentList {
            services: service_ids(api).await.context("listing services")?,
        })
    }
}

impl Scenario for IncidentList {
    fn request(&self, i: u64) -> Request {
        let service = nth(&self.services, i)
            .map(|s| format!("service_id={s}&"))
            .unwrap_or_default();
        Request::get(format!(
            "/incidents?{service}status=in_progress,pending&sort=-opened_at&limit=50"
        ))
    }
}

/// How deep `incident.list.deep` goes.
const DEEP_PAGES: usize = 20;
const DEEP_QUERY: &str = "/incidents?sort=-opened_at&limit=50";

pub struct IncidentListDeep {
    /// The cursors of pages 2, 3, ... up to `DEEP_PAGES` (fewer if the list is shorter).
    cursors: Vec<String>,
}

impl IncidentListDeep {
    async fn setup(api: &mut Conn) -> anyhow::Result<Self> {
        let mut cursors = Vec::new();
        let mut path = DEEP_QUERY.to_owned();
        while cursors.len() + 1 < DEEP_PAGES {
            let page = api.get_json(&path).await?;
            let Some(cursor) = page.get("next_cursor").and_then(Value::as_str) else {
                break;
            };
            path = format!("{DEEP_QUERY}&cursor={cursor}");
            cursors.push(cursor.to_owned());
        }
        if cursors.is_empty() {
            bail!("the incident list has one page only: it needs more than 50 incidents");
        }
        Ok(IncidentListDeep { cursors })
    }
}

impl Scenario for IncidentListDeep {
    fn request(&self, i: u64) -> Request {
        let cursor = &self.cursors[(i % self.cursors.len() as u64) as usize];
        Request::get(format!("{DEEP_QUERY}&cursor={cursor}"))
    }
}

pub struct IncidentSearch;

impl Scenario for IncidentSearch {
    fn request(&self, i: u64) -> Request {
        let word = WORDS[(i % WORDS.len() as u64) as usize];
        Request::get(format!("/incidents?q={word}&sort=-updated_at&limit=50"))
    }
}

pub struct IncidentView {
    /// The highest incident number: keys run from INC-1 to INC-`highest`.
    highest: u64,
}

impl IncidentView {
    async fn setup(api: &mut Conn) -> anyhow::Result<Self> {
        let page = api.get_json("/incidents?sort=-number&limit=1").await?;
        let key = items(&page)?
            .first()
            .and_then(|i| i.get("key"))
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("there are no incidents to view"))?;
        let highest = key
            .strip_prefix("INC-")
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| anyhow!("unexpected incident key `{key}`"))?;
        Ok(IncidentView { highest })
    }
}

impl Scenario for IncidentView {
    fn request(&self, i: u64) -> Request {
        let n = 1 + mix(i) % self.highest.max(1);
        Request::get(format!("/incidents/INC-{n}"))
    }
}

/// Incidents per `incident.import` request.
const IMPORT_ROWS: u64 = 100;
const IMPORT_HEADER: &str =
    "external_id,title,description,status,impact,urgency,source,opened_at,resolved_at\n";
/// Where the imported incidents' history starts: 2026-01-01T00:00:00Z, in seconds.
const IMPORT_EPOCH: i64 = 1_767_225_600;

pub struct IncidentImport {
    /// Makes this run's external ids its own, so a second run creates incidents too rather
    /// than updating the first run's.
    run: String,
}

impl IncidentImport {
    async fn setup(api: &mut Conn) -> anyhow::Result<Self> {
        let me = api
            .get_json("/me")
            .await
            .context("reading the token's user")?;
        let role = me.get("role").and_then(Value::as_str).unwrap_or_default();
        if role != "admin" {
            let email = me.get("email").and_then(Value::as_str).unwrap_or("?");
            bail!("incident.import needs an admin's token; this one is {email}'s (role {role})");
        }
        let now = jiff::Timestamp::now();
        Ok(IncidentImport {
            run: format!("{:x}", now.as_microsecond()),
        })
    }
}

impl Scenario for IncidentImport {
    fn request(&self, i: u64) -> Request {
        let mut csv = String::with_capacity(IMPORT_HEADER.len() + 160 * IMPORT_ROWS as usize);
        csv.push_str(IMPORT_HEADER);
        for row in 0..IMPORT_ROWS {
            let n = i * IMPORT_ROWS + row;
            let h = mix(n);
            let thing = THINGS[(h % THINGS.len() as u64) as usize];
            let fault = FAULTS[((h >> 8) % FAULTS.len() as u64) as usize];
            // From 2026-01-01 a minute apart per row (for about 9 months, then again), a
            // quarter already resolved.
            let opened = IMPORT_EPOCH + (n % 400_000) as i64 * 60;
            let at = |seconds: i64| {
                jiff::Timestamp::from_second(seconds)
                    .map(|t| t.to_string())
                    .unwrap_or_default()
            };
            let (status, resolved) = match (h >> 32) % 4 {
                0 => ("resolved", at(opened + 3600)),
                1 => ("in_progress", String::new()),
                _ => ("new", String::new()),
            };
            csv.push_str(&format!(
                "load-{run}-{n},Imported {n}: {thing} {fault},Brought in by steward-load from another tool,{status},{impact},{urgency},email,{opened},{resolved}\n",
                run = self.run,
                impact = LEVELS[((h >> 16) % 3) as usize],
                urgency = LEVELS[((h >> 24) % 3) as usize],
                opened = at(opened),
            ));
        }
        Request::post("/imports/incidents", "text/csv", csv)
    }

    fn rows_per_request(&self) -> u64 {
        IMPORT_ROWS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::Method;

    #[test]
    fn every_scenario_has_its_name() {
        for name in ScenarioName::ALL {
            let value = name.to_possible_value().expect("not skipped");
            assert_eq!(value.get_name(), name.as_str());
            assert_eq!(ScenarioName::from_str(name.as_str(), false), Ok(name));
            assert!(value.get_help().is_some(), "{} has no help", name.as_str());
        }
        assert_eq!(ScenarioName::value_variants(), &ScenarioName::ALL);
    }

    #[test]
    fn search_words_are_the_ones_bench_generate_writes() {
        let bench = include_str!("../../cli/src/bench/mod.rs");
        for word in WORDS {
            assert!(
                bench.contains(&format!("\"{word}\"")),
                "`{word}` is not among bench.rs's words"
            );
        }
    }

    #[test]
    fn create_varies_its_title_and_spreads_over_services() {
        let s = IncidentCreate {
            services: vec![4, 9],
        };
        let bodies: Vec<Value> = (0..4)
            .map(|i| {
                let r = s.request(i);
                assert_eq!((r.method, r.path.as_str()), (Method::POST, "/incidents"));
                serde_json::from_slice(&r.body.expect("a body")).expect("JSON")
            })
            .collect();
        assert!(
            bodies[0]["title"]
                .as_str()
                .expect("title")
                .starts_with("Load test 0: ")
        );
        assert_ne!(bodies[0]["title"], bodies[1]["title"]);
        let services: Vec<i64> = bodies
            .iter()
            .map(|b| b["service_id"].as_i64().expect("id"))
            .collect();
        assert_eq!(services, [4, 9, 4, 9]);
        assert!(LEVELS.contains(&bodies[2]["impact"].as_str().expect("impact")));
        let without = IncidentCreate { services: vec![] }.request(0);
        let body: Value = serde_json::from_slice(&without.body.expect("a body")).expect("JSON");
        assert!(body.get("service_id").is_none());
    }

    #[test]
    fn view_keys_stay_within_the_existing_range() {
        let s = IncidentView { highest: 7 };
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..500 {
            let path = s.request(i).path;
            let n: u64 = path
                .strip_prefix("/incidents/INC-")
                .and_then(|n| n.parse().ok())
                .expect("a key");
            assert!((1..=7).contains(&n));
            seen.insert(n);
        }
        assert_eq!(seen.len(), 7, "every key is visited");
    }

    #[test]
    fn imports_carry_100_rows_with_ids_unique_to_the_run() {
        let s = IncidentImport { run: "r1".into() };
        assert_eq!(s.rows_per_request(), 100);
        assert_eq!(IncidentView { highest: 1 }.rows_per_request(), 1);
        let mut ids = std::collections::BTreeSet::new();
        for i in 0..3 {
            let r = s.request(i);
            assert_eq!(
                (r.method, r.path.as_str(), r.content_type),
                (Method::POST, "/imports/incidents", "text/csv")
            );
            let body = String::from_utf8(r.body.expect("a body").to_vec()).expect("text");
            let mut lines = body.lines();
            assert_eq!(lines.next(), IMPORT_HEADER.lines().next());
            let rows: Vec<&str> = lines.collect();
            assert_eq!(rows.len(), 100);
            for row in rows {
                let cells: Vec<&str> = row.split(',').collect();
                assert_eq!(cells.len(), 9, "{row}");
                assert!(cells[0].starts_with("load-r1-"), "{row}");
                assert!(ids.insert(cells[0].to_owned()), "{} twice", cells[0]);
                assert_eq!(cells[3] == "resolved", !cells[8].is_empty(), "{row}");
            }
        }
        let other = IncidentImport { run: "r2".into() }.request(0);
        let body = String::from_utf8(other.body.expect("a body").to_vec()).expect("text");
        assert!(body.contains("\nload-r2-0,"), "another run, other ids");
    }

    #[test]
    fn import_runs_only_when_named() {
        let default: Vec<ScenarioName> = ScenarioName::ALL
            .into_iter()
            .filter(|s| s.by_default())
            .collect();
        assert!(!default.contains(&ScenarioName::IncidentImport));
        assert_eq!(default.len(), ScenarioName::ALL.len() - 1);
    }

    #[test]
    fn list_search_and_deep_requests() {
        let list = IncidentList { services: vec![3] };
        assert_eq!(
            list.request(5).path,
            "/incidents?service_id=3&status=in_progress,pending&sort=-opened_at&limit=50"
        );
        assert_eq!(
            IncidentSearch.request(1).path,
            "/incidents?q=vpn&sort=-updated_at&limit=50"
        );
        let deep = IncidentListDeep {
            cursors: vec!["aa".into(), "bb".into()],
        };
        assert_eq!(deep.request(3).path, format!("{DEEP_QUERY}&cursor=bb"));
    }
}
