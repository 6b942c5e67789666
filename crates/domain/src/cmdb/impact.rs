//! Impact analysis over the CMDB's dependency graph, in memory, at a million CIs.
//!
//! # Shape
//!
//! Every relationship is first reduced to the "dependent → dependency" arcs its type stands for
//! ([`Dependency::arcs`]); a `connects_to` gives two arcs, a documentation-only type none. The
//! graph keeps those arcs twice, once per direction, in compressed sparse row (CSR) form: CI ids
//! are mapped to dense `u32` indices, and each direction is one offsets array plus one flat
//! array of neighbours and one of relationship ids. At 1,000,000 CIs and 5,000,000 arcs that is
//! about 140 MB, with no per-node allocation, and a traversal reads each row as one run of
//! memory. The visited set is a bit set (125 KB for a million CIs), which stays in cache.
//!
//! # Keeping it consistent without rebuilding
//!
//! A CSR cannot grow a row in place, so changes since the last build live beside it:
//! - **removals** overwrite the arc's neighbour with a tombstone, in place (the row is scanned
//!   to find it; rows are short except at hubs, where a scan is still microseconds);
//! - **additions** go to a small overlay of per-node rows, flagged in a bit set so that a
//!   traversal pays a hash lookup only at nodes that actually have added arcs;
//! - **removed CIs** lose all their arcs (tombstoned as above) and are flagged absent.
//!
//! Answers are identical before and after [`ImpactGraph::compact`], which folds the overlay and
//! tombstones into a fresh CSR; [`ImpactGraph::needs_compaction`] says when the overlay has
//! grown enough for that to pay. This keeps every update O(row length) and every query at CSR
//! speed, where a fully dynamic adjacency list would cost an allocation per CI and scatter rows
//! across the heap.
//!
//! # Answers
//!
//! A traversal is a breadth-first search, so each CI is reached once (cycles end at the visited
//! set) and at its shortest depth. Results come by depth, then CI id. Each reached CI remembers
//! only its parent and the relationship it was reached by; [`Impact::path`] walks those back on
//! demand, so a million-CI answer does not cost a million paths unless they are asked for. The
//! parent is the lowest-id CI one level closer to the start that leads to it.

use crate::cmdb::relationship::Dependency;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

/// Which way to follow dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Everything that transitively depends on the CI: what breaks if it breaks.
    Downstream,
    /// Everything the CI transitively depends on: what it needs to work.
    Upstream,
}

crate::service::text_enum!(Direction { Downstream => "downstream", Upstream => "upstream" });

impl Direction {
    fn side(self) -> usize {
        match self {
            Direction::Downstream => DEPENDENTS,
            Direction::Upstream => DEPENDENCIES,
        }
    }
}

/// A relationship as the graph needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Edge {
    pub relationship_id: i64,
    pub source_id: i64,
    pub target_id: i64,
    /// From the relationship's type.
    pub dependency: Dependency,
}

/// One CI an impact analysis reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImpactHit {
    pub ci_id: i64,
    /// Relationships between the start and this CI on the shortest path (1 = direct).
    pub depth: u32,
    /// The CI one step closer to the start.
    pub parent_id: i64,
    /// The relationship from the parent to this CI.
    pub relationship_id: i64,
}

/// How a CI is reached: `ci_ids[0]` is the start, `relationship_ids[i]` joins `ci_ids[i]` and
/// `ci_ids[i + 1]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImpactPath {
    pub ci_ids: Vec<i64>,
    pub relationship_ids: Vec<i64>,
}

/// Row sets of the two directions: `[DEPENDENTS][a]` lists who depends on `a`,
/// `[DEPENDENCIES][x]` what `x` depends on.
const DEPENDENTS: usize = 0;
const DEPENDENCIES: usize = 1;

/// A removed arc's neighbour. Never a real index: indices stay below `u32::MAX`.
const TOMBSTONE: u32 = u32::MAX;

/// A dependent → dependency arc between dense indices.
#[derive(Debug, Clone, Copy)]
struct Arc {
    dependent: u32,
    dependency: u32,
    relationship: i64,
}

/// A cheap hasher for database ids. They are ours, not an attacker's, so SipHash's protection
/// against crafted keys buys nothing here and costs a third of the build time.
#[derive(Debug, Default, Clone, Copy)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        let h = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 32);
    }
    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type IdMap<V> = HashMap<i64, V, BuildHasherDefault<IdHasher>>;
type NodeMap<V> = HashMap<u32, V, BuildHasherDefault<IdHasher>>;

/// A fixed-size set of dense indices.
#[derive(Debug, Clone, Default)]
struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    fn with_len(len: usize) -> Self {
        BitSet {
            words: vec![0; len.div_ceil(64)],
        }
    }

    fn grow_to(&mut self, len: usize) {
        let words = len.div_ceil(64);
        if words > self.words.len() {
            self.words.resize(words, 0);
        }
    }

    fn contains(&self, i: u32) -> bool {
        let i = i as usize;
        self.words
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Adds `i`; false if it was already there. `i` must be below the set's length.
    fn insert(&mut self, i: u32) -> bool {
        let i = i as usize;
        let word = &mut self.words[i / 64];
        let bit = 1 << (i % 64);
        let fresh = *word & bit == 0;
        *word |= bit;
        fresh
    }

    fn remove(&mut self, i: u32) {
        let i = i as usize;
        if let Some(word) = self.words.get_mut(i / 64) {
            *word &= !(1 << (i % 64));
        }
    }

    /// Writes the members in ascending order into `out` and empties the set.
    fn drain_ascending(&mut self, out: &mut [u32]) {
        let mut at = 0;
        for (w, word) in self.words.iter_mut().enumerate() {
            while *word != 0 {
                let bit = word.trailing_zeros() as usize;
                *word &= *word - 1;
                out[at] = (w * 64 + bit) as u32;
                at += 1;
            }
        }
    }
}

/// One direction of the graph as it was at the last build.
#[derive(Debug, Clone, Default)]
struct Csr {
    /// Row `n` is `offsets[n]..offsets[n + 1]`; nodes added since the build have no row.
    offsets: Vec<usize>,
    neighbours: Vec<u32>,
    relationships: Vec<i64>,
}

impl Csr {
    /// Counting sort of the arcs into rows; stable, so a row keeps the arcs' input order.
    fn build(node_count: usize, arcs: &[Arc], row_and_neighbour: fn(&Arc) -> (u32, u32)) -> Csr {
        let mut offsets = vec![0usize; node_count + 1];
        for arc in arcs {
            offsets[row_and_neighbour(arc).0 as usize + 1] += 1;
        }
        for n in 0..node_count {
            offsets[n + 1] += offsets[n];
        }
        let mut cursor = offsets[..node_count].to_vec();
        let mut neighbours = vec![0u32; arcs.len()];
        let mut relationships = vec![0i64; arcs.len()];
        for arc in arcs {
            let (row, neighbour) = row_and_neighbour(arc);
            let slot = &mut cursor[row as usize];
            neighbours[*slot] = neighbour;
            relationships[*slot] = arc.relationship;
            *slot += 1;
        }
        Csr {
            offsets,
            neighbours,
            relationships,
        }
    }

    fn row(&self, node: u32) -> Range<usize> {
        let n = node as usize;
        match (self.offsets.get(n), self.offsets.get(n + 1)) {
            (Some(start), Some(end)) => *start..*end,
            _ => 0..0,
        }
    }

    /// Tombstones the live arcs of `node`'s row that `remove` picks; returns how many.
    fn tombstone_where(&mut self, node: u32, mut remove: impl FnMut(u32, i64) -> bool) -> usize {
        let mut removed = 0;
        for k in self.row(node) {
            let neighbour = self.neighbours[k];
            if neighbour != TOMBSTONE && remove(neighbour, self.relationships[k]) {
                self.neighbours[k] = TOMBSTONE;
                removed += 1;
            }
        }
        removed
    }
}

/// Arcs added since the last build, per node.
#[derive(Debug, Clone, Default)]
struct Overlay {
    rows: NodeMap<Vec<(u32, i64)>>,
    /// The nodes that have a row, so traversals skip the hash lookup everywhere else.
    marked: BitSet,
    arcs: usize,
}

impl Overlay {
    fn push(&mut self, node: u32, neighbour: u32, relationship: i64) {
        self.rows
            .entry(node)
            .or_default()
            .push((neighbour, relationship));
        self.marked.grow_to(node as usize + 1);
        self.marked.insert(node);
        self.arcs += 1;
    }

    fn row(&self, node: u32) -> &[(u32, i64)] {
        if !self.marked.contains(node) {
            return &[];
        }
        self.rows.get(&node).map_or(&[], Vec::as_slice)
    }

    /// Drops the arcs of `node`'s row that `remove` picks; returns how many.
    fn remove_where(&mut self, node: u32, mut remove: impl FnMut(u32, i64) -> bool) -> usize {
        let Some(row) = self.rows.get_mut(&node) else {
            return 0;
        };
        let before = row.len();
        row.retain(|(neighbour, rel)| !remove(*neighbour, *rel));
        let removed = before - row.len();
        if row.is_empty() {
            self.rows.remove(&node);
            self.marked.remove(node);
        }
        self.arcs -= removed;
        removed
    }
}

/// Collects CIs and relationships, then builds an [`ImpactGraph`] in one pass.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    ids: Vec<i64>,
    index: IdMap<u32>,
    arcs: Vec<Arc>,
}

impl GraphBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sizes the builder for `cis` CIs and `arcs` dependency arcs, to avoid regrowing.
    pub fn with_capacity(cis: usize, arcs: usize) -> Self {
        GraphBuilder {
            ids: Vec::with_capacity(cis),
            index: IdMap::with_capacity_and_hasher(cis, Default::default()),
            arcs: Vec::with_capacity(arcs),
        }
    }

    /// Adds a CI; CIs named by a relationship are added anyway, so this is for CIs without any.
    pub fn add_ci(&mut self, id: i64) {
        self.dense(id);
    }

    /// Adds a relationship and its two CIs (even when its type carries no dependency, so that
    /// the graph knows every related CI).
    pub fn add_relationship(&mut self, edge: &Edge) {
        let source = self.dense(edge.source_id);
        let target = self.dense(edge.target_id);
        for (dependent, dependency) in edge.dependency.arcs(source, target) {
            self.arcs.push(Arc {
                dependent,
                dependency,
                relationship: edge.relationship_id,
            });
        }
    }

    fn add_arc(&mut self, dependent: i64, dependency: i64, relationship: i64) {
        let arc = Arc {
            dependent: self.dense(dependent),
            dependency: self.dense(dependency),
            relationship,
        };
        self.arcs.push(arc);
    }

    fn dense(&mut self, id: i64) -> u32 {
        let next = self.ids.len() as u32;
        *self.index.entry(id).or_insert_with(|| {
            self.ids.push(id);
            next
        })
    }

    pub fn build(mut self) -> ImpactGraph {
        self.number_in_id_order();
        let n = self.ids.len();
        let dependents = Csr::build(n, &self.arcs, |a| (a.dependency, a.dependent));
        let dependencies = Csr::build(n, &self.arcs, |a| (a.dependent, a.dependency));
        ImpactGraph {
            absent: BitSet::with_len(n),
            absent_count: 0,
            ids: self.ids,
            index: self.index,
            ids_sorted: true,
            base: [dependents, dependencies],
            extra: [Overlay::default(), Overlay::default()],
            tombstones: 0,
        }
    }

    /// Renumbers so that dense order is id order, which lets traversals order a level by
    /// index (a bit-set scan) instead of sorting by id.
    fn number_in_id_order(&mut self) {
        if self.ids.is_sorted() {
            return;
        }
        let mut order: Vec<u32> = (0..self.ids.len() as u32).collect();
        order.sort_unstable_by_key(|&v| self.ids[v as usize]);
        let mut rank = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            rank[old as usize] = new as u32;
        }
        for arc in &mut self.arcs {
            arc.dependent = rank[arc.dependent as usize];
            arc.dependency = rank[arc.dependency as usize];
        }
        self.ids.sort_unstable();
        for (new, id) in self.ids.iter().enumerate() {
            self.index.insert(*id, new as u32);
        }
    }
}

/// The CMDB's dependency graph, for impact analysis. See the module documentation.
#[derive(Debug, Clone)]
pub struct ImpactGraph {
    /// Dense index → CI id.
    ids: Vec<i64>,
    index: IdMap<u32>,
    /// Whether dense order is still id order (a CI added since the build may break it).
    ids_sorted: bool,
    /// CIs removed since the build.
    absent: BitSet,
    absent_count: usize,
    /// Indexed by `DEPENDENTS` / `DEPENDENCIES`.
    base: [Csr; 2],
    extra: [Overlay; 2],
    tombstones: usize,
}

impl Default for ImpactGraph {
    fn default() -> Self {
        GraphBuilder::new().build()
    }
}

impl ImpactGraph {
    /// Builds the graph from all CIs (including those without relationships) and relationships.
    pub fn build(
        cis: impl IntoIterator<Item = i64>,
        edges: impl IntoIterator<Item = Edge>,
    ) -> Self {
        let mut builder = GraphBuilder::new();
        for id in cis {
            builder.add_ci(id);
        }
        for edge in edges {
            builder.add_relationship(&edge);
        }
        builder.build()
    }

    /// How many CIs the graph holds.
    pub fn ci_count(&self) -> usize {
        self.ids.len() - self.absent_count
    }

    /// How many dependent → dependency arcs the graph holds (a `connects_to` counts twice).
    pub fn arc_count(&self) -> usize {
        self.base[DEPENDENCIES].neighbours.len() - self.tombstones / 2
            + self.extra[DEPENDENCIES].arcs
    }

    /// Roughly how much memory the graph holds, for capacity planning and metrics.
    pub fn approx_heap_bytes(&self) -> usize {
        let csr: usize = self
            .base
            .iter()
            .map(|c| {
                c.offsets.capacity() * 8
                    + c.neighbours.capacity() * 4
                    + c.relationships.capacity() * 8
            })
            .sum();
        let overlay: usize = self
            .extra
            .iter()
            .map(|o| o.arcs * 12 + o.rows.capacity() * 40)
            .sum();
        // The id map: key, value and a control byte per slot, at most 7/8 full.
        let index = self.index.capacity() * 13 * 8 / 7;
        csr + overlay + index + self.ids.capacity() * 8
    }

    pub fn contains_ci(&self, id: i64) -> bool {
        self.live(id).is_some()
    }

    fn live(&self, id: i64) -> Option<u32> {
        self.index
            .get(&id)
            .copied()
            .filter(|v| !self.absent.contains(*v))
    }

    /// Adds a CI (no-op if present).
    pub fn add_ci(&mut self, id: i64) {
        self.dense(id);
    }

    fn dense(&mut self, id: i64) -> u32 {
        if let Some(&v) = self.index.get(&id) {
            if self.absent.contains(v) {
                self.absent.remove(v);
                self.absent_count -= 1;
            }
            return v;
        }
        let v = self.ids.len() as u32;
        if self.ids.last().is_some_and(|last| *last > id) {
            self.ids_sorted = false;
        }
        self.ids.push(id);
        self.index.insert(id, v);
        self.absent.grow_to(self.ids.len());
        v
    }

    /// Removes a CI and every relationship touching it; false if it was not there.
    pub fn remove_ci(&mut self, id: i64) -> bool {
        let Some(v) = self.live(id) else {
            return false;
        };
        for side in [DEPENDENTS, DEPENDENCIES] {
            let other = 1 - side;
            let arcs: Vec<(u32, i64)> = self.arcs_of(side, v).collect();
            for (neighbour, rel) in arcs {
                self.tombstones +=
                    self.base[other].tombstone_where(neighbour, |n, r| n == v && r == rel);
                self.extra[other].remove_where(neighbour, |n, r| n == v && r == rel);
            }
            self.tombstones += self.base[side].tombstone_where(v, |_, _| true);
            self.extra[side].remove_where(v, |_, _| true);
        }
        self.absent.insert(v);
        self.absent_count += 1;
        true
    }

    /// Adds a relationship; its CIs are added if missing. To change a relationship's ends or
    /// type, remove it and add it again.
    pub fn add_relationship(&mut self, edge: &Edge) {
        let source = self.dense(edge.source_id);
        let target = self.dense(edge.target_id);
        for (dependent, dependency) in edge.dependency.arcs(source, target) {
            self.extra[DEPENDENTS].push(dependency, dependent, edge.relationship_id);
            self.extra[DEPENDENCIES].push(dependent, dependency, edge.relationship_id);
        }
    }

    /// Removes the arcs of relationship `relationship_id` between its two CIs, whatever its
    /// type says; false if there were none (unknown, or a documentation-only type).
    pub fn remove_relationship(
        &mut self,
        relationship_id: i64,
        source_id: i64,
        target_id: i64,
    ) -> bool {
        let ends: Vec<u32> = [source_id, target_id]
            .into_iter()
            .filter_map(|id| self.index.get(&id).copied())
            .collect();
        let mut removed = 0;
        for &end in &ends {
            for side in [DEPENDENTS, DEPENDENCIES] {
                let tombstoned = self.base[side]
                    .tombstone_where(end, |n, r| r == relationship_id && ends.contains(&n));
                self.tombstones += tombstoned;
                removed += tombstoned
                    + self.extra[side]
                        .remove_where(end, |n, r| r == relationship_id && ends.contains(&n));
            }
        }
        removed > 0
    }

    /// Changes since the last build, kept beside the CSR.
    pub fn pending_changes(&self) -> usize {
        self.tombstones + self.extra[DEPENDENCIES].arcs + self.absent_count
    }

    /// Whether [`compact`](Self::compact) would now pay: the overlay holds more than an eighth
    /// as much as the CSR (or more than 100,000 changes on a small graph).
    pub fn needs_compaction(&self) -> bool {
        let base = self.base[DEPENDENCIES].neighbours.len() + self.ids.len();
        self.pending_changes() > (base / 8).max(100_000)
    }

    /// Folds all changes into a fresh CSR. Answers do not change.
    pub fn compact(&mut self) {
        let mut builder = GraphBuilder::with_capacity(self.ci_count(), self.arc_count());
        for (v, id) in self.ids.iter().enumerate() {
            if !self.absent.contains(v as u32) {
                builder.add_ci(*id);
            }
        }
        for v in 0..self.ids.len() as u32 {
            for (dependency, rel) in self.arcs_of(DEPENDENCIES, v) {
                builder.add_arc(self.ids[v as usize], self.ids[dependency as usize], rel);
            }
        }
        *self = builder.build();
    }

    /// The live arcs of `node` on one side, base then overlay.
    fn arcs_of(&self, side: usize, node: u32) -> impl Iterator<Item = (u32, i64)> + '_ {
        let base = &self.base[side];
        base.row(node)
            .map(|k| (base.neighbours[k], base.relationships[k]))
            .filter(|(n, _)| *n != TOMBSTONE)
            .chain(self.extra[side].row(node).iter().copied())
    }

    /// Everything that transitively depends on `ci_id`, up to `max_depth` relationships away
    /// (unlimited if `None`). `None` if the CI is not in the graph.
    pub fn downstream(&self, ci_id: i64, max_depth: Option<u32>) -> Option<Impact<'_>> {
        self.impact(ci_id, Direction::Downstream, max_depth)
    }

    /// Everything `ci_id` transitively depends on.
    pub fn upstream(&self, ci_id: i64, max_depth: Option<u32>) -> Option<Impact<'_>> {
        self.impact(ci_id, Direction::Upstream, max_depth)
    }

    pub fn impact(
        &self,
        ci_id: i64,
        direction: Direction,
        max_depth: Option<u32>,
    ) -> Option<Impact<'_>> {
        let start = self.live(ci_id)?;
        Some(Traversal::run(self, start, direction.side(), max_depth))
    }

    /// Every CI reachable from any of `starts` (themselves included) in one direction, sorted
    /// by id; unknown starts are skipped. For scopes such as "a service's CIs and everything
    /// they run on".
    pub fn reach_all(&self, starts: &[i64], direction: Direction) -> Vec<i64> {
        let side = direction.side();
        let mut seen = BitSet::with_len(self.ids.len());
        let mut stack: Vec<u32> = starts
            .iter()
            .filter_map(|id| self.live(*id))
            .filter(|v| seen.insert(*v))
            .collect();
        let mut reached = stack.clone();
        while let Some(v) = stack.pop() {
            for (n, _) in self.arcs_of(side, v) {
                if seen.insert(n) {
                    stack.push(n);
                    reached.push(n);
                }
            }
        }
        let mut ids: Vec<i64> = reached.iter().map(|v| self.ids[*v as usize]).collect();
        ids.sort_unstable();
        ids
    }
}

/// The answer to one impact analysis. Borrows the graph, so read it under the same lock.
#[derive(Debug)]
pub struct Impact<'g> {
    graph: &'g ImpactGraph,
    start: u32,
    /// Reached dense indices, by depth then id.
    reached: Vec<u32>,
    /// `reached[level_ends[d - 1]..level_ends[d]]` are at depth `d + 1`.
    level_ends: Vec<usize>,
    visited: BitSet,
    parents: Parents,
    cut_off: bool,
}

impl<'g> Impact<'g> {
    pub fn start_id(&self) -> i64 {
        self.graph.ids[self.start as usize]
    }

    /// How many CIs were reached (the start is not counted).
    pub fn len(&self) -> usize {
        self.reached.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reached.is_empty()
    }

    /// Whether the depth limit hid CIs further away.
    pub fn cut_off(&self) -> bool {
        self.cut_off
    }

    /// The deepest level reached (0 if nothing was).
    pub fn max_depth(&self) -> u32 {
        self.level_ends.len() as u32
    }

    /// The reached CIs, by depth then id.
    pub fn hits(&self) -> impl Iterator<Item = ImpactHit> + '_ {
        let starts = std::iter::once(0).chain(self.level_ends.iter().copied());
        starts
            .zip(self.level_ends.iter().copied())
            .enumerate()
            .flat_map(move |(level, (from, to))| {
                self.reached[from..to]
                    .iter()
                    .map(move |&v| self.hit(v, level as u32 + 1))
            })
    }

    fn hit(&self, v: u32, depth: u32) -> ImpactHit {
        let ids = &self.graph.ids;
        let (parent, via) = self.parents.get(v);
        ImpactHit {
            ci_id: ids[v as usize],
            depth,
            parent_id: ids[parent as usize],
            relationship_id: via,
        }
    }

    /// The reached CI ids, by depth then id.
    pub fn ci_ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.reached.iter().map(|v| self.graph.ids[*v as usize])
    }

    /// The reached CI ids in ascending order (the start left out), for membership tests by
    /// binary search: a scan of the visited set when dense order is id order, else a sort.
    pub fn ci_ids_sorted(&self) -> Vec<i64> {
        if !self.graph.ids_sorted {
            let mut ids: Vec<i64> = self.ci_ids().collect();
            ids.sort_unstable();
            return ids;
        }
        let mut ids = Vec::with_capacity(self.reached.len());
        for (w, &word) in self.visited.words.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let v = (w * 64 + bits.trailing_zeros() as usize) as u32;
                bits &= bits - 1;
                if v != self.start {
                    ids.push(self.graph.ids[v as usize]);
                }
            }
        }
        ids
    }

    /// How `ci_id` is reached from the start; `None` if it was not reached.
    pub fn path(&self, ci_id: i64) -> Option<ImpactPath> {
        let mut v = *self.graph.index.get(&ci_id)?;
        if v == self.start || !self.visited.contains(v) {
            return None;
        }
        let mut ci_ids = vec![ci_id];
        let mut relationship_ids = Vec::new();
        while v != self.start {
            let (parent, via) = self.parents.get(v);
            relationship_ids.push(via);
            v = parent;
            ci_ids.push(self.graph.ids[v as usize]);
        }
        ci_ids.reverse();
        relationship_ids.reverse();
        Some(ImpactPath {
            ci_ids,
            relationship_ids,
        })
    }
}

/// Each reached CI's parent and the relationship from it. Small answers keep them in a map, so
/// that a query reaching ten CIs of a million does not clear 12 MB; once an answer grows past
/// a thirty-second of the graph, they move to arrays indexed by CI, which are faster to fill.
#[derive(Debug)]
enum Parents {
    Sparse(NodeMap<(u32, i64)>),
    Dense { parent: Vec<u32>, via: Vec<i64> },
}

impl Parents {
    fn set(&mut self, node: u32, parent: u32, via: i64, node_count: usize) {
        match self {
            Parents::Dense { parent: p, via: v } => {
                p[node as usize] = parent;
                v[node as usize] = via;
            }
            Parents::Sparse(map) => {
                map.insert(node, (parent, via));
                if map.len() > node_count / 32 {
                    self.make_dense(node_count);
                }
            }
        }
    }

    fn make_dense(&mut self, node_count: usize) {
        if let Parents::Sparse(map) = self {
            let mut parent = vec![0; node_count];
            let mut via = vec![0; node_count];
            for (node, (p, v)) in map.drain() {
                parent[node as usize] = p;
                via[node as usize] = v;
            }
            *self = Parents::Dense { parent, via };
        }
    }

    /// Valid only for reached CIs.
    fn get(&self, node: u32) -> (u32, i64) {
        match self {
            Parents::Dense { parent, via } => (parent[node as usize], via[node as usize]),
            Parents::Sparse(map) => map.get(&node).copied().unwrap_or((node, 0)),
        }
    }
}

/// Breadth-first search state.
struct Traversal<'g> {
    graph: &'g ImpactGraph,
    side: usize,
    visited: BitSet,
    parents: Parents,
    reached: Vec<u32>,
}

impl<'g> Traversal<'g> {
    fn run(graph: &'g ImpactGraph, start: u32, side: usize, max_depth: Option<u32>) -> Impact<'g> {
        let n = graph.ids.len();
        let mut t = Traversal {
            graph,
            side,
            visited: BitSet::with_len(n),
            parents: Parents::Sparse(NodeMap::default()),
            reached: Vec::new(),
        };
        t.visited.insert(start);
        let mut level_ends = Vec::new();
        let mut scratch = BitSet::default();
        let mut cut_off = false;
        let mut level_start = 0;
        if max_depth == Some(0) {
            cut_off = t.has_unvisited_neighbour(start);
        } else {
            t.expand(start);
        }
        let mut depth = 1;
        while t.reached.len() > level_start {
            let level_end = t.reached.len();
            t.order(level_start..level_end, &mut scratch);
            level_ends.push(level_end);
            if max_depth.is_some_and(|limit| depth >= limit) {
                cut_off = (level_start..level_end).any(|i| t.has_unvisited_neighbour(t.reached[i]));
                break;
            }
            for i in level_start..level_end {
                t.expand(t.reached[i]);
            }
            level_start = level_end;
            depth += 1;
        }
        Impact {
            graph,
            start,
            reached: t.reached,
            level_ends,
            visited: t.visited,
            parents: t.parents,
            cut_off,
        }
    }

    /// Discovers `node`'s unvisited neighbours. The hot loop: a sequential read of the row and
    /// a bit test per arc; the relationship id is read only for new CIs.
    fn expand(&mut self, node: u32) {
        let n = self.graph.ids.len();
        let csr = &self.graph.base[self.side];
        for k in csr.row(node) {
            let neighbour = csr.neighbours[k];
            if neighbour != TOMBSTONE && self.visited.insert(neighbour) {
                self.parents.set(neighbour, node, csr.relationships[k], n);
                self.reached.push(neighbour);
            }
        }
        for &(neighbour, rel) in self.graph.extra[self.side].row(node) {
            if self.visited.insert(neighbour) {
                self.parents.set(neighbour, node, rel, n);
                self.reached.push(neighbour);
            }
        }
    }

    fn has_unvisited_neighbour(&self, node: u32) -> bool {
        self.graph
            .arcs_of(self.side, node)
            .any(|(n, _)| !self.visited.contains(n))
    }

    /// Puts one level in id order. When dense order is id order, a large level is ordered by a
    /// scan of a bit set (linear), a small one by sorting its indices.
    fn order(&mut self, level: Range<usize>, scratch: &mut BitSet) {
        let ids = &self.graph.ids;
        let nodes = &mut self.reached[level];
        if !self.graph.ids_sorted {
            nodes.sort_unstable_by_key(|v| ids[*v as usize]);
        } else if nodes.len() * 16 < ids.len().div_ceil(64) {
            nodes.sort_unstable();
        } else {
            scratch.grow_to(ids.len());
            for &v in nodes.iter() {
                scratch.insert(v);
            }
            scratch.drain_ascending(nodes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet, VecDeque};

    fn edge(relationship_id: i64, source_id: i64, target_id: i64, dependency: Dependency) -> Edge {
        Edge {
            relationship_id,
            source_id,
            target_id,
            dependency,
        }
    }

    fn depends(rel: i64, source: i64, target: i64) -> Edge {
        edge(rel, source, target, Dependency::SourceOnTarget)
    }

    fn hits(impact: Option<Impact<'_>>) -> Vec<(i64, u32)> {
        impact
            .map(|i| i.hits().map(|h| (h.ci_id, h.depth)).collect())
            .unwrap_or_default()
    }

    #[test]
    fn downstream_is_what_depends_on_the_ci() {
        // X (1) depends on A (2); A runs on host 3; rack 4 contains host 3.
        let graph = ImpactGraph::build(
            [9],
            [
                depends(10, 1, 2),
                edge(11, 2, 3, Dependency::SourceOnTarget),
                edge(12, 4, 3, Dependency::TargetOnSource),
            ],
        );
        assert_eq!(hits(graph.downstream(2, None)), [(1, 1)]);
        assert_eq!(hits(graph.downstream(4, None)), [(3, 1), (2, 2), (1, 3)]);
        assert_eq!(hits(graph.upstream(1, None)), [(2, 1), (3, 2), (4, 3)]);
        assert_eq!(hits(graph.downstream(9, None)), []);
        assert!(graph.downstream(77, None).is_none());
        assert_eq!((graph.ci_count(), graph.arc_count()), (5, 3));
    }

    #[test]
    fn paths_lead_back_to_the_start() {
        // Small answers keep their parents in a map, large ones in arrays: try both.
        for bystanders in [0..0, 1000..2000] {
            paths_from_3(ImpactGraph::build(
                bystanders,
                [depends(10, 1, 2), depends(11, 2, 3), depends(12, 5, 3)],
            ));
        }
    }

    fn paths_from_3(graph: ImpactGraph) {
        let impact = graph.downstream(3, None).expect("known CI");
        assert_eq!(
            impact.path(1),
            Some(ImpactPath {
                ci_ids: vec![3, 2, 1],
                relationship_ids: vec![11, 10]
            })
        );
        assert_eq!(impact.path(3), None, "the start is not reached");
        assert_eq!(impact.path(42), None);
        let first = impact.hits().next().expect("a hit");
        assert_eq!(
            first,
            ImpactHit {
                ci_id: 2,
                depth: 1,
                parent_id: 3,
                relationship_id: 11
            }
        );
    }

    #[test]
    fn cycles_and_mutual_links_end() {
        // 1 → 2 → 3 → 1, and 3 connects to 4 (each depends on the other).
        let graph = ImpactGraph::build(
            [],
            [
                depends(10, 1, 2),
                depends(11, 2, 3),
                depends(12, 3, 1),
                edge(13, 3, 4, Dependency::Mutual),
                edge(14, 4, 5, Dependency::Informational),
            ],
        );
        assert_eq!(hits(graph.downstream(1, None)), [(3, 1), (2, 2), (4, 2)]);
        assert_eq!(hits(graph.upstream(4, None)), [(3, 1), (1, 2), (2, 3)]);
        assert!(
            graph.contains_ci(5),
            "documentation-only links still add their CIs"
        );
    }

    #[test]
    fn the_depth_limit_cuts_off_and_says_so() {
        let graph = ImpactGraph::build(
            [],
            [depends(10, 1, 2), depends(11, 2, 3), depends(12, 3, 4)],
        );
        let near = graph.downstream(4, Some(2)).expect("known");
        assert_eq!(near.ci_ids().collect::<Vec<_>>(), [3, 2]);
        assert!(near.cut_off());
        assert_eq!(near.max_depth(), 2);
        let all = graph.downstream(4, Some(3)).expect("known");
        assert!(!all.cut_off());
        let none = graph.downstream(4, Some(0)).expect("known");
        assert!(none.is_empty() && none.cut_off());
    }

    #[test]
    fn changes_apply_without_a_rebuild() {
        let mut graph = ImpactGraph::build([], [depends(10, 1, 2), depends(11, 2, 3)]);
        graph.add_relationship(&depends(12, 7, 3));
        graph.add_ci(0);
        assert_eq!(hits(graph.downstream(3, None)), [(2, 1), (7, 1), (1, 2)]);
        assert!(graph.remove_relationship(11, 2, 3));
        assert!(!graph.remove_relationship(11, 2, 3), "already gone");
        assert_eq!(hits(graph.downstream(3, None)), [(7, 1)]);
        assert!(graph.remove_ci(7));
        assert!(!graph.contains_ci(7) && graph.downstream(7, None).is_none());
        assert_eq!(hits(graph.downstream(3, None)), []);
        graph.add_relationship(&depends(13, 0, 2));
        assert_eq!(hits(graph.downstream(2, None)), [(0, 1), (1, 1)]);
        assert!(graph.pending_changes() > 0);
        graph.compact();
        assert_eq!(graph.pending_changes(), 0);
        assert_eq!(hits(graph.downstream(2, None)), [(0, 1), (1, 1)]);
        assert_eq!((graph.ci_count(), graph.arc_count()), (4, 2));
    }

    #[test]
    fn reach_all_unites_several_starts() {
        let graph = ImpactGraph::build(
            [],
            [depends(10, 1, 2), depends(11, 3, 4), depends(12, 2, 5)],
        );
        assert_eq!(
            graph.reach_all(&[1, 3, 99], Direction::Upstream),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(graph.reach_all(&[5], Direction::Downstream), [1, 2, 5]);
    }

    /// The reference answer: shortest depths by a plain BFS over the arcs of the live edges.
    fn reference(
        edges: &[Edge],
        start: i64,
        direction: Direction,
        limit: Option<u32>,
    ) -> (BTreeMap<i64, u32>, bool) {
        let mut next: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for e in edges {
            for (dependent, dependency) in e.dependency.arcs(e.source_id, e.target_id) {
                let (from, to) = match direction {
                    Direction::Downstream => (dependency, dependent),
                    Direction::Upstream => (dependent, dependency),
                };
                next.entry(from).or_default().push(to);
            }
        }
        let mut depth = BTreeMap::from([(start, 0u32)]);
        let mut queue = VecDeque::from([start]);
        let mut cut_off = false;
        while let Some(v) = queue.pop_front() {
            let d = depth[&v];
            for &w in next.get(&v).map_or(&[][..], Vec::as_slice) {
                if depth.contains_key(&w) {
                    continue;
                }
                if limit.is_some_and(|l| d >= l) {
                    cut_off = true;
                    continue;
                }
                depth.insert(w, d + 1);
                queue.push_back(w);
            }
        }
        depth.remove(&start);
        (depth, cut_off)
    }

    fn has_arc(edges: &[Edge], rel: i64, from: i64, to: i64, direction: Direction) -> bool {
        edges.iter().filter(|e| e.relationship_id == rel).any(|e| {
            e.dependency
                .arcs(e.source_id, e.target_id)
                .any(|(dependent, dependency)| match direction {
                    Direction::Downstream => (dependency, dependent) == (from, to),
                    Direction::Upstream => (dependent, dependency) == (from, to),
                })
        })
    }

    /// Checks one answer against the reference and against the rules for paths and order.
    fn check_answer(
        graph: &ImpactGraph,
        edges: &[Edge],
        start: i64,
        direction: Direction,
        limit: Option<u32>,
    ) -> Result<Vec<(i64, u32, i64)>, TestCaseError> {
        let impact = graph
            .impact(start, direction, limit)
            .ok_or_else(|| TestCaseError::fail("start missing"))?;
        let got: Vec<ImpactHit> = impact.hits().collect();
        let (expected, cut_off) = reference(edges, start, direction, limit);
        let as_map: BTreeMap<i64, u32> = got.iter().map(|h| (h.ci_id, h.depth)).collect();
        prop_assert_eq!(as_map.len(), got.len(), "a CI was reached twice");
        prop_assert_eq!(&as_map, &expected);
        prop_assert_eq!(impact.cut_off(), cut_off);
        let order: Vec<(u32, i64)> = got.iter().map(|h| (h.depth, h.ci_id)).collect();
        prop_assert!(order.is_sorted(), "not by depth then id: {:?}", order);
        let sorted: Vec<i64> = as_map.keys().copied().collect();
        prop_assert_eq!(impact.ci_ids_sorted(), sorted);
        for hit in &got {
            prop_assert!(limit.is_none_or(|l| hit.depth <= l));
            let path = impact
                .path(hit.ci_id)
                .ok_or_else(|| TestCaseError::fail("no path"))?;
            prop_assert_eq!(path.ci_ids.len() as u32, hit.depth + 1);
            prop_assert_eq!(path.ci_ids.first(), Some(&start));
            prop_assert_eq!(path.ci_ids.last(), Some(&hit.ci_id));
            for (step, rel) in path.relationship_ids.iter().enumerate() {
                let (from, to) = (path.ci_ids[step], path.ci_ids[step + 1]);
                prop_assert!(
                    has_arc(edges, *rel, from, to, direction),
                    "no arc {from} -{rel}-> {to}"
                );
            }
            // The parent is the lowest-id CI one level closer that leads here.
            let lowest = expected
                .iter()
                .chain([(&start, &0)])
                .filter(|(_, d)| **d + 1 == hit.depth)
                .map(|(id, _)| *id)
                .find(|id| {
                    edges.iter().any(|e| {
                        has_arc(
                            std::slice::from_ref(e),
                            e.relationship_id,
                            *id,
                            hit.ci_id,
                            direction,
                        )
                    })
                });
            prop_assert_eq!(Some(hit.parent_id), lowest);
        }
        Ok(got
            .iter()
            .map(|h| (h.ci_id, h.depth, h.parent_id))
            .collect())
    }

    fn dependency() -> impl Strategy<Value = Dependency> {
        prop::sample::select(Dependency::ALL.to_vec())
    }

    /// Ids deliberately not in insertion order, so dense order and id order differ.
    fn ci_id() -> impl Strategy<Value = i64> {
        (0i64..10).prop_map(|i| (i * 7) % 10 + 100)
    }

    fn edges() -> impl Strategy<Value = Vec<Edge>> {
        prop::collection::vec((ci_id(), ci_id(), dependency()), 0..30).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (s, t, d))| edge(1000 + i as i64, s, t, d))
                .collect()
        })
    }

    #[derive(Debug, Clone)]
    enum Change {
        Add(i64, i64, Dependency),
        Remove(usize),
        AddCi(i64),
        RemoveCi(i64),
    }

    fn change() -> impl Strategy<Value = Change> {
        prop_oneof![
            3 => (ci_id(), ci_id(), dependency()).prop_map(|(s, t, d)| Change::Add(s, t, d)),
            2 => (0usize..40).prop_map(Change::Remove),
            1 => ci_id().prop_map(Change::AddCi),
            1 => ci_id().prop_map(Change::RemoveCi),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn answers_match_a_plain_search(edges in edges(), limit in prop::option::of(0u32..4)) {
            let graph = ImpactGraph::build(100..110, edges.clone());
            for start in 100..110 {
                for direction in Direction::ALL {
                    check_answer(&graph, &edges, start, *direction, limit)?;
                }
            }
        }

        #[test]
        fn downstream_and_upstream_mirror_each_other(edges in edges()) {
            let graph = ImpactGraph::build(100..110, edges);
            for a in 100..110 {
                let down: BTreeSet<i64> = graph.downstream(a, None).map(|i| i.ci_ids().collect()).unwrap_or_default();
                for x in 100..110 {
                    let up_x: BTreeSet<i64> = graph.upstream(x, None).map(|i| i.ci_ids().collect()).unwrap_or_default();
                    prop_assert_eq!(down.contains(&x), up_x.contains(&a), "A={} X={}", a, x);
                }
            }
        }

        #[test]
        fn changes_give_the_answers_of_a_rebuild(initial in edges(), changes in prop::collection::vec(change(), 0..25)) {
            let mut graph = ImpactGraph::build(100..110, initial.clone());
            let mut cis: BTreeSet<i64> = (100..110).collect();
            let mut live = initial;
            let mut next_rel = 5000;
            for change in changes {
                match change {
                    Change::Add(s, t, d) => {
                        let e = edge(next_rel, s, t, d);
                        next_rel += 1;
                        graph.add_relationship(&e);
                        cis.extend([s, t]);
                        live.push(e);
                    }
                    Change::Remove(i) if i < live.len() => {
                        let e = live.remove(i);
                        let had_arcs = e.dependency != Dependency::Informational;
                        prop_assert_eq!(graph.remove_relationship(e.relationship_id, e.source_id, e.target_id), had_arcs);
                    }
                    Change::Remove(_) => {}
                    Change::AddCi(id) => {
                        graph.add_ci(id);
                        cis.insert(id);
                    }
                    Change::RemoveCi(id) => {
                        prop_assert_eq!(graph.remove_ci(id), cis.remove(&id));
                        live.retain(|e| e.source_id != id && e.target_id != id);
                    }
                }
            }
            prop_assert_eq!(graph.ci_count(), cis.len());
            let rebuilt = ImpactGraph::build(cis.iter().copied(), live.clone());
            let mut compacted = graph.clone();
            compacted.compact();
            prop_assert_eq!(compacted.pending_changes(), 0);
            prop_assert_eq!(graph.arc_count(), rebuilt.arc_count());
            for start in &cis {
                for direction in Direction::ALL {
                    let incremental = check_answer(&graph, &live, *start, *direction, None)?;
                    prop_assert_eq!(&incremental, &check_answer(&rebuilt, &live, *start, *direction, None)?);
                    prop_assert_eq!(&incremental, &check_answer(&compacted, &live, *start, *direction, None)?);
                }
            }
        }
    }
}
