//! Incident categories: an admin-defined tree per tenant ("Hardware › Laptops").
//!
//! The rules here are pure: a name is unique among its siblings (checked by the store's
//! index), a category never becomes its own ancestor, and a path is built from the root down.

use crate::validation::{Invalid, required_text};
use std::collections::{HashMap, HashSet};

/// What separates the levels of a category path.
pub const SEPARATOR: &str = " › ";

/// A category as the tree rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
}

/// A category name, validated and trimmed.
pub fn validate_name(name: &str) -> Result<String, Invalid> {
    let mut errors = Invalid::new();
    let name = required_text(&mut errors, "name", "Name", name, 100);
    if name.contains('›') {
        errors.add("name", "Name cannot contain ›");
    }
    errors.into_result(name)
}

/// Whether giving `id` the parent `new_parent` would make it its own ancestor. A parent that
/// is not in `nodes` ends the walk (the store checks existence separately); a cycle already
/// present in `nodes` counts as one.
pub fn creates_cycle(nodes: &[Node], id: i64, new_parent: Option<i64>) -> bool {
    let parents: HashMap<i64, Option<i64>> = nodes.iter().map(|n| (n.id, n.parent_id)).collect();
    let mut seen = HashSet::new();
    let mut at = new_parent;
    while let Some(current) = at {
        if current == id || !seen.insert(current) {
            return true;
        }
        at = parents.get(&current).copied().flatten();
    }
    false
}

/// The path of `id` from its root, e.g. `Hardware › Laptops`; `None` if it is unknown.
pub fn path(nodes: &[Node], id: i64) -> Option<String> {
    let by_id: HashMap<i64, &Node> = nodes.iter().map(|n| (n.id, n)).collect();
    let mut names = Vec::new();
    let mut seen = HashSet::new();
    let mut at = Some(id);
    while let Some(current) = at {
        if !seen.insert(current) {
            break;
        }
        let node = by_id.get(&current)?;
        names.push(node.name.as_str());
        at = node.parent_id;
    }
    names.reverse();
    Some(names.join(SEPARATOR))
}

/// The nodes in tree order (each parent before its children, siblings by name), with depth.
/// Nodes whose parent is missing are shown as roots.
pub fn tree_order(nodes: &[Node]) -> Vec<(&Node, usize)> {
    let ids: HashSet<i64> = nodes.iter().map(|n| n.id).collect();
    let mut children: HashMap<Option<i64>, Vec<&Node>> = HashMap::new();
    for n in nodes {
        let parent = n.parent_id.filter(|p| ids.contains(p) && *p != n.id);
        children.entry(parent).or_default().push(n);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.id.cmp(&b.id))
        });
    }
    let mut out = Vec::with_capacity(nodes.len());
    let mut seen = HashSet::new();
    let mut stack: Vec<(&Node, usize)> = children
        .get(&None)
        .map(|l| l.iter().rev().map(|n| (*n, 0)).collect())
        .unwrap_or_default();
    while let Some((node, depth)) = stack.pop() {
        if !seen.insert(node.id) {
            continue;
        }
        out.push((node, depth));
        if let Some(kids) = children.get(&Some(node.id)) {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
    }
    out
}

/// `id` and every category below it.
pub fn descendants(nodes: &[Node], id: i64) -> Vec<i64> {
    let mut out = vec![id];
    let mut i = 0;
    while i < out.len() {
        let at = out[i];
        for n in nodes {
            if n.parent_id == Some(at) && !out.contains(&n.id) {
                out.push(n.id);
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn node(id: i64, parent_id: Option<i64>, name: &str) -> Node {
        Node {
            id,
            parent_id,
            name: name.into(),
        }
    }

    fn sample() -> Vec<Node> {
        vec![
            node(1, None, "Hardware"),
            node(2, Some(1), "Laptops"),
            node(3, Some(2), "Batteries"),
            node(4, None, "Access"),
        ]
    }

    #[test]
    fn paths_run_from_the_root() {
        assert_eq!(
            path(&sample(), 3).as_deref(),
            Some("Hardware › Laptops › Batteries")
        );
        assert_eq!(path(&sample(), 4).as_deref(), Some("Access"));
        assert_eq!(path(&sample(), 9), None);
    }

    #[test]
    fn cycles_are_found() {
        assert!(creates_cycle(&sample(), 1, Some(3)));
        assert!(creates_cycle(&sample(), 2, Some(2)));
        assert!(!creates_cycle(&sample(), 3, Some(4)));
        assert!(!creates_cycle(&sample(), 1, None));
    }

    #[test]
    fn tree_order_puts_parents_first() {
        let nodes = sample();
        let order: Vec<(i64, usize)> = tree_order(&nodes).iter().map(|(n, d)| (n.id, *d)).collect();
        assert_eq!(order, vec![(4, 0), (1, 0), (2, 1), (3, 2)]);
        assert_eq!(descendants(&nodes, 1), vec![1, 2, 3]);
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(validate_name("  Laptops ").as_deref(), Ok("Laptops"));
        assert!(validate_name(" ").is_err());
        assert!(validate_name("a › b").is_err());
    }

    proptest! {
        /// Any sequence of accepted moves keeps the tree acyclic: every node reaches a root.
        #[test]
        fn accepted_moves_never_make_a_cycle(moves in prop::collection::vec((0i64..8, prop::option::of(0i64..8)), 0..40)) {
            let mut nodes: Vec<Node> = (0..8).map(|i| node(i, None, &format!("n{i}"))).collect();
            for (id, parent) in moves {
                if !creates_cycle(&nodes, id, parent) {
                    nodes[id as usize].parent_id = parent;
                }
            }
            for n in &nodes {
                let mut seen = HashSet::new();
                let mut at = Some(n.id);
                while let Some(c) = at {
                    prop_assert!(seen.insert(c), "cycle through {}", c);
                    at = nodes[c as usize].parent_id;
                }
            }
            prop_assert_eq!(tree_order(&nodes).len(), nodes.len());
        }
    }
}
