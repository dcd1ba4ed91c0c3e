"""The package's imports follow the layers that docs/package.md states, and form no cycle.

The table at the top of docs/package.md is read here, so the picture and the code cannot
drift: every module of d2lrnn must be in it, and every import (at module level or inside a
function) must go to the module's own layer or to one its row names.
"""
import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "d2lrnn"
PACKAGE_MD = REPO / "docs" / "package.md"


def read_layers(text):
    """``{layer: (modules, allowed layers)}`` from the first table of package.md whose header is 'layer'."""
    rows = re.findall(r"^\| (.+?) \| (.+?) \| (.+?) \|$", text.split("| layer |", 1)[1].split("\n\n")[0], re.M)
    layers = {}
    for layer, modules, allowed in rows:
        if set(layer) <= {"-", " "}:
            continue
        layers[layer] = (re.findall(r"`([\w/]+)`", modules),
                         [name for name in layers if re.search(rf"\b{re.escape(name)}\b", allowed)])
    return layers


def module_name(path):
    """'d2lrnn/store/checkpoint.py' -> 'store/checkpoint'; '__init__' stays in the name ('env/__init__')."""
    return path.relative_to(PACKAGE).with_suffix("").as_posix()


def _resolve(name):
    """The module file 'a/b' for dotted 'd2lrnn.a.b' (a package means its __init__); None outside d2lrnn."""
    parts = name.split(".")
    if parts[0] != "d2lrnn":
        return None
    path = "/".join(parts[1:])
    if (PACKAGE / path).is_dir():
        return f"{path}/__init__" if path else "__init__"
    return path if (PACKAGE / f"{path}.py").is_file() else None


def imports_of(path):
    """The d2lrnn modules that the file at ``path`` imports anywhere in its body."""
    package = ["d2lrnn", *path.relative_to(PACKAGE).parent.parts]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            # ``from pkg import sub`` imports the submodule when there is one, else names from pkg.
            names = [f"{module}.{alias.name}" if _resolve(f"{module}.{alias.name}") else module
                     for alias in node.names]
        else:
            continue
        found.update(m for m in map(_resolve, names) if m is not None)
    found.discard(module_name(path))
    return found


def import_graph():
    return {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def violations(graph, layers):
    """Problems with ``graph`` ({module: imported modules}) under ``layers``: unplaced modules,
    imports against the direction, cycles."""
    layer_of = {m: layer for layer, (modules, _) in layers.items() for m in modules}
    problems = [f"{m} is in no layer of docs/package.md" for m in graph if m not in layer_of]
    for module, targets in graph.items():
        for target in sorted(targets):
            mine, theirs = layer_of.get(module), layer_of.get(target)
            if mine and theirs and theirs != mine and theirs not in layers[mine][1]:
                problems.append(f"{module} ({mine}) imports {target} ({theirs})")
    problems += [f"import cycle: {' -> '.join(c)}" for c in cycles(graph)]
    return problems


def cycles(graph):
    """One cycle through each strongly connected part of ``graph`` that has one (depth-first search)."""
    found, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"
    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return found


LAYERS = read_layers(PACKAGE_MD.read_text())


def test_the_table_names_every_layer_and_module_once():
    assert list(LAYERS)[:2] == ["facts", "set-up"] and len(LAYERS) >= 6
    listed = [m for modules, _ in LAYERS.values() for m in modules]
    assert len(listed) == len(set(listed))
    assert sorted(listed) == sorted(import_graph())


def test_every_import_follows_the_stated_direction_and_there_is_no_cycle():
    assert violations(import_graph(), LAYERS) == []


def test_the_facts_import_no_mxnet():
    tree = ast.parse((PACKAGE / "facts.py").read_text())
    modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "mxnet" not in modules and "numpy" in modules


def test_imports_are_found_at_any_depth():
    graph = import_graph()
    assert graph["training"] >= {"facts", "store/checkpoint", "env/_busy", "data"}
    assert graph["cli"] >= {"facts", "store/checkpoint", "chapter", "env/device"}
    assert "env/_compat" in graph["__init__"]
    assert "data" in graph["store/checkpoint_files"]


@pytest.mark.parametrize("graph, expected", [
    ({"facts": {"models"}, "models": set()}, "facts (facts) imports models (building blocks)"),
    ({"models": {"training"}, "training": set()}, "models (building blocks) imports training (training run)"),
    ({"store/checkpoint": {"chapter"}, "chapter": set()}, "store/checkpoint (run store) imports chapter (chapter)"),
    ({"data": {"models"}, "models": {"scratch"}, "scratch": {"data"}}, "import cycle: data -> models -> scratch -> data"),
    ({"newmodule": set()}, "newmodule is in no layer of docs/package.md"),
])
def test_the_check_can_fail(graph, expected):
    assert expected in violations(graph, LAYERS)
