"""Part 9: the command line as users meet it, whole processes against pngquant.

A web developer runs one command per file; what they wait for is the whole
process: interpreter start, imports, reading, fitting, writing. So every time
here is a separate process, measured from outside (``time.perf_counter``
around ``subprocess.run``), with default settings for every tool:

- ``vqimage quantize IN -k K -o OUT --force`` (it prints its one-line summary);
- pngquant 3 (libimagequant 4, Rust; ``pip install pngquant-cli``, a GPL
  binary, so a benchmark extra only): ``pngquant K --force -o OUT IN``;
- Debian's pngquant 2.17 (``/usr/bin/pngquant``), the same arguments;
- the floor of any Python tool: ``python -c "import numpy, PIL.Image"``.

Images: scikit-image's astronaut (512x512) at 64 colors, and scipy's raccoon
face in color, upscaled 2x with Lanczos (1536x2048, 3.1 MP, 0.5 M distinct
colors) at 256 colors. Runs are interleaved (one of each command per round),
so that load from other processes hits all alike; medians and bests.

It also times the imports (``import vqimage``, ``vqimage --help``), and the
first run after installing: a wheel built by ``pip wheel .`` is installed
into a new venv, and its first ``vqimage quantize`` is timed against the
runs that follow (no compiler and no JIT are involved at run time; the venv
is checked to hold no numba).

Run by ``python -m benchmarks.run`` (part 9); :func:`bench_cli` returns its section and goals.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import fmt_s, status, table

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PNGQUANT_3 = BIN / "pngquant"
PNGQUANT_2 = Path("/usr/bin/pngquant")
CASES = (("astronaut", 64), ("face 2x", 256))


def make_images(folder: Path) -> dict[str, Path]:
    """The two test images as PNG files (what users hand the tools)."""
    from PIL import Image
    from skimage import data

    import vqimage

    paths = {"astronaut": folder / "astronaut.png", "face 2x": folder / "face2x.png"}
    Image.fromarray(data.astronaut()).save(paths["astronaut"])
    face = Image.fromarray(vqimage.load_image("face_color", gray=False))
    face.resize((2 * face.width, 2 * face.height), Image.LANCZOS).save(paths["face 2x"])
    return paths


def run_once(argv: list[str], env=None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "not found"


def psnr_of(reference: Path, output: Path) -> float:
    """RGB PSNR of an output PNG against its input (both decoded by Pillow)."""
    from PIL import Image

    a = np.asarray(Image.open(reference).convert("RGB"), np.float64)
    b = np.asarray(Image.open(output).convert("RGB"), np.float64)
    error = np.mean((a - b) ** 2)
    return float("inf") if error == 0 else float(10 * np.log10(255.0**2 / error))


def interleaved(commands: dict[str, list[str]], rounds: int) -> dict[str, list[float]]:
    """Each command once per round (one untimed round first: the files' pages into the cache)."""
    for argv in commands.values():
        run_once(argv)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, argv in commands.items():
            times[name].append(run_once(argv))
    return times


def bench_tools(paths, tmp: Path, rounds: int, log):
    """Whole-process times of vqimage, pngquant 3, pngquant 2.17 and the bare interpreter."""
    python, exe = sys.executable, str(BIN / "vqimage")
    rows, measured = [], {}
    for name, k in CASES:
        src = str(paths[name])
        commands = {
            "vqimage": [exe, "quantize", src, "-k", str(k), "-o", str(tmp / f"vq-{k}.png"), "--force"],
            "pngquant 3": [str(PNGQUANT_3), str(k), "--force", "-o", str(tmp / f"pq3-{k}.png"), src],
            "pngquant 2.17": [str(PNGQUANT_2), str(k), "--force", "-o", str(tmp / f"pq2-{k}.png"), src],
            "python + numpy + Pillow": [python, "-c", "import numpy, PIL.Image"],
        }
        commands = {tool: argv for tool, argv in commands.items() if Path(argv[0]).exists()}
        times = interleaved(commands, rounds)
        median = {tool: statistics.median(t) for tool, t in times.items()}
        measured[name] = median
        for tool, t in times.items():
            out = {"vqimage": "vq", "pngquant 3": "pq3", "pngquant 2.17": "pq2"}.get(tool)
            size = psnr = ""
            if out:
                file = tmp / f"{out}-{k}.png"
                size, psnr = f"{file.stat().st_size:,}", f"{psnr_of(paths[name], file):.2f}"
            rows.append([name, str(k), tool, fmt_s(median[tool]), fmt_s(min(t)),
                         f"{median[tool] / median.get('pngquant 3', float('nan')):.2f}", size, psnr])
        log(f"part 9: {name} done")
    return rows, measured


def bench_imports(rounds: int):
    """Whole processes: the interpreter alone, with numpy and Pillow, with vqimage, the CLI's --help."""
    python = sys.executable
    commands = {
        "`python -c pass`": [python, "-c", "pass"],
        "`python -c \"import numpy, PIL.Image\"`": [python, "-c", "import numpy, PIL.Image"],
        "`python -c \"import vqimage\"`": [python, "-c", "import vqimage"],
        "`vqimage --help`": [str(BIN / "vqimage"), "--help"],
    }
    times = interleaved(commands, rounds)
    inside = subprocess.run(
        [python, "-c", "import time; t = time.perf_counter(); import vqimage; a = time.perf_counter();"
         " import vqimage.cli; print(a - t, time.perf_counter() - t)"],
        capture_output=True, text=True, check=True).stdout.split()
    rows = [[name, fmt_s(statistics.median(t)), fmt_s(min(t))] for name, t in times.items()]
    return rows, (float(inside[0]), float(inside[1]))


def bench_first_run(paths, tmp: Path, rounds: int, log):
    """Build a wheel, install it into a new venv, time its first CLI run against the next ones."""
    wheels, venv = tmp / "wheels", tmp / "venv"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-w", str(wheels), "-q"],
                   check=True, capture_output=True)
    built = time.perf_counter() - start
    wheel = next(wheels.glob("vqimage-*.whl"))
    log(f"part 9: wheel built in {built:.0f} s")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    start = time.perf_counter()
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], check=True,
                   capture_output=True)
    installed = time.perf_counter() - start
    numba = subprocess.run([str(venv / "bin" / "python"), "-c", "import importlib.util as u;"
                            "print(u.find_spec('numba') is not None or u.find_spec('llvmlite') is not None)"],
                           capture_output=True, text=True, check=True).stdout.strip()
    # No compiler reachable at run time: PATH holds the venv only.
    env = {"PATH": str(venv / "bin"), "HOME": os.environ.get("HOME", str(tmp)), "LANG": "C.UTF-8"}
    argv = [str(venv / "bin" / "vqimage"), "quantize", str(paths["astronaut"]), "-k", "64", "-o",
            str(tmp / "first.png"), "--force"]
    first = run_once(argv, env)
    later = [run_once(argv, env) for _ in range(rounds)]
    return {"wheel": wheel.name, "wheel_mb": wheel.stat().st_size / 1e6, "built": built, "installed": installed,
            "numba": numba == "True", "first": first, "later": statistics.median(later)}


def bench_cli(args, log):
    """Return (markdown section, goal rows)."""
    rounds = 3 if args.quick else 9
    with tempfile.TemporaryDirectory(prefix="vqimage-cli-") as name:
        tmp = Path(name)
        paths = make_images(tmp)
        rows, measured = bench_tools(paths, tmp, rounds, log)
        import_rows, (import_lib, import_cli) = bench_imports(rounds)
        log("part 9: imports done")
        fresh = bench_first_run(paths, tmp, 3 if args.quick else 5, log)
        shutil.rmtree(tmp / "venv", ignore_errors=True)
    small, big = measured["astronaut"], measured["face 2x"]
    bare = small["python + numpy + Pillow"]
    first_ratio = fresh["first"] / fresh["later"]
    goals = [
        ["CLI: first run after `pip install` of the wheel, vs later runs", "<= 1.5x",
         f"{first_ratio:.2f}x ({fmt_s(fresh['first'])} vs {fmt_s(fresh['later'])})", status(first_ratio <= 1.5)],
        ["CLI: astronaut 64 colors vs `python -c \"import numpy, PIL.Image\"`", "<= 1.6x",
         f"{small['vqimage'] / bare:.2f}x ({fmt_s(small['vqimage'])} vs {fmt_s(bare)})",
         status(small["vqimage"] / bare <= 1.6)],
        ["CLI: astronaut 64 colors vs pngquant 3", "<= 2.5x",
         f"{small['vqimage'] / small['pngquant 3']:.2f}x", status(small["vqimage"] / small["pngquant 3"] <= 2.5)],
        ["CLI: 3.1 MP photo, 256 colors, vs pngquant 3", "<= 0.7x",
         f"{big['vqimage'] / big['pngquant 3']:.2f}x ({fmt_s(big['vqimage'])} vs {fmt_s(big['pngquant 3'])})",
         status(big["vqimage"] / big["pngquant 3"] <= 0.7)],
        ["no numba or llvmlite in a fresh install", "none", "none" if not fresh["numba"] else "found",
         status(not fresh["numba"])],
    ]
    section = "\n".join([
        "## 9. The command line as users run it: whole processes against pngquant",
        "",
        f"Versions: pngquant 3 = `{version([str(PNGQUANT_3), '--version'])}` (pip `pngquant-cli`), "
        f"pngquant 2.17 = `{version([str(PNGQUANT_2), '--version'])}` (Debian). Default settings for every tool "
        "(both dither by default; vqimage fits and dithers in Oklab, and prints its one-line summary). Each time is a "
        f"whole process, median and best of {rounds} interleaved rounds; the ratio is to pngquant 3's median. "
        "PSNR: RGB, of the written PNG against the input. astronaut: scikit-image's 512x512; face 2x: scipy's "
        "raccoon face in color upscaled 2x with Lanczos (1536x2048, 3.1 MP).",
        "",
        table(["image", "k", "command", "median", "best", "vs pngquant 3", "bytes", "PSNR dB"], rows,
              "lrlrrrrr"),
        "",
        f"Imports, whole processes (median, best of {rounds}); inside one process `import vqimage` took "
        f"{fmt_s(import_lib)} and `import vqimage.cli` {fmt_s(import_cli)} in all (numpy included):",
        "",
        table(["command", "median", "best"], import_rows, "lrr"),
        "",
        f"First run after installing: `pip wheel .` built {fresh['wheel']} ({fresh['wheel_mb']:.1f} MB, "
        f"compiled kernels, {fresh['built']:.0f} s), `pip install` of it into a new venv took "
        f"{fresh['installed']:.0f} s. With PATH holding only the venv (no compiler), the first "
        f"`vqimage quantize astronaut.png -k 64` took {fmt_s(fresh['first'])}, the later ones "
        f"{fmt_s(fresh['later'])} (median): {first_ratio:.2f}x. numba or llvmlite in the venv: "
        f"{'yes' if fresh['numba'] else 'no'}.",
    ])
    return section, goals
