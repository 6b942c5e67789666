//! The asset register (ISO/IEC 20000-1 8.2.5): the list with its filters and expiry badges,
//! the form that records and edits an asset, and the asset page with its lifecycle buttons,
//! licence seats, linked CIs and history. (`assets` is the static-file server.)
//!
//! The form posts text; this module reads it into the domain's `AssetDraft` (amounts in the
//! currency's minor units, dates as civil dates) and the domain checks it, so the page refuses
//! what the API refuses, with the same messages, and keeps what was typed.

use super::cmdb::{ci_from_text, ci_suggestions};
use super::session::DoneQuery;
use super::{
    Chrome, FormState, HistoryRow, Id, ListFrame, Names, Opt, UiError, UiResult, filter_choices,
    history, options, when,
};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use jiff::civil::Date;
use serde::Deserialize;
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::asset::{
    AssetDraft, AssetKind, AssetStatus, Compliance, DEFAULT_REMINDER_DAYS, expiry_badge,
    format_amount, parse_amount, parse_date,
};
use steward_store::asset::{Asset, AssetFilter, today_utc};
use steward_store::{PageRequest, StoreError};

/// Where the navigation points; every asset page marks it.
pub const NAV_HREF: &str = "/assets";

fn kind_label(kind: AssetKind) -> &'static str {
    match kind {
        AssetKind::Hardware => "hardware",
        AssetKind::Software => "software",
    }
}

fn day(date: Option<Date>) -> String {
    date.map(|d| d.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The expiry badges of an asset as seen today: "warranty ends in 12 days", "licence expired".
fn badges(a: &Asset, today: Date) -> Vec<Badge> {
    a.terms()
        .into_iter()
        .filter_map(|(term, ends)| {
            expiry_badge(term, today, ends, DEFAULT_REMINDER_DAYS).map(|text| Badge {
                expired: ends < today,
                text,
            })
        })
        .collect()
}

pub struct Badge {
    pub text: String,
    /// Past (red) rather than coming (amber).
    pub expired: bool,
}

fn cost(a: &Asset) -> String {
    match (a.cost_minor, a.currency.as_deref()) {
        (Some(minor), Some(currency)) => format_amount(minor, currency),
        _ => "—".to_owned(),
    }
}

pub struct Row {
    pub id: i64,
    pub tag: String,
    pub name: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub status_code: &'static str,
    pub owner: String,
    pub location: String,
    pub seats: String,
    pub compliance: String,
    pub over: bool,
    pub badges: Vec<Badge>,
}

#[derive(Template, WebTemplate)]
#[template(path = "assets/list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    q: String,
    location: String,
    kinds: Vec<Opt>,
    statuses: Vec<Opt>,
    owners: Vec<Opt>,
    expiring: Vec<Opt>,
    filtered: bool,
    next: Option<String>,
    can_write: bool,
    no_errors: FormState,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    q: String,
    kind: String,
    status: String,
    owner_id: String,
    location: String,
    expiring_within: String,
    cursor: Option<String>,
    done: Option<String>,
}

fn number(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

fn status_choices(current: &str) -> Vec<Opt> {
    filter_choices(
        AssetStatus::ALL,
        "— any status —",
        AssetStatus::as_str,
        AssetStatus::label,
        current,
    )
}

fn kind_choices(none: Option<&str>, current: &str) -> Vec<Opt> {
    options(
        none.map(|n| (String::new(), n.to_owned()))
            .into_iter()
            .chain(
                AssetKind::ALL
                    .iter()
                    .map(|k| (k.as_str().to_owned(), kind_label(*k).to_owned())),
            ),
        current,
    )
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::AssetsRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let filter = AssetFilter {
        q: Some(q.q.trim().to_owned()).filter(|t| !t.is_empty()),
        kind: AssetKind::parse(q.kind.trim()),
        status: AssetStatus::parse(q.status.trim()),
        owner_id: number(&q.owner_id),
        location: Some(q.location.trim().to_owned()).filter(|t| !t.is_empty()),
        expiring_within: number(&q.expiring_within),
        sort: None,
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let found = match state.store.assets(who.tenant_id(), &filter, &page).await {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to(NAV_HREF).into_response()),
        other => other?,
    };
    let names = Names::load(&state, &who).await?;
    let today = today_utc();
    let rows = found
        .items
        .into_iter()
        .map(|a| {
            let compliance = a.compliance();
            Row {
                seats: match a.licence_seats {
                    Some(seats) => format!("{} / {seats}", a.seats_in_use.unwrap_or(0)),
                    None => String::new(),
                },
                compliance: compliance.label(),
                over: matches!(compliance, Compliance::OverDeployed { .. }),
                badges: badges(&a, today),
                kind: kind_label(a.kind),
                status: a.status.label(),
                status_code: a.status.as_str(),
                owner: Names::of(&names.users, a.owner_id),
                id: a.id,
                tag: a.tag,
                name: a.name,
                location: a.location,
            }
        })
        .collect();
    let params = [
        ("q", q.q.as_str()),
        ("kind", q.kind.as_str()),
        ("status", q.status.as_str()),
        ("owner_id", q.owner_id.as_str()),
        ("location", q.location.as_str()),
        ("expiring_within", q.expiring_within.as_str()),
    ];
    let frame = ListFrame::new(
        &state,
        &who,
        NAV_HREF,
        &params,
        found.next_cursor,
        q.done.as_deref(),
    )
    .await;
    Ok(ListPage {
        chrome: frame.chrome,
        rows,
        filtered: frame.filtered,
        kinds: kind_choices(Some("— any kind —"), &q.kind),
        statuses: status_choices(&q.status),
        owners: options(Names::choices(&names.users, "— anyone —"), &q.owner_id),
        expiring: options(
            [
                ("", "— any time —"),
                ("30", "within 30 days"),
                ("90", "within 90 days"),
                ("365", "within a year"),
            ]
            .map(|(v, l)| (v.to_owned(), l.to_owned())),
            &q.expiring_within,
        ),
        q: q.q,
        location: q.location,
        next: frame.next,
        can_write: who.can(Permission::AssetsWrite),
        no_errors: FormState::default(),
    }
    .into_response())
}

/// The form's text fields.
const FIELDS: [&str; 18] = [
    "tag",
    "name",
    "kind",
    "status",
    "manufacturer",
    "model",
    "serial_number",
    "owner_id",
    "location",
    "supplier",
    "cost",
    "currency",
    "purchase_date",
    "warranty_expires",
    "licence_seats",
    "seats_in_use",
    "licence_expires",
    "notes",
];

/// What the asset form posts, as typed.
#[derive(Debug, Default)]
struct AssetForm {
    fields: HashMap<String, String>,
    /// The `updated_at` the edit form was drawn from.
    seen: Option<i64>,
}

impl AssetForm {
    fn posted(pairs: Vec<(String, String)>) -> AssetForm {
        let mut form = AssetForm::default();
        for (k, v) in pairs {
            if k == "updated_at" {
                form.seen = v.trim().parse().ok();
            } else if FIELDS.contains(&k.as_str()) {
                form.fields.insert(k, v);
            }
        }
        form
    }

    fn of(a: &Asset) -> AssetForm {
        let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        let amount = match (a.cost_minor, a.currency.as_deref()) {
            (Some(minor), Some(c)) => format_amount(minor, c)
                .trim_end_matches(c)
                .trim()
                .to_owned(),
            _ => String::new(),
        };
        let fields = [
            ("tag", a.tag.clone()),
            ("name", a.name.clone()),
            ("kind", a.kind.as_str().to_owned()),
            ("status", a.status.as_str().to_owned()),
            ("manufacturer", a.manufacturer.clone()),
            ("model", a.model.clone()),
            ("serial_number", a.serial_number.clone()),
            ("owner_id", n(a.owner_id)),
            ("location", a.location.clone()),
            ("supplier", a.supplier.clone()),
            ("cost", amount),
            ("currency", a.currency.clone().unwrap_or_default()),
            ("purchase_date", day(a.purchase_date)),
            ("warranty_expires", day(a.warranty_expires)),
            ("licence_seats", n(a.licence_seats)),
            ("seats_in_use", n(a.seats_in_use)),
            ("licence_expires", day(a.licence_expires)),
            ("notes", a.notes.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        AssetForm {
            fields,
            seen: Some(a.updated_at),
        }
    }

    fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    fn state(&self) -> FormState {
        let values: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        FormState::with(&values)
    }

    /// The draft as typed, checked by the domain; text that is not a number or date is a
    /// field error beside the domain's own.
    fn draft(&self) -> Result<AssetDraft, Invalid> {
        let mut errors = Invalid::new();
        let mut whole = |field: &str, label: &str| match self.get(field).trim() {
            "" => None,
            t => t.parse::<i64>().ok().or_else(|| {
                errors.add(field, format!("{label} must be a whole number"));
                None
            }),
        };
        let licence_seats = whole("licence_seats", "Licence seats");
        let seats_in_use = whole("seats_in_use", "Seats in use");
        let owner_id = match self.get("owner_id").trim() {
            "" => None,
            t => t.parse().ok().or_else(|| {
                errors.add("owner_id", "Choose the owner from the list");
                None
            }),
        };
        let kind = AssetKind::parse(self.get("kind").trim()).unwrap_or_else(|| {
            errors.add("kind", "Choose hardware or software");
            AssetKind::Hardware
        });
        let currency = self.get("currency").trim().to_ascii_uppercase();
        let cost_minor = match self.get("cost").trim() {
            "" => None,
            t if t.starts_with('-') => {
                errors.add("cost_minor", "Cost cannot be negative");
                None
            }
            t => parse_amount(t, &currency)
                .map_err(|message| errors.add("cost_minor", message))
                .ok(),
        };
        let purchase_date = parse_date(
            &mut errors,
            "purchase_date",
            "Purchase date",
            self.get("purchase_date"),
        );
        let warranty_expires = parse_date(
            &mut errors,
            "warranty_expires",
            "Warranty end",
            self.get("warranty_expires"),
        );
        let licence_expires = parse_date(
            &mut errors,
            "licence_expires",
            "Licence end",
            self.get("licence_expires"),
        );
        let draft = AssetDraft {
            tag: self.get("tag").to_owned(),
            name: self.get("name").to_owned(),
            kind,
            manufacturer: self.get("manufacturer").to_owned(),
            model: self.get("model").to_owned(),
            serial_number: self.get("serial_number").to_owned(),
            owner_id,
            location: self.get("location").to_owned(),
            supplier: self.get("supplier").to_owned(),
            cost_minor,
            currency: Some(currency).filter(|c| !c.is_empty()),
            purchase_date,
            warranty_expires,
            licence_seats,
            seats_in_use,
            licence_expires,
            notes: self.get("notes").to_owned(),
        };
        match draft.validate() {
            Ok(valid) => errors.into_result(valid),
            Err(domain) => {
                // One message per field: the form's own reading first.
                for e in domain.errors {
                    if errors.message_for(&e.field).is_none() {
                        errors.errors.push(e);
                    }
                }
                Err(errors)
            }
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "assets/form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
    form: FormState,
    /// The edited asset's `updated_at`, sent back to catch a concurrent edit.
    seen: Option<i64>,
    kinds: Vec<Opt>,
    /// Only for a new asset; an existing one moves with the lifecycle buttons.
    statuses: Vec<Opt>,
    owners: Vec<Opt>,
}

async fn render_form(
    state: &AppState,
    who: &Principal,
    editing: Option<&Asset>,
    form: FormState,
    seen: Option<i64>,
    status: StatusCode,
) -> UiResult {
    let names = Names::load(state, who).await?;
    let (heading, action, submit, cancel) = match editing {
        None => (
            "New asset".to_owned(),
            NAV_HREF.to_owned(),
            "Record asset",
            NAV_HREF.to_owned(),
        ),
        Some(a) => (
            format!("Edit {} {}", a.tag, a.name),
            format!("/assets/{}", a.id),
            "Save",
            format!("/assets/{}", a.id),
        ),
    };
    let statuses = if editing.is_none() {
        options(
            [
                AssetStatus::Ordered,
                AssetStatus::InStock,
                AssetStatus::Deployed,
            ]
            .iter()
            .map(|s| (s.as_str().to_owned(), s.label().to_owned())),
            form.value("status"),
        )
    } else {
        Vec::new()
    };
    let page = FormPage {
        chrome: Chrome::new(state, who, NAV_HREF).await,
        heading,
        action,
        submit,
        cancel,
        seen,
        kinds: kind_choices(None, form.value("kind")),
        statuses,
        owners: options(
            Names::choices(&names.users, "— nobody —"),
            form.value("owner_id"),
        ),
        form,
    };
    Ok((status, page).into_response())
}

pub async fn new_form(State(state): State<AppState>, who: Can<perm::AssetsWrite>) -> UiResult {
    let blank = FormState::with(&[
        ("kind", AssetKind::Hardware.as_str()),
        ("status", AssetStatus::InStock.as_str()),
        ("currency", "EUR"),
    ]);
    render_form(&state, &who, None, blank, None, StatusCode::OK).await
}

pub async fn edit_form(
    State(state): State<AppState>,
    who: Can<perm::AssetsWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    let asset = state.store.asset(who.tenant_id(), id).await?;
    let form = AssetForm::of(&asset);
    render_form(
        &state,
        &who,
        Some(&asset),
        form.state(),
        form.seen,
        StatusCode::OK,
    )
    .await
}

/// Checks and saves the posted form: the asset page on success, the form again with the errors
/// and what was typed otherwise.
async fn save(
    state: &AppState,
    who: &Principal,
    current: Option<&Asset>,
    form: AssetForm,
) -> UiResult {
    let t = who.tenant_id();
    let saved: Result<Asset, StoreError> = async {
        let draft = form.draft()?;
        match current {
            None => {
                let status =
                    AssetStatus::parse(form.get("status").trim()).unwrap_or(AssetStatus::InStock);
                state
                    .store
                    .create_asset(t, &draft, status, &who.actor())
                    .await
            }
            Some(a) => {
                let seen = form.seen.unwrap_or(a.updated_at);
                state
                    .store
                    .update_asset(t, a.id, seen, &draft, &who.actor())
                    .await
            }
        }
    }
    .await;
    let refusal = match saved {
        Ok(asset) => return Ok(super::saved_page("/assets", asset.id, current.is_some())),
        Err(e) => super::refusal(e, "form")?,
    };
    let seen = form.seen;
    render_form(
        state,
        who,
        current,
        form.state().rejected(refusal),
        seen,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::AssetsWrite>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    save(&state, &who, None, AssetForm::posted(pairs)).await
}

pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::AssetsWrite>,
    Id(id): Id<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let asset = state.store.asset(who.tenant_id(), id).await?;
    save(&state, &who, Some(&asset), AssetForm::posted(pairs)).await
}

/// A CI the asset is linked to, as its page lists it.
pub struct LinkedCi {
    pub id: i64,
    pub name: String,
    pub class: String,
    pub status: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "assets/view.html")]
struct ViewPage {
    chrome: Chrome,
    asset: Asset,
    kind: &'static str,
    status: &'static str,
    /// Lifecycle buttons: (status, label).
    moves: Vec<(&'static str, &'static str)>,
    owner: String,
    cost: String,
    purchase_date: String,
    warranty_expires: String,
    licence_expires: String,
    badges: Vec<Badge>,
    /// Seats in use and licensed, and the bar's fill in percent (capped at 100).
    seats: Option<(i64, i64, i64)>,
    compliance: String,
    over: bool,
    warnings: Vec<String>,
    created: String,
    updated: String,
    can_write: bool,
    /// Whether the reader may see CIs at all.
    can_cmdb: bool,
    cis: Vec<LinkedCi>,
    candidates: Vec<String>,
    link: FormState,
    /// Why the last lifecycle move was refused.
    refusal: Option<String>,
    history: Option<Vec<HistoryRow>>,
}

async fn render_view(
    state: &AppState,
    who: &Principal,
    id: i64,
    link: FormState,
    refusal: Option<String>,
    status: StatusCode,
    done: Option<&str>,
) -> UiResult {
    let t = who.tenant_id();
    let asset = state.store.asset(t, id).await?;
    let names = Names::load(state, who).await?;
    let can_write = who.can(Permission::AssetsWrite);
    let can_cmdb = who.can(Permission::CmdbRead);
    let cis = if can_cmdb {
        let labels = state.store.ci_labels(t, &asset.ci_ids).await?;
        let mut cis: Vec<LinkedCi> = asset
            .ci_ids
            .iter()
            .filter_map(|id| labels.get(id))
            .map(|l| LinkedCi {
                id: l.id,
                name: l.name.clone(),
                class: l.class.clone(),
                status: l.status.replace('_', " "),
            })
            .collect();
        cis.sort_by(|a, b| a.name.cmp(&b.name));
        cis
    } else {
        Vec::new()
    };
    let candidates = if can_write && can_cmdb {
        ci_suggestions(state, t, &asset.ci_ids).await?
    } else {
        Vec::new()
    };
    let compliance = asset.compliance();
    let seats = asset.licence_seats.map(|licensed| {
        let used = asset.seats_in_use.unwrap_or(0);
        let fill = if licensed > 0 {
            (used.saturating_mul(100) / licensed).clamp(0, 100)
        } else {
            0
        };
        (used, licensed, fill)
    });
    let page = ViewPage {
        chrome: Chrome::new(state, who, NAV_HREF).await.with_notice(done),
        kind: kind_label(asset.kind),
        status: asset.status.label(),
        moves: asset
            .status
            .next()
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        owner: Names::of(&names.users, asset.owner_id),
        cost: cost(&asset),
        purchase_date: day(asset.purchase_date),
        warranty_expires: day(asset.warranty_expires),
        licence_expires: day(asset.licence_expires),
        badges: badges(&asset, today_utc()),
        seats,
        compliance: compliance.label(),
        over: matches!(compliance, Compliance::OverDeployed { .. }),
        warnings: asset.draft().warnings(),
        created: when(asset.created_at),
        updated: when(asset.updated_at),
        can_write,
        can_cmdb,
        cis,
        candidates,
        link,
        refusal,
        history: history(state, who, "asset", id).await,
        asset,
    };
    Ok((status, page).into_response())
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::AssetsRead>,
    Id(id): Id<i64>,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    render_view(
        &state,
        &who,
        id,
        FormState::default(),
        None,
        StatusCode::OK,
        q.done.as_deref(),
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct MoveForm {
    to: String,
}

/// `POST /assets/{id}/transitions`: a lifecycle button.
pub async fn transition(
    State(state): State<AppState>,
    who: Can<perm::AssetsWrite>,
    Id(id): Id<i64>,
    Form(form): Form<MoveForm>,
) -> UiResult {
    let t = who.tenant_id();
    let Some(to) = AssetStatus::parse(form.to.trim()) else {
        return render_view(
            &state,
            &who,
            id,
            FormState::default(),
            Some("Choose one of the lifecycle buttons".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        )
        .await;
    };
    match state.store.move_asset(t, id, to, &who.actor()).await {
        Ok(_) => Ok(Redirect::to(&format!("/assets/{id}?done=saved")).into_response()),
        Err(StoreError::Conflict(message)) => {
            render_view(
                &state,
                &who,
                id,
                FormState::default(),
                Some(message),
                StatusCode::CONFLICT,
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct LinkForm {
    /// The CI: `name #id` from the suggestions, an id, or a name.
    ci: String,
}

/// `POST /assets/{id}/cis`: links one more CI.
pub async fn link_ci(
    State(state): State<AppState>,
    who: Can<perm::AssetsWrite>,
    Id(id): Id<i64>,
    Form(form): Form<LinkForm>,
) -> UiResult {
    let t = who.tenant_id();
    let asset = state.store.asset(t, id).await?;
    let saved = async {
        let ci = ci_from_text(&state, t, "ci", &form.ci).await?;
        let mut ids = asset.ci_ids.clone();
        ids.push(ci);
        state.store.set_asset_cis(t, id, &ids, &who.actor()).await
    }
    .await;
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("/assets/{id}?done=saved#cis")).into_response()),
        Err(StoreError::Invalid(invalid)) => {
            let mut errors = Invalid::new();
            for e in invalid.errors {
                errors.add("ci", e.message);
            }
            render_view(
                &state,
                &who,
                id,
                FormState::with(&[("ci", &form.ci)]).rejected(errors),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /assets/{id}/cis/{ci}/delete`: unlinks a CI.
pub async fn unlink_ci(
    State(state): State<AppState>,
    who: Can<perm::AssetsWrite>,
    Id((id, ci)): Id<(i64, i64)>,
) -> UiResult {
    let t = who.tenant_id();
    let asset = state.store.asset(t, id).await?;
    if !asset.ci_ids.contains(&ci) {
        return Err(UiError::NotFound);
    }
    let rest: Vec<i64> = asset.ci_ids.into_iter().filter(|c| *c != ci).collect();
    state
        .store
        .set_asset_cis(t, id, &rest, &who.actor())
        .await?;
    Ok(Redirect::to(&format!("/assets/{id}?done=saved#cis")).into_response())
}

/// An asset as the CI page lists it.
pub struct CiAsset {
    pub id: i64,
    pub tag: String,
    pub name: String,
    pub status: &'static str,
}

/// The assets linked to CI `ci_id`, for the CI page; none if the reader may not see assets.
pub async fn of_ci(state: &AppState, who: &Principal, ci_id: i64) -> Result<Vec<CiAsset>, UiError> {
    if !who.can(Permission::AssetsRead) {
        return Ok(Vec::new());
    }
    Ok(state
        .store
        .assets_of_ci(who.tenant_id(), ci_id)
        .await?
        .into_iter()
        .map(|a| CiAsset {
            status: a.status.label(),
            id: a.id,
            tag: a.tag,
            name: a.name,
        })
        .collect())
}
