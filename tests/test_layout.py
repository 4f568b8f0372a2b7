"""The import direction objectives -> hpo -> acquisitions, explicit __all__, nothing at import."""

import ast
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _imports(path: pathlib.Path) -> list[tuple[str, bool]]:
    """(module, at_top_level) for every import in the file."""
    tree = ast.parse(path.read_text())
    top = set(map(id, tree.body))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, id(node) in top))
    return out


def _files(package: str):
    return sorted((ROOT / package).rglob("*.py"))


def test_acquisitions_import_nothing_from_the_project():
    for path in _files("acquisitions"):
        for module, _ in _imports(path):
            assert module.split(".")[0] not in ("hpo", "objectives"), (path, module)


def test_hpo_imports_objectives_only_lazily_in_the_cli():
    for path in _files("hpo"):
        for module, top in _imports(path):
            if module.split(".")[0] == "objectives":
                assert path.name == "cli.py" and not top, (path, module)


def test_objectives_use_only_the_public_api():
    for path in _files("objectives"):
        for module, _ in _imports(path):
            assert module.split(".")[0] != "acquisitions", (path, module)
            assert module == "hpo" or not module.startswith("hpo"), (path, module)


def test_every_module_declares_all():
    for package in ("hpo", "acquisitions", "objectives"):
        for path in _files(package):
            if path.name == "__init__.py" and not path.read_text().strip():
                continue
            tree = ast.parse(path.read_text())
            names = [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)]
            assert "__all__" in names, path


def test_import_changes_no_global_state_and_loads_nothing_heavy():
    code = (
        # third-party modules add their own warning filters at import; compare after them
        "import sys, torch, warnings, scipy.stats, scipy.special, optuna, botorch.optim.optimize_mixed; "
        "before = (torch.get_default_dtype(), torch.get_num_threads(), "
        "len(warnings.filters)); import hpo; "
        "after = (torch.get_default_dtype(), torch.get_num_threads(), len(warnings.filters)); "
        "assert before == after, (before, after); "
        "assert not any(m in sys.modules for m in ('matplotlib', 'transformers')), 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
