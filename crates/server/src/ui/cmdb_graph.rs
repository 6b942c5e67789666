//! The CMDB's drawings, as inline SVG written on the server: a CI with its neighbours one
//! relationship away (upstream on the left, downstream on the right), and the number of CIs an
//! impact analysis reaches at each depth. All text is escaped; every drawing has a `<title>`
//! and a `<desc>`, and every CI in it is a link with its own `<title>`.

use super::html_attr;
use std::fmt::Write;

/// Most neighbours the graph draws; the rest are counted in a "+N more" note.
pub const MAX_NEIGHBOURS: usize = 30;

/// A CI as the drawings name it.
pub struct Node {
    pub id: i64,
    pub name: String,
    pub class: String,
}

/// Where a neighbour sits relative to the CI in the centre.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The centre depends on it.
    Upstream,
    /// It depends on the centre.
    Downstream,
    /// Both depend on each other.
    Mutual,
    /// Related without any dependency.
    Informational,
}

/// One relationship of the centre CI, seen from the centre.
pub struct Neighbour {
    pub node: Node,
    pub side: Side,
    /// How the relationship reads from its source: "runs on".
    pub label: String,
    /// Whether the centre is the relationship's source (the arrow points away from it).
    pub outgoing: bool,
}

const W: f64 = 800.0;
const NODE_W: f64 = 190.0;
const NODE_H: f64 = 36.0;
const ROW: f64 = 48.0;
const TOP: f64 = 40.0;
const LEFT_X: f64 = 10.0;
const RIGHT_X: f64 = W - 10.0 - NODE_W;
const CENTRE_X: f64 = (W - NODE_W) / 2.0;

/// `text` cut to `max` characters, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    } else {
        text.to_owned()
    }
}

fn node_box(svg: &mut String, node: &Node, x: f64, y: f64, class: &str, tip: &str) {
    let _ = write!(
        svg,
        "<a href=\"/cis/{id}\"><g class=\"{class}\"><title>{tip}</title>\
         <rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"6\"/>\
         <text class=\"name\" x=\"{tx:.1}\" y=\"{ny:.1}\">{name}</text>\
         <text class=\"cls\" x=\"{tx:.1}\" y=\"{cy:.1}\">{cls}</text></g></a>",
        id = node.id,
        tip = html_attr(tip),
        tx = x + 10.0,
        ny = y + 15.0,
        cy = y + 29.0,
        name = html_attr(&clip(&node.name, 26)),
        cls = html_attr(&clip(&node.class, 30)),
    );
}

/// The CI in the centre and its neighbours around it, with labelled arrows from each
/// relationship's source to its target. Dependencies the centre has are on the left, CIs that
/// depend on it on the right; mutual and informational ones fill the shorter column.
pub fn neighbour_graph(centre: &Node, neighbours: &[Neighbour]) -> String {
    let shown = &neighbours[..neighbours.len().min(MAX_NEIGHBOURS)];
    let more = neighbours.len() - shown.len();
    let (mut left, mut right): (Vec<&Neighbour>, Vec<&Neighbour>) = (Vec::new(), Vec::new());
    for n in shown.iter().filter(|n| n.side == Side::Upstream) {
        left.push(n);
    }
    for n in shown.iter().filter(|n| n.side == Side::Downstream) {
        right.push(n);
    }
    for n in shown
        .iter()
        .filter(|n| matches!(n.side, Side::Mutual | Side::Informational))
    {
        if left.len() < right.len() {
            left.push(n);
        } else {
            right.push(n);
        }
    }
    let rows = left.len().max(right.len()).max(1) as f64;
    let h = TOP + rows * ROW + 44.0;
    let centre_y = TOP + (rows * ROW - NODE_H) / 2.0;
    let count = |side: Side| neighbours.iter().filter(|n| n.side == side).count();
    let mut svg = format!(
        "<svg class=\"chart ci-graph\" role=\"img\" aria-labelledby=\"graph-title graph-desc\" viewBox=\"0 0 {W} {h}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\">\
         <title id=\"graph-title\">Relationships of {name}</title>\
         <desc id=\"graph-desc\">{total} related CIs: {up} that {name} depends on (left), {down} that depend on it (right), {mutual} depending on each other and {info} without a dependency. The list beside holds the same relationships.</desc>\
         <defs><marker id=\"ci-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path class=\"arrowhead\" d=\"M0 0L10 5L0 10z\"/></marker></defs>\
         <text class=\"heading\" x=\"{LEFT_X}\" y=\"18\">What it needs (upstream)</text>\
         <text class=\"heading\" x=\"{rx}\" y=\"18\" text-anchor=\"end\">What needs it (downstream)</text>",
        name = html_attr(&centre.name),
        total = neighbours.len(),
        up = count(Side::Upstream),
        down = count(Side::Downstream),
        mutual = count(Side::Mutual),
        info = count(Side::Informational),
        rx = W - 10.0,
    );
    let centre_mid = centre_y + NODE_H / 2.0;
    for (column, on_left) in [(&left, true), (&right, false)] {
        let offset = (rows - column.len() as f64) * ROW / 2.0;
        for (i, n) in column.iter().enumerate() {
            let y = TOP + offset + i as f64 * ROW + (ROW - NODE_H) / 2.0;
            let mid = y + NODE_H / 2.0;
            let (near, far) = if on_left {
                (LEFT_X + NODE_W, CENTRE_X)
            } else {
                (RIGHT_X, CENTRE_X + NODE_W)
            };
            // The arrow runs from the relationship's source to its target.
            let ((x1, y1), (x2, y2)) = if n.outgoing {
                ((far, centre_mid), (near, mid))
            } else {
                ((near, mid), (far, centre_mid))
            };
            let class = match n.side {
                Side::Informational => "edge informational",
                Side::Mutual => "edge mutual",
                _ => "edge",
            };
            let start = if n.side == Side::Mutual {
                " marker-start=\"url(#ci-arrow)\""
            } else {
                ""
            };
            let (source, target) = if n.outgoing {
                (&centre.name, &n.node.name)
            } else {
                (&n.node.name, &centre.name)
            };
            let reads = format!("{source} {} {target}", n.label);
            let _ = write!(
                svg,
                "<line class=\"{class}\" x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" marker-end=\"url(#ci-arrow)\"{start}><title>{}</title></line>",
                html_attr(&reads)
            );
            let (lx, anchor) = if on_left {
                (near + 6.0, "start")
            } else {
                (near - 6.0, "end")
            };
            let _ = write!(
                svg,
                "<text class=\"label\" x=\"{lx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text>",
                mid - 6.0,
                html_attr(&clip(&n.label, 18))
            );
            let x = if on_left { LEFT_X } else { RIGHT_X };
            let tip = format!("{} ({}): {reads}", n.node.name, n.node.class);
            node_box(&mut svg, &n.node, x, y, "node", &tip);
        }
    }
    let tip = format!("{} ({}), this CI", centre.name, centre.class);
    node_box(&mut svg, centre, CENTRE_X, centre_y, "node centre", &tip);
    let mut note =
        "Arrows run from a relationship's source to its target; dashed lines carry no dependency."
            .to_owned();
    if more > 0 {
        note = format!("+{more} more not drawn (see the list). {note}");
    }
    let _ = write!(
        svg,
        "<text class=\"note\" x=\"{LEFT_X}\" y=\"{:.1}\">{}</text></svg>",
        h - 12.0,
        html_attr(&note)
    );
    svg
}

/// CIs reached at each depth as a bar chart; each bar links to `#depth-N` of the list.
/// `counts` holds (depth, CIs) for depths 1, 2, … in order.
pub fn depth_chart(title: &str, counts: &[(u32, usize)]) -> String {
    const H: f64 = 240.0;
    const LEFT: f64 = 56.0;
    const RIGHT: f64 = 16.0;
    const CHART_TOP: f64 = 28.0;
    const BOTTOM: f64 = 44.0;
    const CW: f64 = 680.0;
    let (pw, ph) = (CW - LEFT - RIGHT, H - CHART_TOP - BOTTOM);
    let highest = counts.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let step = nice_step(highest);
    let top = highest.div_ceil(step) * step;
    let y = |v: usize| CHART_TOP + ph * (1.0 - v as f64 / top as f64);
    let slot = pw / counts.len().max(1) as f64;
    let bar = (slot * 0.6).min(80.0);
    let mut svg = format!(
        "<svg class=\"chart bar-chart\" role=\"img\" aria-labelledby=\"chart-title chart-desc\" viewBox=\"0 0 {CW} {H}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\">\
         <title id=\"chart-title\">{}</title>\
         <desc id=\"chart-desc\">Number of CIs reached at each number of relationships away. The table below lists them.</desc>",
        html_attr(title)
    );
    let mut tick = 0;
    while tick <= top {
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\"/><text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{tick}</text>",
            CW - RIGHT,
            LEFT - 6.0,
            y(tick) + 4.0,
            ty = y(tick)
        );
        tick += step;
    }
    let _ = write!(
        svg,
        "<text class=\"axis-title\" transform=\"translate(14 {:.1}) rotate(-90)\" text-anchor=\"middle\">CIs reached</text>\
         <text class=\"axis-title\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">Relationships away (depth)</text>",
        CHART_TOP + ph / 2.0,
        LEFT + pw / 2.0,
        H - 6.0
    );
    for (i, (depth, n)) in counts.iter().enumerate() {
        let cx = LEFT + slot * (i as f64 + 0.5);
        let top_y = y(*n);
        let _ = write!(
            svg,
            "<a href=\"#depth-{depth}\"><rect class=\"bar\" x=\"{:.1}\" y=\"{top_y:.1}\" width=\"{bar:.1}\" height=\"{:.1}\"><title>Depth {depth}: {n} CI{}</title></rect></a>\
             <text class=\"value\" x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{n}</text>\
             <text class=\"tick\" x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{depth}</text>",
            cx - bar / 2.0,
            (CHART_TOP + ph - top_y).max(0.0),
            if *n == 1 { "" } else { "s" },
            top_y - 5.0,
            CHART_TOP + ph + 16.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A round step for an axis up to `highest`: 1, 2, 5, 10, 20, 50, …, about five ticks.
fn nice_step(highest: usize) -> usize {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if highest.div_ceil(step * m) <= 5 {
                return step * m;
            }
        }
        step *= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: i64, name: &str) -> Node {
        Node {
            id,
            name: name.into(),
            class: "Server".into(),
        }
    }

    fn neighbour(id: i64, name: &str, side: Side, outgoing: bool) -> Neighbour {
        Neighbour {
            node: node(id, name),
            side,
            label: "runs on".into(),
            outgoing,
        }
    }

    #[test]
    fn the_graph_names_and_links_every_neighbour_escaped() {
        let svg = neighbour_graph(
            &node(1, "web <01>"),
            &[
                neighbour(2, "host & co", Side::Upstream, true),
                neighbour(3, "api", Side::Downstream, false),
                neighbour(4, "backup", Side::Informational, true),
            ],
        );
        assert!(svg.contains("<title id=\"graph-title\">Relationships of web &lt;01&gt;</title>"));
        assert!(svg.contains("href=\"/cis/2\"") && svg.contains("host &amp; co"));
        assert!(svg.contains("href=\"/cis/3\"") && svg.contains("href=\"/cis/4\""));
        assert!(svg.contains("<title>web &lt;01&gt; runs on host &amp; co</title>"));
        assert!(svg.contains("<title>api runs on web &lt;01&gt;</title>"));
        assert!(svg.contains("edge informational"));
        assert!(!svg.contains("more not drawn"));
    }

    #[test]
    fn the_graph_caps_its_neighbours() {
        let many: Vec<Neighbour> = (0..45)
            .map(|i| neighbour(i + 10, &format!("ci{i}"), Side::Downstream, false))
            .collect();
        let svg = neighbour_graph(&node(1, "hub"), &many);
        assert_eq!(svg.matches("<rect").count(), MAX_NEIGHBOURS + 1);
        assert!(svg.contains("+15 more not drawn"));
    }

    #[test]
    fn bars_count_each_depth_on_a_round_axis() {
        let svg = depth_chart("Downstream of db", &[(1, 3), (2, 12), (3, 1)]);
        assert_eq!(svg.matches("class=\"bar\"").count(), 3);
        assert!(svg.contains("<title>Depth 2: 12 CIs</title>"));
        assert!(svg.contains("<title>Depth 3: 1 CI</title>"));
        assert!(svg.contains("href=\"#depth-1\""));
        assert!(svg.contains(">CIs reached</text>"));
        assert_eq!(nice_step(12), 5);
        assert_eq!(nice_step(3), 1);
        assert_eq!(nice_step(480), 100);
    }
}
