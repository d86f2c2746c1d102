//! The file → file import graph of a crate, and its circles (strongly
//! connected components of more than one file, Tarjan's algorithm).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::module_tree::ModuleTree;
use super::resolve::resolve;

/// Imports between files: `(from, to)` → the names that tie them.
pub type FileGraph = BTreeMap<(PathBuf, PathBuf), BTreeSet<String>>;

/// Every import of `tree` from one file to another.
pub fn imports(tree: &ModuleTree) -> FileGraph {
    let mut graph = FileGraph::new();
    for (id, module) in tree.modules.iter().enumerate() {
        for reference in &module.references {
            for target in resolve(tree, id, &reference.path) {
                let to = &tree.modules[target.module];
                if to.file == module.file {
                    continue;
                }
                let name = match (&target.item, reference.glob) {
                    (_, true) => "*".to_string(),
                    (Some(item), false) => item.clone(),
                    (None, false) => to.path.last().cloned().unwrap_or_else(|| "crate".into()),
                };
                graph
                    .entry((module.file.clone(), to.file.clone()))
                    .or_default()
                    .insert(name);
            }
        }
    }
    graph
}

/// The circles of `graph`: each a sorted set of two files or more, sorted.
pub fn circles(graph: &FileGraph) -> Vec<BTreeSet<PathBuf>> {
    let mut nodes: BTreeSet<&PathBuf> = BTreeSet::new();
    for (from, to) in graph.keys() {
        nodes.insert(from);
        nodes.insert(to);
    }
    let index: BTreeMap<&PathBuf, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let names: Vec<&PathBuf> = nodes.into_iter().collect();
    let mut edges = vec![Vec::new(); names.len()];
    for (from, to) in graph.keys() {
        edges[index[from]].push(index[to]);
    }
    let mut out: Vec<BTreeSet<PathBuf>> = strongly_connected(&edges)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| c.into_iter().map(|i| names[i].clone()).collect())
        .collect();
    out.sort();
    out
}

/// Tarjan's strongly connected components, iteratively (no recursion
/// depth to worry about).
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let n = edges.len();
    let mut order = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut components = Vec::new();
    for start in 0..n {
        if order[start] != UNSEEN {
            continue;
        }
        // (node, index of its next edge to look at)
        let mut work = vec![(start, 0)];
        order[start] = next;
        low[start] = next;
        next += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (node, ref mut edge)) = work.last_mut() {
            if let Some(&to) = edges[node].get(*edge) {
                *edge += 1;
                if order[to] == UNSEEN {
                    order[to] = next;
                    low[to] = next;
                    next += 1;
                    stack.push(to);
                    on_stack[to] = true;
                    work.push((to, 0));
                } else if on_stack[to] {
                    low[node] = low[node].min(order[to]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == order[node] {
                let mut component = Vec::new();
                while let Some(top) = stack.pop() {
                    on_stack[top] = false;
                    component.push(top);
                    if top == node {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_the_circles_and_nothing_else() {
        // 0 → 1 → 2 → 0, 2 → 3, 3 → 4 → 3, 5 alone, 6 → 6.
        let edges = vec![
            vec![1],
            vec![2],
            vec![0, 3],
            vec![4],
            vec![3],
            vec![],
            vec![6],
        ];
        let mut found: Vec<Vec<usize>> = strongly_connected(&edges)
            .into_iter()
            .map(|mut c| {
                c.sort();
                c
            })
            .filter(|c| c.len() > 1)
            .collect();
        found.sort();
        assert_eq!(found, [vec![0, 1, 2], vec![3, 4]]);
    }

    #[test]
    fn a_long_chain_needs_no_deep_recursion() {
        let n = 100_000;
        let mut edges: Vec<Vec<usize>> = (0..n).map(|i| vec![i + 1]).collect();
        edges[n - 1] = vec![0];
        let components = strongly_connected(&edges);
        assert_eq!(components.len(), 1);
        assert_eq!(components[0].len(), n);
    }
}
