"""The house holds by itself: the lock is the dependency list, the layers import one way, no
cycles, ruff clean. Each check runs the project's own tools from the venv."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PACKAGES = ["common", "proto", "drivers", "edge", "central", "matcher", "hardware_sim", "limes"]


def run(*command: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_lock_matches_pyproject():
    # --offline: a lock that satisfies pyproject.toml needs no registry; one that does not fails either way.
    result = run(str(BIN / "uv"), "lock", "--check", "--offline")
    assert result.returncode == 0, result.stderr


def test_every_locked_file_has_a_hash():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    files = [(p["name"], f) for p in lock["package"] if "source" in p and "registry" in p["source"]
             for f in [*p.get("wheels", []), *([p["sdist"]] if "sdist" in p else [])]]
    assert files and all(f.get("hash", "").startswith("sha256:") for _, f in files)


def test_no_locked_package_takes_the_proto_import_name():
    # Google's proto-plus installs a top-level `proto`, the import name of Limes' gRPC contracts.
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    assert "proto-plus" not in {p["name"] for p in lock["package"]}


def test_a_hash_mismatch_fails_closed(tmp_path):
    """What ./limes runs (uv sync --locked) refuses a file whose hash is not the lock's."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "probe"\nversion = "0"\nrequires-python = ">=3.11"\n'
                                            'dependencies = ["six"]\n[tool.uv]\npackage = false\n')
    six = next(p for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"] if p["name"] == "six")
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text().replace(
        '"six"', f'"six=={six["version"]}"'))
    locked = run(str(BIN / "uv"), "lock", "--offline", cwd=project)
    assert locked.returncode == 0, locked.stderr
    lock = (project / "uv.lock").read_text()
    real = six["wheels"][0]["hash"]
    assert real in lock
    (project / "uv.lock").write_text(lock.replace(real, "sha256:" + "0" * 64))
    synced = run(str(BIN / "uv"), "sync", "--locked", "--offline", "--python", sys.executable, cwd=project)
    assert synced.returncode != 0
    assert "hash" in synced.stderr.lower(), synced.stderr
    assert not (project / ".venv" / "lib" / "python3.11" / "site-packages" / "six.py").exists()


def test_ruff_is_clean():
    result = run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_import_contracts_hold():
    """docs/ARCHITECTURE.md's "may import" table, as contracts in pyproject.toml."""
    result = run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_import_cycles():
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    cycles = strongly_connected(graph)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in cycles)


def strongly_connected(graph) -> list[set[str]]:
    """Tarjan's strongly connected components of more than one module, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.z", imported="a.x")
    assert strongly_connected(graph) == [{"a.x", "a.y"}]


def test_pyproject_is_the_one_dependency_list():
    """No requirements file beside the lock that could drift from it."""
    tracked = run("git", "ls-files").stdout.split()
    assert not [f for f in tracked if Path(f).name.startswith("requirements") or f.endswith(("Pipfile", "poetry.lock"))]
