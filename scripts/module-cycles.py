#!/usr/bin/env python3
"""Fails when the top-level modules of a crate import each other in a cycle.

    scripts/module-cycles.py CRATE_SRC_DIR...

Reads every `.rs` file under each directory, takes the top-level module a file belongs to
(`src/web/page.rs` -> `web`, `src/app.rs` -> `app`), and draws an edge to every other top-level
module it names as `crate::X` outside comments. Prints each edge that is part of a cycle
(strongly connected components of Tarjan's algorithm) and exits 1 when there is one; prints
`ok` and exits 0 otherwise. `lib.rs` and `main.rs` are roots, not modules.
"""
import collections
import os
import re
import sys

CRATE_PATH = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")


def edges(src):
    graph = collections.defaultdict(dict)
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)
            top = rel.split(os.sep)[0].removesuffix(".rs")
            if top in ("lib", "main"):
                continue
            graph.setdefault(top, {})
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    code = line.split("//", 1)[0]
                    for target in CRATE_PATH.findall(code):
                        if target != top and target not in graph[top]:
                            graph[top][target] = f"{rel}:{number}"
    return graph


def cycles(graph):
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def main(dirs):
    failed = False
    for src in dirs:
        graph = edges(src)
        for component in cycles(graph):
            failed = True
            print(f"{src}: modules in a cycle: {', '.join(component)}")
            for a in component:
                for b, where in sorted(graph[a].items()):
                    if b in component:
                        print(f"  {a} -> {b}  ({where})")
    if failed:
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["api/src"]))
