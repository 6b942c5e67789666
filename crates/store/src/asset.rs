//! Asset management (ISO/IEC 20000-1 8.2.5): what `steward_domain::asset` decided, kept.
//!
//! Assets with their lifecycle, cost, warranty and licence terms; the CIs each asset is
//! (`asset_cis`); and the expiry reminders already sent (`asset_reminders`), which make the
//! daily reminder job send each reminder once, however many nodes run it and however often.
//!
//! Every write is journaled in its transaction; the links to CIs are part of the asset's
//! journaled state. Dates are stored as `YYYY-MM-DD` text, which compares as the dates do.

use crate::db::{Sql, Tx, linked_ids, sql};
use crate::identity::like_pattern;
use crate::journal::Record;
use crate::mail::{OutMail, queue_mail_in};
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::refs::Ref;
use crate::{Actor, Store, StoreError, StoreResult, next_updated_at, now_micros};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::asset::{
    AssetDraft, AssetKind, AssetStatus, Compliance, Term, compliance, reminder_due,
};

/// An asset as stored (and as the journal keeps it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    pub id: i64,
    pub tag: String,
    pub name: String,
    pub kind: AssetKind,
    pub status: AssetStatus,
    pub manufacturer: String,
    pub model: String,
    pub serial_number: String,
    pub owner_id: Option<i64>,
    pub location: String,
    pub supplier: String,
    pub cost_minor: Option<i64>,
    pub currency: Option<String>,
    pub purchase_date: Option<Date>,
    pub warranty_expires: Option<Date>,
    pub licence_seats: Option<i64>,
    pub seats_in_use: Option<i64>,
    pub licence_expires: Option<Date>,
    pub notes: String,
    /// The CIs it is, by id.
    pub ci_ids: Vec<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for Asset {
    const KIND: &'static str = "asset";
    fn id(&self) -> i64 {
        self.id
    }
}

impl Asset {
    /// Its fields as a draft, to edit and validate again for `update_asset`.
    pub fn draft(&self) -> AssetDraft {
        AssetDraft {
            tag: self.tag.clone(),
            name: self.name.clone(),
            kind: self.kind,
            manufacturer: self.manufacturer.clone(),
            model: self.model.clone(),
            serial_number: self.serial_number.clone(),
            owner_id: self.owner_id,
            location: self.location.clone(),
            supplier: self.supplier.clone(),
            cost_minor: self.cost_minor,
            currency: self.currency.clone(),
            purchase_date: self.purchase_date,
            warranty_expires: self.warranty_expires,
            licence_seats: self.licence_seats,
            seats_in_use: self.seats_in_use,
            licence_expires: self.licence_expires,
            notes: self.notes.clone(),
        }
    }

    /// Seats in use against seats licensed.
    pub fn compliance(&self) -> Compliance {
        compliance(self.licence_seats, self.seats_in_use)
    }

    /// Its end dates: the warranty's and the licence's, where it has them.
    pub fn terms(&self) -> Vec<(Term, Date)> {
        [
            (Term::Warranty, self.warranty_expires),
            (Term::Licence, self.licence_expires),
        ]
        .into_iter()
        .filter_map(|(term, date)| date.map(|d| (term, d)))
        .collect()
    }
}

#[derive(sqlx::FromRow)]
struct AssetRow {
    id: i64,
    tag: String,
    name: String,
    #[sqlx(try_from = "String")]
    kind: AssetKind,
    #[sqlx(try_from = "String")]
    status: AssetStatus,
    manufacturer: String,
    model: String,
    serial_number: String,
    owner_id: Option<i64>,
    location: String,
    supplier: String,
    cost_minor: Option<i64>,
    currency: Option<String>,
    purchase_date: Option<String>,
    warranty_expires: Option<String>,
    licence_seats: Option<i64>,
    seats_in_use: Option<i64>,
    licence_expires: Option<String>,
    notes: String,
    created_at: i64,
    updated_at: i64,
}

fn stored_date(id: i64, text: Option<String>) -> StoreResult<Option<Date>> {
    text.map(|t| {
        Date::strptime("%Y-%m-%d", &t)
            .map_err(|e| StoreError::Corrupt(format!("asset {id} date `{t}`: {e}")))
    })
    .transpose()
}

fn date_text(date: Option<Date>) -> Option<String> {
    date.map(|d| d.strftime("%Y-%m-%d").to_string())
}

impl AssetRow {
    fn into_asset(self, ci_ids: Vec<i64>) -> StoreResult<Asset> {
        let id = self.id;
        Ok(Asset {
            id,
            tag: self.tag,
            name: self.name,
            kind: self.kind,
            status: self.status,
            manufacturer: self.manufacturer,
            model: self.model,
            serial_number: self.serial_number,
            owner_id: self.owner_id,
            location: self.location,
            supplier: self.supplier,
            cost_minor: self.cost_minor,
            currency: self.currency,
            purchase_date: stored_date(id, self.purchase_date)?,
            warranty_expires: stored_date(id, self.warranty_expires)?,
            licence_seats: self.licence_seats,
            seats_in_use: self.seats_in_use,
            licence_expires: stored_date(id, self.licence_expires)?,
            notes: self.notes,
            ci_ids,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: &str = "id, tag, name, kind, status, manufacturer, model, serial_number, owner_id, \
                       location, supplier, cost_minor, currency, purchase_date, warranty_expires, \
                       licence_seats, seats_in_use, licence_expires, notes, created_at, updated_at";
const TAG_TAKEN: (&str, &str) = ("tag", "Another asset has this tag");
/// The longest lead time or look-ahead, in days (ten years).
pub const MAX_DAYS: i64 = 3_650;

/// Today in UTC: what "expiring" and reminders count from.
pub fn today_utc() -> Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

/// `today` plus `days` (clamped to 0..=[`MAX_DAYS`]), as stored text.
fn horizon(today: Date, days: i64) -> String {
    let days = days.clamp(0, MAX_DAYS);
    let end = jiff::Span::new()
        .try_days(days)
        .ok()
        .and_then(|span| today.checked_add(span).ok())
        .unwrap_or(today);
    end.strftime("%Y-%m-%d").to_string()
}

/// Which assets a list shows.
#[derive(Debug, Clone, Default)]
pub struct AssetFilter {
    /// Words in the tag, name or serial number.
    pub q: Option<String>,
    pub kind: Option<AssetKind>,
    pub status: Option<AssetStatus>,
    pub owner_id: Option<i64>,
    /// Words in the location.
    pub location: Option<String>,
    /// Only assets whose warranty or licence ends between today and this many days on.
    pub expiring_within: Option<i64>,
    /// `tag` (default), `name`, `created_at` or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
}

fn select_one(tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM assets WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

/// A stored row with the CIs it is linked to.
async fn complete(tx: &mut Tx, row: AssetRow) -> StoreResult<Asset> {
    let cis = linked_ids(tx, "asset_cis", "ci_id", "asset_id", row.id).await?;
    row.into_asset(cis)
}

async fn complete_all(tx: &mut Tx, rows: Vec<AssetRow>) -> StoreResult<Vec<Asset>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(complete(tx, row).await?);
    }
    Ok(out)
}

async fn read_asset(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<Asset> {
    let row: AssetRow = tx.fetch_one(select_one(tenant_id, id)).await?;
    complete(tx, row).await
}

/// Binds a draft's fields in the order the asset writes list them: tag, name, kind,
/// manufacturer, model, serial_number, owner_id, location, supplier, cost_minor, currency,
/// purchase_date, warranty_expires, licence_seats, seats_in_use, licence_expires, notes.
fn bind_draft(q: Sql, draft: &AssetDraft) -> Sql {
    q.bind(&draft.tag)
        .bind(&draft.name)
        .bind(draft.kind.as_str())
        .bind(&draft.manufacturer)
        .bind(&draft.model)
        .bind(&draft.serial_number)
        .bind(draft.owner_id)
        .bind(&draft.location)
        .bind(&draft.supplier)
        .bind(draft.cost_minor)
        .bind(draft.currency.clone())
        .bind(date_text(draft.purchase_date))
        .bind(date_text(draft.warranty_expires))
        .bind(draft.licence_seats)
        .bind(draft.seats_in_use)
        .bind(date_text(draft.licence_expires))
        .bind(&draft.notes)
}

/// Expiring between `today` and `today + days`: either end date in range.
fn expiring(q: Sql, today: Date, days: i64) -> Sql {
    let from = today.strftime("%Y-%m-%d").to_string();
    let to = horizon(today, days);
    q.push_bound(" AND ((warranty_expires >= {}", from.clone())
        .push_bound(" AND warranty_expires <= {})", to.clone())
        .push_bound(" OR (licence_expires >= {}", from)
        .push_bound(" AND licence_expires <= {}))", to)
}

/// One reminder to send: an asset whose warranty or licence ends soon, and who hears of it.
#[derive(Debug, Clone)]
pub struct Reminder {
    pub asset: Asset,
    pub term: Term,
    pub ends_on: Date,
    /// Whole days from the day the job ran to the end.
    pub days_left: i64,
    /// Name and e-mail address of each recipient.
    pub recipients: Vec<(String, String)>,
}

impl Store {
    /// Checks that the draft's owner is the tenant's.
    async fn check_asset_refs(&self, tenant_id: i64, draft: &AssetDraft) -> StoreResult<()> {
        let refs: Vec<Ref<'_>> = vec![("owner_id".into(), "users", draft.owner_id, "User")];
        Ok(self.missing_refs(tenant_id, &refs).await?.into_result(())?)
    }

    /// Reads the asset again, journals it against `before` and commits.
    async fn finish_asset_write(
        &self,
        mut tx: Tx,
        tenant_id: i64,
        before: &Asset,
        actor: &Actor,
    ) -> StoreResult<Asset> {
        let after = read_asset(&mut tx, tenant_id, before.id).await?;
        self.commit_update(tx, tenant_id, actor, before, after)
            .await
    }

    /// Creates an asset from a validated draft, in `status` (imports bring assets already
    /// deployed; the register's form starts at ordered or in stock).
    pub async fn create_asset(
        &self,
        tenant_id: i64,
        draft: &AssetDraft,
        status: AssetStatus,
        actor: &Actor,
    ) -> StoreResult<Asset> {
        self.check_asset_refs(tenant_id, draft).await?;
        let mut tx = self.db.begin().await?;
        let write = sql(
            "INSERT INTO assets (tenant_id, status, tag, name, kind, manufacturer, model, serial_number, owner_id, \
             location, supplier, cost_minor, currency, purchase_date, warranty_expires, licence_seats, seats_in_use, \
             licence_expires, notes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20) \
             RETURNING id",
        )
        .bind(tenant_id)
        .bind(status.as_str());
        let write = bind_draft(write, draft).bind(now_micros());
        let (id,): (i64,) = tx
            .fetch_one(write)
            .await
            .map_err(|e| e.unique_as(TAG_TAKEN.0, TAG_TAKEN.1))?;
        let created = read_asset(&mut tx, tenant_id, id).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Replaces an asset's fields with a validated draft if it has not changed since
    /// `seen_updated_at` (`Conflict` otherwise). The status moves only by `move_asset`.
    pub async fn update_asset(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        draft: &AssetDraft,
        actor: &Actor,
    ) -> StoreResult<Asset> {
        self.check_asset_refs(tenant_id, draft).await?;
        let mut tx = self.db.begin().await?;
        let before = read_asset(&mut tx, tenant_id, id).await?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(
                "The asset was changed by someone else; reload it and try again".into(),
            ));
        }
        let write = sql(
            "UPDATE assets SET tag = $1, name = $2, kind = $3, manufacturer = $4, model = $5, \
             serial_number = $6, owner_id = $7, location = $8, supplier = $9, cost_minor = $10, currency = $11, \
             purchase_date = $12, warranty_expires = $13, licence_seats = $14, seats_in_use = $15, \
             licence_expires = $16, notes = $17, updated_at = $18 \
             WHERE tenant_id = $19 AND id = $20 AND updated_at = $21",
        );
        tx.execute(
            bind_draft(write, draft)
                .bind(next_updated_at(seen_updated_at))
                .bind(tenant_id)
                .bind(id)
                .bind(seen_updated_at),
        )
        .await
        .map_err(|e| e.unique_as(TAG_TAKEN.0, TAG_TAKEN.1))?;
        self.finish_asset_write(tx, tenant_id, &before, actor).await
    }

    /// Moves an asset along its lifecycle; a move the domain refuses is a `Conflict` with its
    /// message, and changes nothing.
    pub async fn move_asset(
        &self,
        tenant_id: i64,
        id: i64,
        to: AssetStatus,
        actor: &Actor,
    ) -> StoreResult<Asset> {
        let mut tx = self.db.begin().await?;
        let before = read_asset(&mut tx, tenant_id, id).await?;
        before
            .status
            .transition(to)
            .map_err(|refusal| StoreError::Conflict(refusal.to_string()))?;
        tx.execute(
            sql("UPDATE assets SET status = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4")
                .bind(to.as_str())
                .bind(next_updated_at(before.updated_at))
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
        self.finish_asset_write(tx, tenant_id, &before, actor).await
    }

    /// Replaces the CIs an asset is linked to; each must be the tenant's.
    pub async fn set_asset_cis(
        &self,
        tenant_id: i64,
        id: i64,
        ci_ids: &[i64],
        actor: &Actor,
    ) -> StoreResult<Asset> {
        // Another tenant's asset is not found, whatever the CIs.
        self.asset(tenant_id, id).await?;
        let mut ids = ci_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let refs: Vec<Ref<'_>> = ids
            .iter()
            .map(|ci| ("ci_ids".into(), "cis", Some(*ci), "CI"))
            .collect();
        self.missing_refs(tenant_id, &refs).await?.into_result(())?;
        let mut tx = self.db.begin().await?;
        let before = read_asset(&mut tx, tenant_id, id).await?;
        tx.execute(sql("DELETE FROM asset_cis WHERE asset_id = $1").bind(id))
            .await?;
        for ci in &ids {
            tx.execute(
                sql("INSERT INTO asset_cis (tenant_id, asset_id, ci_id) VALUES ($1, $2, $3)")
                    .bind(tenant_id)
                    .bind(id)
                    .bind(*ci),
            )
            .await?;
        }
        tx.execute(
            sql("UPDATE assets SET updated_at = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(next_updated_at(before.updated_at))
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
        self.finish_asset_write(tx, tenant_id, &before, actor).await
    }

    pub async fn asset(&self, tenant_id: i64, id: i64) -> StoreResult<Asset> {
        let mut conn = self.db.snapshot().await?;
        let asset = read_asset(&mut conn, tenant_id, id).await?;
        conn.commit().await?;
        Ok(asset)
    }

    /// A page of assets, by tag unless asked otherwise.
    pub async fn assets(
        &self,
        tenant_id: i64,
        f: &AssetFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Asset>> {
        let sort = Sort::parse_or_invalid(
            f.sort.as_deref(),
            &["tag", "name", "created_at", "updated_at"],
        )?;
        if f.expiring_within
            .is_some_and(|d| !(0..=MAX_DAYS).contains(&d))
        {
            return Err(Invalid::one(
                "expiring_within",
                format!("expiring_within must be a number of days from 0 to {MAX_DAYS}"),
            )
            .into());
        }
        let mut q =
            sql(format!("SELECT {COLUMNS} FROM assets WHERE tenant_id = $1")).bind(tenant_id);
        if let Some(text) = f.q.as_deref().filter(|t| !t.trim().is_empty()) {
            let pattern = like_pattern(text.trim());
            q = q
                .push_bound(" AND (lower(tag) LIKE {}", pattern.clone())
                .push_bound(" OR lower(name) LIKE {}", pattern.clone())
                .push_bound(" OR lower(serial_number) LIKE {})", pattern);
        }
        if let Some(kind) = f.kind {
            q = q.push_bound(" AND kind = {}", kind.as_str());
        }
        if let Some(status) = f.status {
            q = q.push_bound(" AND status = {}", status.as_str());
        }
        if let Some(owner) = f.owner_id {
            q = q.push_bound(" AND owner_id = {}", owner);
        }
        if let Some(text) = f.location.as_deref().filter(|t| !t.trim().is_empty()) {
            q = q.push_bound(" AND lower(location) LIKE {}", like_pattern(text.trim()));
        }
        if let Some(days) = f.expiring_within {
            q = expiring(q, today_utc(), days);
        }
        let mut conn = self.db.snapshot().await?;
        let rows: Vec<AssetRow> = conn.fetch_all(paginate(q, sort, page)?).await?;
        let items = complete_all(&mut conn, rows).await?;
        conn.commit().await?;
        Ok(finish(items, page, |a| match sort.column {
            "name" => (CursorKey::Text(a.name.clone()), a.id),
            "created_at" => (CursorKey::Int(a.created_at), a.id),
            "updated_at" => (CursorKey::Int(a.updated_at), a.id),
            _ => (CursorKey::Text(a.tag.clone()), a.id),
        }))
    }

    /// Assets still held (not retired or disposed) whose warranty or licence ends between
    /// `today` and `days` days on, by tag. At most 1,000.
    pub async fn expiring_assets(
        &self,
        tenant_id: i64,
        today: Date,
        days: i64,
    ) -> StoreResult<Vec<Asset>> {
        let q = sql(format!(
            "SELECT {COLUMNS} FROM assets WHERE tenant_id = $1 AND status NOT IN ('retired', 'disposed')"
        ))
        .bind(tenant_id);
        let q = expiring(q, today, days).push(" ORDER BY tag, id LIMIT 1000");
        let mut conn = self.db.snapshot().await?;
        let rows: Vec<AssetRow> = conn.fetch_all(q).await?;
        let out = complete_all(&mut conn, rows).await?;
        conn.commit().await?;
        Ok(out)
    }

    /// The tenant's assets linked to CI `ci_id`, by tag.
    pub async fn assets_of_ci(&self, tenant_id: i64, ci_id: i64) -> StoreResult<Vec<Asset>> {
        let mut conn = self.db.snapshot().await?;
        let rows: Vec<AssetRow> = conn
            .fetch_all(
                sql(format!(
                    "SELECT {COLUMNS} FROM assets WHERE tenant_id = $1 \
                     AND id IN (SELECT asset_id FROM asset_cis WHERE tenant_id = $1 AND ci_id = $2) \
                     ORDER BY tag, id LIMIT 500"
                ))
                .bind(tenant_id)
                .bind(ci_id),
            )
            .await?;
        let out = complete_all(&mut conn, rows).await?;
        conn.commit().await?;
        Ok(out)
    }

    /// Who hears of an asset's expiry: its owner if active, else the tenant's active managers.
    async fn reminder_recipients(
        &self,
        tenant_id: i64,
        owner_id: Option<i64>,
    ) -> StoreResult<Vec<(String, String)>> {
        if let Some(owner) = owner_id {
            let found: Option<(String, String)> = self
                .db
                .fetch_optional(
                    sql("SELECT name, email FROM users WHERE tenant_id = $1 AND id = $2 AND active = $3")
                        .bind(tenant_id)
                        .bind(owner)
                        .bind(true),
                )
                .await?;
            if let Some(found) = found {
                return Ok(vec![found]);
            }
        }
        self.db
            .fetch_all(
                sql("SELECT name, email FROM users WHERE tenant_id = $1 AND role = 'manager' AND active = $2 ORDER BY id")
                    .bind(tenant_id)
                    .bind(true),
            )
            .await
    }

    /// Sends the warranty and licence reminders due on `today` with a lead time of
    /// `lead_days`: one per asset, term and end date, ever. The reminder is claimed in
    /// `asset_reminders` in the same transaction as its mail, so a second run (on this node or
    /// another) finds it taken and sends nothing. `render` words the mail (subject, body) for
    /// one recipient. Returns the reminders this call sent.
    pub async fn send_asset_reminders(
        &self,
        tenant_id: i64,
        today: Date,
        lead_days: i64,
        render: impl Fn(&Reminder, &str) -> (String, String),
    ) -> StoreResult<Vec<Reminder>> {
        let mut sent = Vec::new();
        for asset in self.expiring_assets(tenant_id, today, lead_days).await? {
            for (term, ends_on) in asset.terms() {
                if !reminder_due(today, ends_on, lead_days) {
                    continue;
                }
                let recipients = self.reminder_recipients(tenant_id, asset.owner_id).await?;
                let mut tx = self.db.begin().await?;
                let claimed: Option<(i64,)> = tx
                    .fetch_optional(
                        sql("INSERT INTO asset_reminders (tenant_id, asset_id, term, ends_on, recipients, sent_at) \
                             VALUES ($1, $2, $3, $4, $5, $6) \
                             ON CONFLICT (tenant_id, asset_id, term, ends_on) DO NOTHING RETURNING id")
                            .bind(tenant_id)
                            .bind(asset.id)
                            .bind(term.as_str())
                            .bind(date_text(Some(ends_on)))
                            .bind(i64::try_from(recipients.len()).unwrap_or(i64::MAX))
                            .bind(now_micros()),
                    )
                    .await?;
                let Some((reminder_id,)) = claimed else {
                    continue;
                };
                let reminder = Reminder {
                    days_left: steward_domain::asset::days_until(today, ends_on),
                    asset: asset.clone(),
                    term,
                    ends_on,
                    recipients,
                };
                for (n, (name, email)) in reminder.recipients.iter().enumerate() {
                    let (subject, body) = render(&reminder, name);
                    let mail = OutMail {
                        record_type: "asset".into(),
                        record_id: asset.id,
                        to_address: email.clone(),
                        subject,
                        body,
                        message_id: format!(
                            "asset-reminder.{tenant_id}.{reminder_id}.{n}.{}@steward",
                            term.as_str()
                        ),
                        in_reply_to: None,
                        references: None,
                    };
                    queue_mail_in(&mut tx, tenant_id, &mail).await?;
                }
                tx.commit().await?;
                sent.push(reminder);
            }
        }
        Ok(sent)
    }
}
