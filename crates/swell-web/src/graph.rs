//! A dataflow's graph, laid out on the server and drawn as inline SVG: no graph library in
//! the browser.
//!
//! Layout (a small Sugiyama): each node's layer is its longest path from a source node, so
//! every edge goes left to right; within a layer, nodes are ordered by the barycentre of their
//! neighbours in the layer before (then after), a few sweeps, which removes most crossings of
//! real dataflows. Boxes are a fixed size; names longer than a box are cut, and the whole name
//! is in the node's `<title>`. The same nodes are in the page's table, for reading without the
//! picture.

use crate::format;
use std::collections::HashMap;
use swell_core::NodeStatus;

/// Past this many nodes the graph is not drawn (the table still lists them).
pub const MAX_DRAWN: usize = 400;

const BOX_W: u32 = 168;
const BOX_H: u32 = 38;
const GAP_X: u32 = 56;
const GAP_Y: u32 = 18;
const MARGIN: u32 = 8;

/// A node to draw: its name, action, and (for a job) how it ran.
pub struct GraphNode {
    pub name: String,
    pub action: String,
    pub inputs: Vec<usize>,
}

/// A laid-out node.
pub struct Placed {
    pub x: u32,
    pub y: u32,
    /// The name as it fits in the box.
    pub label: String,
    pub action: String,
    /// `queued`, `running`, `success`, `failure`, `cancelled`, or `none` outside a job.
    pub class: &'static str,
    pub title: String,
}

/// An edge as an SVG path.
pub struct Edge {
    pub d: String,
}

/// The drawing: its size, nodes and edges.
pub struct Graph {
    pub width: u32,
    pub height: u32,
    pub nodes: Vec<Placed>,
    pub edges: Vec<Edge>,
}

/// How a node ran in a job, by name.
pub struct Ran {
    pub status: NodeStatus,
    pub rows_out: i64,
}

/// Lays out `nodes` (in any order; inputs by index) and colours them by `ran`. `None` when
/// there is nothing to draw or too much, or the graph has a cycle.
pub fn layout(nodes: &[GraphNode], ran: &HashMap<String, Ran>) -> Option<Graph> {
    let n = nodes.len();
    if n == 0 || n > MAX_DRAWN {
        return None;
    }
    // layers by longest path, in topological order (Kahn)
    let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut waiting: Vec<usize> = vec![0; n];
    for (i, node) in nodes.iter().enumerate() {
        for &j in &node.inputs {
            if j >= n {
                return None;
            }
            consumers[j].push(i);
            waiting[i] += 1;
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut layer = vec![0usize; n];
    let mut seen = 0;
    while let Some(i) = ready.pop() {
        seen += 1;
        for &c in &consumers[i] {
            layer[c] = layer[c].max(layer[i] + 1);
            waiting[c] -= 1;
            if waiting[c] == 0 {
                ready.push(c);
            }
        }
    }
    if seen != n {
        return None;
    }
    let depth = layer.iter().max().copied().unwrap_or(0) + 1;
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for i in 0..n {
        layers[layer[i]].push(i);
    }
    // order within layers: barycentres of the neighbours, sweeping right then left
    let mut pos = vec![0f64; n];
    let set = |layers: &Vec<Vec<usize>>, pos: &mut Vec<f64>| {
        for l in layers {
            for (k, &i) in l.iter().enumerate() {
                pos[i] = k as f64;
            }
        }
    };
    set(&layers, &mut pos);
    for _ in 0..4 {
        for l in 1..depth {
            sort_by_barycentre(&mut layers[l], |i| nodes[i].inputs.clone(), &pos);
            set(&layers, &mut pos);
        }
        for l in (0..depth.saturating_sub(1)).rev() {
            sort_by_barycentre(&mut layers[l], |i| consumers[i].clone(), &pos);
            set(&layers, &mut pos);
        }
    }
    let tallest = layers.iter().map(Vec::len).max().unwrap_or(1) as u32;
    let height = MARGIN * 2 + tallest * BOX_H + tallest.saturating_sub(1) * GAP_Y;
    let width = MARGIN * 2 + depth as u32 * BOX_W + (depth as u32).saturating_sub(1) * GAP_X;
    let mut xy = vec![(0u32, 0u32); n];
    for (l, members) in layers.iter().enumerate() {
        // centre short layers vertically
        let used = members.len() as u32 * BOX_H + (members.len() as u32).saturating_sub(1) * GAP_Y;
        let top = MARGIN + (height - 2 * MARGIN - used) / 2;
        for (k, &i) in members.iter().enumerate() {
            xy[i] = (MARGIN + l as u32 * (BOX_W + GAP_X), top + k as u32 * (BOX_H + GAP_Y));
        }
    }
    let placed = nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let (x, y) = xy[i];
            let (class, how) = match ran.get(&node.name) {
                Some(r) => {
                    let s = format::node_status(r.status);
                    (s.class, format!(": {}, {} rows out", s.word, format::count(r.rows_out)))
                }
                None => ("none", String::new()),
            };
            Placed {
                x,
                y,
                label: cut(&node.name, 20),
                action: cut(&node.action, 24),
                class,
                title: format!("{} ({}){how}", node.name, node.action),
            }
        })
        .collect();
    let mut edges = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        for &j in &node.inputs {
            let (x1, y1) = (xy[j].0 + BOX_W, xy[j].1 + BOX_H / 2);
            let (x2, y2) = (xy[i].0, xy[i].1 + BOX_H / 2);
            let mid = (x1 + x2) / 2;
            edges.push(Edge { d: format!("M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}") });
        }
    }
    Some(Graph { width, height, nodes: placed, edges })
}

/// Orders a layer by the mean position of each node's neighbours (nodes without any keep
/// their place), stable for ties.
fn sort_by_barycentre(layer: &mut [usize], neighbours: impl Fn(usize) -> Vec<usize>, pos: &[f64]) {
    let key: HashMap<usize, f64> = layer
        .iter()
        .map(|&i| {
            let ns = neighbours(i);
            let k = if ns.is_empty() { pos[i] } else { ns.iter().map(|&j| pos[j]).sum::<f64>() / ns.len() as f64 };
            (i, k)
        })
        .collect();
    layer.sort_by(|a, b| key[a].total_cmp(&key[b]));
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() > max { format!("{}…", s.chars().take(max - 1).collect::<String>()) } else { s.to_string() }
}

/// The nodes of a stored definition (a dataflow, or a recipe's), with their inputs; `None`
/// when it cannot be read as a graph. Parsed on a thread with a deep stack: definitions are
/// users' input and may nest deeply.
pub fn nodes_of(definition: serde_json::Value) -> Option<Vec<GraphNode>> {
    swell_engine::on_deep_stack(move || {
        let flow = swell_engine::flow::Dataflow::from_value(definition).ok()?;
        Some(
            flow.nodes
                .iter()
                .map(|n| GraphNode { name: n.name.clone(), action: n.action.clone(), inputs: n.inputs.clone() })
                .collect::<Vec<_>>(),
        )
    })
    .ok()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, inputs: &[usize]) -> GraphNode {
        GraphNode { name: name.into(), action: "x".into(), inputs: inputs.to_vec() }
    }

    #[test]
    fn every_edge_goes_right_and_layers_are_longest_paths() {
        // a -> b -> d, a -> d, c -> d
        let nodes = vec![node("a", &[]), node("b", &[0]), node("c", &[]), node("d", &[1, 0, 2])];
        let g = layout(&nodes, &HashMap::new()).unwrap();
        let x: Vec<u32> = g.nodes.iter().map(|p| p.x).collect();
        assert!(x[0] < x[1] && x[1] < x[3], "{x:?}");
        assert_eq!(x[0], x[2], "both sources in the first layer");
        assert_eq!(g.edges.len(), 4);
        assert!(g.width > 3 * BOX_W && g.height >= 2 * BOX_H);
    }

    #[test]
    fn barycentres_untangle_two_crossed_chains() {
        // a1 -> b1 and a2 -> b2, written with the second layer crossed
        let nodes = vec![node("a1", &[]), node("a2", &[]), node("b2", &[1]), node("b1", &[0])];
        let g = layout(&nodes, &HashMap::new()).unwrap();
        let y = |i: usize| g.nodes[i].y;
        assert_eq!(y(0) < y(1), y(3) < y(2), "no crossing");
    }

    #[test]
    fn cycles_and_huge_graphs_are_not_drawn() {
        assert!(layout(&[node("a", &[1]), node("b", &[0])], &HashMap::new()).is_none());
        let many: Vec<GraphNode> = (0..MAX_DRAWN + 1).map(|i| node(&format!("n{i}"), &[])).collect();
        assert!(layout(&many, &HashMap::new()).is_none());
    }

    #[test]
    fn long_names_are_cut_in_the_box_and_whole_in_the_title() {
        let nodes = vec![node("a_very_long_node_name_indeed_yes", &[])];
        let mut ran = HashMap::new();
        ran.insert("a_very_long_node_name_indeed_yes".to_string(), Ran { status: NodeStatus::Failure, rows_out: 1200 });
        let g = layout(&nodes, &ran).unwrap();
        assert_eq!(g.nodes[0].label.chars().count(), 20);
        assert_eq!(g.nodes[0].class, "failure");
        assert!(g.nodes[0].title.contains("a_very_long_node_name_indeed_yes (x): Failed, 1,200 rows out"));
    }
}
