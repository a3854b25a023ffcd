"""The architecture holds: stages import one way (import-linter), every module sits in a layer, the CLI stays thin."""

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import vqimage

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_import_contracts_are_kept():
    lint = Path(sys.executable).parent / "lint-imports"
    if not lint.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    done = subprocess.run([str(lint), "pyproject.toml", "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "broken" not in done.stdout.split("Contracts:")[-1].split(",")[0]


def _layers(package: str) -> list[set[str]]:
    """The layers of ``package``'s contract, top first, as sets of module names."""
    for contract in CONFIG["contracts"]:
        layers = [{name.strip().strip("()") for part in layer.split("|") for name in part.split(":")}
                  for layer in contract.get("layers", ())]
        if layers and next(iter(layers[0])).startswith(package + "."):
            return layers
    raise AssertionError(f"no layers contract for {package}")


def _layered(package: str) -> set[str]:
    return set().union(*_layers(package))


def test_every_module_is_in_a_layer():
    layered = _layered("vqimage")
    modules = {f"vqimage.{m.name}" for m in pkgutil.iter_modules(vqimage.__path__)}
    assert modules - layered == set(), "add new modules to a layer of [tool.importlinter] in pyproject.toml"
    assert layered - modules == set(), "the import contract names modules that do not exist"


def _layer_of(module: str, layers) -> int:
    return next(i for i, layer in enumerate(layers) if any(module == m or module.startswith(m + ".") for m in layer))


def test_compiled_kernels_import_only_what_lies_below():
    """import-linter does not read .pyx files: their imports (and cimports) are checked here."""
    layers = _layers("vqimage")
    kernels = sorted((ROOT / "src" / "vqimage").rglob("*.pyx"))
    assert kernels, "no compiled kernels found"
    for path in kernels:
        parts = path.relative_to(ROOT / "src").with_suffix("").parts
        module, package = ".".join(parts), ".".join(parts[:-1])
        own = _layer_of(module, layers)
        for line in path.read_text().splitlines():
            words = line.split()
            if len(words) < 2 or words[0] not in ("from", "import", "cimport"):
                continue
            target = words[1]
            if target.startswith("."):
                dots = len(target) - len(target.lstrip("."))
                base = package.rsplit(".", dots - 1)[0] if dots > 1 else package
                target = f"{base}.{target.lstrip('.')}".rstrip(".")
            if target.startswith("vqimage."):
                assert _layer_of(target, layers) >= own, f"{module} imports {target}, which lies above it"


def test_benchmarks_are_in_the_contract():
    layered = _layered("benchmarks")
    scripts = {f"benchmarks.{p.stem}" for p in (ROOT / "benchmarks").glob("*.py") if p.stem != "__init__"}
    assert scripts == layered


def test_no_module_imports_the_package_root():
    """``from vqimage import x`` inside the package would bypass the layers (the root imports every stage)."""
    offenders = []
    for path in (ROOT / "src" / "vqimage").rglob("*.py"):
        text = path.read_text()
        if "\nfrom vqimage import" in text or "\nimport vqimage\n" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_cli_is_thin():
    lines = (ROOT / "src" / "vqimage" / "cli.py").read_text().count("\n")
    assert lines <= 500, f"cli.py has {lines} lines: move the logic into the library"
