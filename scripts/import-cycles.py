#!/usr/bin/env python3
"""Import cycles among a crate's top-level modules (crate-root re-exports resolved, comments and
`#[cfg(test)]` parts ignored). Usage: scripts/import-cycles.py crates/*/src; exit 1 on any."""
import re, os, sys
def graph(src):
    lib = open(os.path.join(src, 'lib.rs')).read()
    reexport = {}
    for m in re.finditer(r'pub use (\w+)::(\{[^}]*\}|\w+)', lib):
        for name in re.findall(r'\w+', m.group(2)):
            reexport[name] = m.group(1)
    mods = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith('.rs'): continue
            path = os.path.join(root, f)
            parts = os.path.relpath(path, src)[:-3].split(os.sep)
            name = parts[0]
            text = re.split(r'#\[cfg\(test\)\]', open(path).read())[0]
            text = '\n'.join(l for l in text.splitlines() if not l.lstrip().startswith('//'))
            deps = set()
            for m in re.finditer(r'\bcrate::(\{[^}]*\}|\w+)', text):
                for n in re.findall(r'\w+', m.group(1))[:1] if not m.group(1).startswith('{') else re.findall(r'(?:^|[{,]\s*)(\w+)', m.group(1)):
                    deps.add(reexport.get(n, n))
            mods.setdefault(name, set()).update(d for d in deps if d != name)
    return mods
def cycles(g):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in g.get(v, ()):
            if w not in g:
                continue
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out
bad = 0
for src in sys.argv[1:]:
    found = cycles(graph(src))
    print(src, 'import cycles:', found or 'none')
    bad += len(found)
sys.exit(1 if bad else 0)
