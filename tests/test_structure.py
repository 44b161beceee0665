"""The shape of the tree (issue: one way in): the GraphQL kit imports no domain, no module imports
itself round a cycle, and every error code is a member of the one enum. Read with `ast` from the
source, so a function-local import counts as much as one at the top of a module."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from storelink.errors import Code, DomainError
from storelink.graphql.errors import ErrorCode

SRC = Path(__file__).resolve().parents[1] / "src"
# What the kit (storelink.graphql) may build on besides itself: the platform, never a domain.
PLATFORM = {"storelink.errors", "storelink.db", "storelink.logs", "storelink.ids", "storelink.settings", "storelink.limits",
            "storelink.clock", "storelink.i18n"}  # i18n: the catalog of what people read, like errors


def _modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _under_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(name: str, path: Path) -> set[str]:
    """The storelink modules `name` imports at run time (anywhere in it; not under TYPE_CHECKING)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _under_type_checking(child):
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(parts + ([child.module] if child.module else []))
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    found.add(full if full in MODULES else base)
            visit(child)

    visit(ast.parse(path.read_text()))
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def test_the_graphql_kit_imports_no_domain():
    # given the kit's modules
    kit = [m for m in MODULES if m == "storelink.graphql" or m.startswith("storelink.graphql.")]
    assert kit, "the kit is where the README says"
    # when we list what each imports from outside the kit
    outside = {m: sorted(i for i in GRAPH[m] if not i.startswith("storelink.graphql") and i not in PLATFORM)
               for m in kit}
    # then it is nothing
    assert {m: i for m, i in outside.items() if i} == {}


def test_no_module_imports_itself_round_a_cycle():
    # given the import graph of every module under src/
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                connect(w)
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
                cycles.append(sorted(component))

    # when its strongly connected components are found
    for module in MODULES:
        if module not in index:
            connect(module)
    # then every one is a single module
    assert cycles == []


def test_the_cycle_check_sees_a_function_local_import(tmp_path):
    # given a module whose function imports it back (the kind of loop this tree used to hide)
    path = tmp_path / "m.py"
    path.write_text("def f():\n    from storelink.graphql import errors\n")
    # when its imports are read
    found = _imports("storelink.graphql.relay", path)
    # then the local import is counted
    assert found == {"storelink.graphql.errors"}


def test_error_codes_have_one_source():
    # given the codes the service raises and the ones GraphQL shows
    # then they are one list
    assert ErrorCode is Code
    # and a DomainError refuses a code that is not on it
    with pytest.raises(TypeError):
        DomainError("x", code="NOT_A_CODE")  # type: ignore[arg-type]


def test_no_error_code_is_written_as_a_string():
    # given every call in the source that passes `code=`
    literals = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "code" and isinstance(keyword.value, ast.Constant) \
                            and isinstance(keyword.value.value, str):
                        literals.append(f"{name}:{node.lineno}")
    # then none spells a code as a string (a typo would only show at run time)
    assert literals == []


TESTS = Path(__file__).resolve().parent
STEPS = re.compile(r"#\s*(when|then)\b")  # `# when / then` counts as a when


def _tests_without_steps(root: Path) -> list[str]:
    """Test functions whose body says neither when nor then (as a `# when` / `# then` comment)."""
    missing = []
    for path in sorted(root.rglob("test_*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                body = lines[node.lineno - 1:node.end_lineno]
                if not any(STEPS.search(line) for line in body):
                    missing.append(f"{path.relative_to(root)}::{node.name}")
    return missing


def test_every_test_body_reads_as_given_when_then():
    # given every test module of the suite
    # when their test functions are read
    missing = _tests_without_steps(TESTS)
    # then each says what it does and what it checks
    assert missing == []


def test_the_steps_check_sees_a_test_without_them(tmp_path):
    # given a test module with one test that says its steps and one that does not
    (tmp_path / "test_example.py").write_text(
        "def test_with_steps():\n    # when / then\n    assert 1 + 1 == 2\n\n\n"
        "def test_without_steps():\n    assert 1 + 1 == 2\n")
    # when / then
    assert _tests_without_steps(tmp_path) == ["test_example.py::test_without_steps"]
