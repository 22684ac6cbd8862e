#!/usr/bin/env python3
"""Import cycles among a crate's modules, every one of them: nested modules (folders and
`foo/bar.rs`), paths through `crate::`, `super::` and `self::`, and names re-exported with
`pub use` anywhere resolved to the module that defines them. Comments and `#[cfg(test)]`
parts are ignored. A module's use of its own ancestors' or descendants' items is the module
tree itself, not a circle; every other pair of modules that reach each other, directly or
around a circle, is reported. Usage: scripts/import-cycles.py crates/*/src; exit 1 on any."""
import os, re, sys

PATH = r'(?:crate|super|self)(?:::\w+)*'

def strip(text):
    text = re.split(r'#\[cfg\(test\)\]', text)[0]
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    return '\n'.join(l for l in text.splitlines() if not l.lstrip().startswith('//'))

def modules(src):
    """module path (tuple) -> file text"""
    out = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith('.rs'):
                continue
            path = os.path.join(root, f)
            parts = os.path.relpath(path, src)[:-3].split(os.sep)
            if parts == ['lib'] or parts == ['main']:
                parts = []
            elif parts[-1] == 'mod':
                parts = parts[:-1]
            if parts and parts[0] == 'bin':
                continue
            out[tuple(parts)] = strip(open(path).read())
    return out

def expand(group):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e'] (only the path heads matter)."""
    m = re.match(r'([\w:]*?)(?:::)?\{(.*)\}$', group.strip(), re.S)
    if not m:
        return [group.strip()]
    head, body = m.group(1), m.group(2)
    items, depth, cur = [], 0, ''
    for ch in body:
        if ch == ',' and depth == 0:
            items.append(cur); cur = ''
            continue
        depth += ch == '{'
        depth -= ch == '}'
        cur += ch
    items.append(cur)
    out = []
    for it in items:
        it = re.sub(r'\s+as\s+\w+', '', it.strip())
        if not it:
            continue
        for e in expand(it):
            out.append(f'{head}::{e}' if head else e)
    return out

def paths(text):
    """Every crate/super/self path the text names, as written."""
    found = []
    for m in re.finditer(r'\buse\s+([^;]+);', text):
        for p in expand(m.group(1)):
            if re.match(r'(crate|super|self)\b', p):
                found.append(p)
    for m in re.finditer(r'\b(' + PATH + r')', text):
        found.append(m.group(1))
    return found

def absolute(mod, path):
    segs = path.split('::')
    if segs[0] == 'crate':
        base, rest = [], segs[1:]
    else:
        base = list(mod)
        while segs and segs[0] in ('super', 'self'):
            if segs.pop(0) == 'super':
                base = base[:-1]
        rest = segs
    return base + [s for s in rest if s not in ('*', 'self')]

def graph(src):
    mods = modules(src)
    # names each module re-exports: (module, name) -> absolute path of the source
    reexports = {}
    for mod, text in mods.items():
        for m in re.finditer(r'\bpub(?:\([^)]*\))?\s+use\s+([^;]+);', text):
            for p in expand(m.group(1)):
                segs = p.split('::')
                if segs[0] not in ('crate', 'super', 'self') and tuple(list(mod) + segs[:1]) in mods:
                    p = 'self::' + p
                if not re.match(r'(crate|super|self)\b', p):
                    continue
                target = absolute(mod, p)
                if target:
                    reexports[(mod, target[-1])] = target
    def resolve(segs, seen=0):
        # the longest known module prefix; a re-exported name continues from its source
        for i in range(len(segs), -1, -1):
            prefix = tuple(segs[:i])
            if prefix in mods:
                if i < len(segs) and (prefix, segs[i]) in reexports and seen < 8:
                    return resolve(reexports[(prefix, segs[i])], seen + 1)
                return prefix
        return ()
    edges = {m: set() for m in mods}
    for mod, text in mods.items():
        for p in paths(text):
            target = resolve(absolute(mod, p))
            related = target[:len(mod)] == mod or mod[:len(target)] == target
            if not related:
                edges[mod].add(target)
    return edges

def cycles(g):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)
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
                out.append(sorted('::'.join(c) or 'crate' for c in comp))
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out

bad = 0
for src in sys.argv[1:]:
    g = graph(src)
    found = cycles(g)
    print(src, f'({len(g)} modules) import cycles:', found or 'none')
    bad += len(found)
sys.exit(1 if bad else 0)
