//! The category and custom-field filters of the incident, problem and request lists: read
//! from the query string (`category_id`, `custom.<name>`, as the API takes them), shown as a
//! compact filter form with removable chips, and carried in every link a list makes (sort,
//! next page, saved views).

use super::{Opt, UiError};
use crate::AppState;
use steward_domain::FieldError;
use steward_domain::request::FieldKind;
use steward_store::{Page, StoreError};

/// The filters a list request carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilters {
    /// This category or any of its subcategories.
    pub category_id: Option<i64>,
    /// (field name, value) pairs; empty values are left out.
    pub custom: Vec<(String, String)>,
}

impl ListFilters {
    /// Reads the filters from a raw query string; a `category_id` that is not a number is
    /// ignored (the select only ever sends ids or nothing).
    pub fn parse(query: &str) -> ListFilters {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
        ListFilters {
            category_id: pairs
                .iter()
                .find(|(k, _)| k == "category_id")
                .and_then(|(_, v)| v.trim().parse().ok()),
            custom: crate::api::custom_filters(query),
        }
    }

    /// The filters as query pairs, in a stable order, for links.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.category_id
            .map(|id| ("category_id".to_owned(), id.to_string()))
            .into_iter()
            .chain(
                self.custom
                    .iter()
                    .map(|(k, v)| (format!("custom.{k}"), v.clone())),
            )
            .collect()
    }
}

/// `path?query` from pairs, leaving out empty values.
pub fn href(path: &str, pairs: &[(String, String)]) -> String {
    let kept: Vec<&(String, String)> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
    if kept.is_empty() {
        return path.to_owned();
    }
    format!(
        "{path}?{}",
        serde_urlencoded::to_string(kept).unwrap_or_default()
    )
}

/// The field errors of a refused filter (an unknown custom field, or a value the field could
/// never hold); `None` for any other failure, which the caller handles as before.
pub fn refused_filter(e: &StoreError) -> Option<Vec<FieldError>> {
    match e {
        StoreError::Invalid(i) if i.errors.iter().any(|e| e.field.starts_with("custom.")) => {
            Some(i.errors.clone())
        }
        _ => None,
    }
}

/// A list's outcome with a refused filter turned into an empty page and the errors to show;
/// any other failure stays a failure.
pub fn or_refused<T>(
    found: Result<Page<T>, StoreError>,
) -> Result<(Page<T>, Option<Vec<FieldError>>), StoreError> {
    match found {
        Ok(page) => Ok((page, None)),
        Err(e) => match refused_filter(&e) {
            Some(errors) => Ok((
                Page {
                    items: Vec::new(),
                    next_cursor: None,
                },
                Some(errors),
            )),
            None => Err(e),
        },
    }
}

/// One custom-field input of the filter form.
pub struct FilterInput {
    /// `custom.<name>`.
    pub name: String,
    /// The element id, `filter-<name>`.
    pub id: String,
    pub label: String,
    /// `text`, `number`, `date`, `select` or `user`.
    pub kind: &'static str,
    /// (value, label) of a select; empty for a typed input.
    pub choices: Vec<(String, String)>,
    pub value: String,
}

/// An active filter, with the link that drops it.
pub struct FilterChip {
    pub label: String,
    pub remove: String,
}

/// What the list templates show (`macros_list.html`).
pub struct FilterBar {
    pub action: &'static str,
    /// The list's other parameters (queue, search, sort), kept when filtering.
    pub keep: Vec<(String, String)>,
    pub categories: Vec<Opt>,
    pub fields: Vec<FilterInput>,
    pub chips: Vec<FilterChip>,
    /// The list with its other parameters but no filters.
    pub clear: String,
    /// Why the filters were refused, if they were.
    pub errors: Vec<String>,
}

impl FilterBar {
    /// Builds the filter form of the list at `action` over records of `kind` (`incident`,
    /// `problem` or `request`). `keep` are the list's other parameters; `users` names users for
    /// `user` fields (empty when the viewer may not list users: they type an id instead).
    pub async fn load(
        state: &AppState,
        tenant_id: i64,
        kind: &str,
        action: &'static str,
        keep: &[(&str, &str)],
        filters: &ListFilters,
        users: &[(i64, String)],
    ) -> Result<FilterBar, UiError> {
        let keep: Vec<(String, String)> = keep
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let tree = state.store.category_tree(tenant_id).await?;
        let selected = filters.category_id.map(|id| id.to_string());
        let categories = std::iter::once(Opt {
            value: String::new(),
            label: "— any —".to_owned(),
            selected: selected.is_none(),
        })
        .chain(tree.iter().map(|c| {
            let value = c.category.id.to_string();
            Opt {
                selected: selected.as_deref() == Some(value.as_str()),
                label: if c.category.retired {
                    format!("{} (retired)", c.path)
                } else {
                    c.path.clone()
                },
                value,
            }
        }))
        .collect();
        let defs = state.store.custom_fields(tenant_id, kind).await?;
        let value_of = |name: &str| {
            filters
                .custom
                .iter()
                .find(|(k, _)| k == name)
                .map_or_else(String::new, |(_, v)| v.clone())
        };
        let fields = defs
            .iter()
            .map(|f| {
                let choices = match f.kind {
                    FieldKind::Select => f.options.iter().map(|o| (o.clone(), o.clone())).collect(),
                    FieldKind::User => users
                        .iter()
                        .map(|(id, name)| (id.to_string(), name.clone()))
                        .collect(),
                    _ => Vec::new(),
                };
                FilterInput {
                    name: format!("custom.{}", f.name),
                    id: format!("filter-{}", f.name),
                    label: f.label.clone(),
                    kind: f.kind.as_str(),
                    choices,
                    value: value_of(&f.name),
                }
            })
            .collect();

        // Each chip links to the list with every other filter.
        let all = filters.pairs();
        let without = |skip: usize| {
            let mut pairs = keep.clone();
            pairs.extend(
                all.iter()
                    .enumerate()
                    .filter(|(i, _)| *i != skip)
                    .map(|(_, p)| p.clone()),
            );
            href(action, &pairs)
        };
        let mut chips = Vec::new();
        let mut at = 0;
        if let Some(id) = filters.category_id {
            let path = tree
                .iter()
                .find(|c| c.category.id == id)
                .map_or_else(|| format!("#{id}"), |c| c.path.clone());
            chips.push(FilterChip {
                label: format!("Category: {path}"),
                remove: without(at),
            });
            at += 1;
        }
        for (name, value) in &filters.custom {
            let def = defs.iter().find(|f| &f.name == name);
            let shown = match def {
                Some(f) if f.kind == FieldKind::User => value
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .and_then(|id| users.iter().find(|(u, _)| *u == id))
                    .map_or_else(|| value.clone(), |(_, n)| n.clone()),
                _ => value.clone(),
            };
            let label = def.map_or(name.as_str(), |f| f.label.as_str());
            chips.push(FilterChip {
                label: format!("{label}: {shown}"),
                remove: without(at),
            });
            at += 1;
        }
        Ok(FilterBar {
            action,
            clear: href(action, &keep),
            keep,
            categories,
            fields,
            chips,
            errors: Vec::new(),
        })
    }

    /// Shows why the filters were refused, if they were.
    pub fn refused(mut self, errors: Option<Vec<FieldError>>) -> FilterBar {
        self.errors = errors
            .unwrap_or_default()
            .into_iter()
            .map(|e| match e.field.strip_prefix("custom.") {
                Some(_) => e.message,
                None => format!("{}: {}", e.field, e.message),
            })
            .collect();
        self
    }

    /// How many filters are on.
    pub fn active(&self) -> usize {
        self.chips.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_round_trip_through_the_query() {
        let f = ListFilters::parse(
            "queue=open&category_id=7&custom.site=Bad+Homburg&custom.floor=&q=x",
        );
        assert_eq!(f.category_id, Some(7));
        assert_eq!(
            f.custom,
            vec![("site".to_owned(), "Bad Homburg".to_owned())]
        );
        assert_eq!(
            href("/incidents", &f.pairs()),
            "/incidents?category_id=7&custom.site=Bad+Homburg"
        );
        assert_eq!(
            ListFilters::parse("category_id=&custom.site="),
            ListFilters::default()
        );
        assert_eq!(ListFilters::parse("category_id=abc").category_id, None);
    }
}
