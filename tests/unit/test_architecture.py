"""The layering rules of docs/architecture.md, checked on the source of app/runyard.

An AST walk finds every ``import`` (at module level and inside functions alike), resolves it to
the runyard module it names, and checks it against the rules below. A rule broken today is
listed in ``KNOWN_EXCEPTIONS`` with its reason; an exception that no longer occurs fails too, so
the list only ever shrinks. The size rule (no module over 500 lines) works the same way.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
MAX_LINES = 500

#: Modules every layer may use: the data types, errors and the rules shared by all layers.
FOUNDATION = (
    "runyard.clock",
    "runyard.config",
    "runyard.settings_catalog",
    "runyard.entities",
    "runyard.errors",
    "runyard.http",
    "runyard.idempotency",
    "runyard.images",
    "runyard.locations",
    "runyard.names",
    "runyard.protocol",
    "runyard.tags",
    "runyard.uris",
    "runyard.validation",
    "runyard.version",
    "runyard.wire_json",
    "runyard.wire_schema",
    "runyard.wire_types",
)


@dataclass(frozen=True)
class Rule:
    """Modules under one of ``sources`` must not import a module under one of ``forbidden``
    (or, when ``allowed`` is set, anything outside ``sources`` and ``allowed``)."""

    name: str
    sources: tuple[str, ...]
    forbidden: tuple[str, ...] = ()
    allowed: tuple[str, ...] | None = None

    def broken_by(self, source: str, target: str) -> bool:
        if not _under(source, self.sources) or _under(source, self.forbidden):
            return False
        if self.allowed is not None:
            return not _under(target, self.sources + self.allowed)
        return _under(target, self.forbidden)


RULES = (
    Rule("foundation imports only foundation", FOUNDATION, allowed=FOUNDATION),
    Rule(
        "search is pure",
        ("runyard.search",),
        allowed=("runyard.entities", "runyard.errors", "runyard.tags"),
    ),
    Rule(
        "artifacts never import stores, tracking or the server",
        ("runyard.artifacts",),
        forbidden=("runyard.store", "runyard.tracking", "runyard.server"),
    ),
    Rule(
        "stores never import tracking or the server",
        ("runyard.store",),
        forbidden=("runyard.tracking", "runyard.server"),
    ),
    Rule("tracking never imports the server", ("runyard.tracking",), forbidden=("runyard.server",)),
    Rule(
        "autolog logs through tracking only",
        ("runyard.autolog",),
        forbidden=("runyard.store", "runyard.server", "runyard.artifacts"),
    ),
    Rule("registry never imports the server", ("runyard.registry",), forbidden=("runyard.server",)),
    Rule("auth never imports the server", ("runyard.auth",), forbidden=("runyard.server",)),
    Rule(
        "importer never imports tracking or the server",
        ("runyard.importer",),
        forbidden=("runyard.tracking", "runyard.server"),
    ),
    Rule(
        "only the server imports the server",
        ("runyard",),
        forbidden=("runyard.server",),
    ),
)

#: (rule, importing module, imported module) -> why it is allowed for now.
KNOWN_EXCEPTIONS: dict[tuple[str, str, str], str] = {
    ("only the server imports the server", "runyard.cli", "runyard.server.serve"): (
        "`runyard server` starts the server (imported inside the command)"
    ),
    ("only the server imports the server", "runyard.cli", "runyard.server.auth.commands"): (
        "`runyard users` and `tokens` manage the server's accounts (Flask-free: the auth database's"
        " location is decided in server/auth/database.py)"
    ),
    (
        "artifacts never import stores, tracking or the server",
        "runyard.artifacts",
        "runyard.tracking.fluent_artifacts",
    ): (
        "code written for MLflow calls `mlflow.artifacts.download_artifacts`, so the client's"
        " functions answer under that name, imported on first use: no repository loads them"
    ),
}

#: Modules that must import without Flask (a client-only install has none) -> why they may not
#: yet.
FLASK_FREE: dict[str, str | None] = {
    "runyard": None,
    "runyard.cli": None,
}

#: Modules allowed over MAX_LINES for now, with the reason.
LONG_MODULES: dict[str, str] = {}


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    where: str  # file:line


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(target: str, root: Path) -> str:
    """``runyard.x.y`` when it is a module or package under ``root``, else its longest prefix
    that is (``from runyard.x import name`` names a module only when ``name`` is one)."""
    parts = target.split(".")
    while parts:
        base = root.joinpath(*parts)
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return ".".join(parts)
        parts.pop()
    return target


def imports_of(path: Path, root: Path) -> list[Import]:
    """Every runyard import in ``path``, wherever in the file it is written."""
    source = _module_name(path, root)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(anchor + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            if target == "runyard" or target.startswith("runyard."):
                where = f"{path.relative_to(root)}:{node.lineno}"
                found.append(Import(source, _resolve(target, root), where))
    return found


def violations(root: Path) -> list[tuple[Rule, Import]]:
    """(rule, import) for every import under ``root``/runyard that breaks a rule."""
    broken = []
    for path in sorted((root / "runyard").rglob("*.py")):
        for imp in imports_of(path, root):
            broken.extend((rule, imp) for rule in RULES if rule.broken_by(imp.source, imp.target))
    return broken


def _report(broken: list[tuple[Rule, Import]]) -> str:
    return "\n".join(
        f"{imp.where}: {imp.source} imports {imp.target}: breaks '{rule.name}'"
        for rule, imp in broken
    )


def test_the_layering_rules_hold() -> None:
    broken = violations(APP)
    new = [(r, i) for r, i in broken if (r.name, i.source, i.target) not in KNOWN_EXCEPTIONS]
    assert not new, "imports against docs/architecture.md:\n" + _report(new)


def test_every_known_exception_still_occurs() -> None:
    seen = {(r.name, i.source, i.target) for r, i in violations(APP)}
    stale = sorted(set(KNOWN_EXCEPTIONS) - seen)
    assert not stale, f"no longer broken, remove from KNOWN_EXCEPTIONS: {stale}"


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize(
    ("relative", "text", "rule"),
    [
        ("runyard/store/file/bad.py", "import runyard.tracking.client\n", "stores never"),
        (
            "runyard/store/sql/bad.py",
            "def later():\n    from ...server import app\n",
            "stores never",
        ),
        ("runyard/search/bad.py", "from runyard import store\n", "search is pure"),
        ("runyard/tracking/bad.py", "from runyard.server.api import runs\n", "tracking never"),
        ("runyard/errors.py", "from .tracking import fluent\n", "foundation imports"),
    ],
)
def test_a_new_violation_is_named_with_its_file_line_and_rule(
    tmp_path: Path, relative: str, text: str, rule: str
) -> None:
    for package in (
        "runyard",
        "runyard/store",
        "runyard/store/file",
        "runyard/store/sql",
        "runyard/search",
        "runyard/tracking",
        "runyard/server",
        "runyard/server/api",
    ):
        _write(tmp_path, f"{package}/__init__.py", "")
    for module in ("tracking/client", "tracking/fluent", "server/app", "server/api/runs"):
        _write(tmp_path, f"runyard/{module}.py", "")
    _write(tmp_path, "runyard/errors.py", "")
    _write(tmp_path, "runyard/store/base.py", "from runyard import errors\n")
    assert violations(tmp_path) == []
    _write(tmp_path, relative, text)
    report = _report(violations(tmp_path))
    assert f"{relative}:{text.count(chr(10))}: " in report
    assert rule in report


def _server_modules_loaded_by(module: str) -> list[str]:
    code = (
        f"import sys, {module}\n"
        "print(sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('flask', 'werkzeug', 'gunicorn')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return ast.literal_eval(done.stdout.strip())


@pytest.mark.parametrize("module", sorted(FLASK_FREE))
def test_client_side_modules_import_without_flask(module: str) -> None:
    loaded = _server_modules_loaded_by(module)
    if FLASK_FREE[module] is None:
        assert loaded == [], f"import {module} loads {loaded}"
    else:  # a known exception: it must still be one, or it is to be removed from FLASK_FREE
        assert "flask" in loaded, f"{module} is Flask-free now: set FLASK_FREE[{module!r}] = None"


def _long_modules() -> dict[str, int]:
    sizes = {}
    for path in sorted((APP / "runyard").rglob("*.py")):
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES:
            sizes[str(path.relative_to(APP))] = lines
    return sizes


def test_no_module_is_over_500_lines() -> None:
    new = {name: n for name, n in _long_modules().items() if name not in LONG_MODULES}
    assert not new, f"modules over {MAX_LINES} lines (split them): {new}"


def test_every_long_module_exception_is_still_long() -> None:
    stale = sorted(set(LONG_MODULES) - set(_long_modules()))
    assert not stale, f"now at most {MAX_LINES} lines, remove from LONG_MODULES: {stale}"
