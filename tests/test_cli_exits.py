"""main()'s exits, in this process: each branch of its handler, and the usage errors of batches and chunks.

tests/test_cli_signals.py sends real signals to fresh interpreters (the launcher's path); these call
:func:`vqimage.cli.main` directly, so coverage sees every branch.
"""

import io
import json
import os
import signal
import sys
import time

import click
import numpy as np
import pytest
import tifffile
from PIL import Image

import vqimage
from vqimage import cli
from vqimage._validation import ConflictError
from vqimage.cli import main
from vqimage.targets import TargetError


def fail_with(monkeypatch, exc):
    """`vqimage info x.vq` raises ``exc`` where it reads the file."""

    def read(source):
        raise exc

    monkeypatch.setattr(cli, "_read_vq_bytes", read)


# --------------------------------------------------------------------------- the handler, branch by branch


@pytest.mark.parametrize(
    ("exc", "code", "err"),
    [
        (KeyboardInterrupt(), 130, "vqimage: interrupted\n"),
        (click.exceptions.Abort(), 130, "vqimage: interrupted\n"),
        (cli._Terminated(), 143, "vqimage: terminated\n"),
        (BrokenPipeError(32, "Broken pipe"), 1, ""),  # the reader went away: nothing to tell it
        (ConflictError("'n_levels' and 'palette' do not go together."), 2,
         "Error: -k/--levels and --palette do not go together.\n"),
        (ConflictError("'codebook' and 'max_error' conflict."), 2,
         "Error: --shared-codebook and --max-error conflict.\n"),
        (TargetError("The target (PSNR >= 99 dB) is out of reach.\n  Details."), 3,
         "vqimage: target not met: The target (PSNR >= 99 dB) is out of reach. Details.\n"),
        (RuntimeError("first line\n\n   second\tline  "), 1, "vqimage: error: first line second line\n"),
        (OSError(), 1, "vqimage: error: OSError\n"),  # no message: the exception's name
        (MemoryError(), 1, "vqimage: error: MemoryError\n"),
        (click.exceptions.Exit(7), 7, ""),
        (click.BadParameter("bad value"), 2, "Error: Invalid value: bad value\n"),
    ],
)
def test_each_exception_is_one_line_and_its_exit_code(monkeypatch, capsys, exc, code, err):
    fail_with(monkeypatch, exc)
    assert main(["info", "x.vq"]) == code
    captured = capsys.readouterr()
    assert captured.err.endswith(err) and captured.out == ""
    if isinstance(exc, click.UsageError):  # click's usage lines, then the error
        assert captured.err.startswith("Usage: vqimage info [OPTIONS] IN.vq\n")
    else:
        assert captured.err == err


def test_an_interrupt_on_a_terminal_starts_a_new_line(monkeypatch, capsys):
    fail_with(monkeypatch, KeyboardInterrupt())
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # the terminal echoed "^C" without a newline
    assert main(["info", "x.vq"]) == 130
    assert capsys.readouterr().err == "\nvqimage: interrupted\n"


def test_a_real_sigterm_in_process_runs_the_cleanups_and_exits_143(monkeypatch, capsys, tmp_path):
    """The handler run() installs turns SIGTERM into _Terminated where the program is; main() reports it."""
    cleaned = []

    def read(source):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler interrupts this at once
            return b""
        finally:
            cleaned.append(source)

    monkeypatch.setattr(cli, "_read_vq_bytes", read)
    previous = signal.signal(signal.SIGTERM, cli._terminate)
    try:
        started = time.monotonic()
        assert main(["info", str(tmp_path / "x.vq")]) == 143
        assert time.monotonic() - started < 4
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert cleaned == [str(tmp_path / "x.vq")]
    assert capsys.readouterr().err == "vqimage: terminated\n"


def test_vqimage_debug_empty_is_off(monkeypatch, capsys):
    monkeypatch.setenv("VQIMAGE_DEBUG", "")
    fail_with(monkeypatch, ValueError("bad data"))
    assert main(["info", "x.vq"]) == 1
    assert capsys.readouterr().err == "vqimage: error: bad data\n"


def test_vqimage_debug_raises_the_original_exception(monkeypatch, tmp_path):
    monkeypatch.setenv("VQIMAGE_DEBUG", "1")
    damaged = tmp_path / "x.vq"
    damaged.write_bytes(b"\x89VQI\r\n\x1a\n" + bytes(40))
    with pytest.raises(vqimage.VQError):
        main(["info", str(damaged)])


def test_run_installs_the_sigterm_handler_and_exits_with_mains_code(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["vqimage", "images"])
    previous = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit) as exited:
            cli.run()
        assert exited.value.code == 0 and signal.getsignal(signal.SIGTERM) is cli._terminate
    finally:
        signal.signal(signal.SIGTERM, previous)
    listed = capsys.readouterr().out.split()
    assert listed == list(vqimage.io.BUILTINS) and "camera" in listed


def test_a_broken_stdout_while_writing_the_output_is_exit_1_and_silent(monkeypatch, capsys, tmp_path):
    vq = tmp_path / "c.vq"
    assert main(["compress", "camera", "-k", "4", "-q", "-o", str(vq)]) == 0

    class Closed(io.RawIOBase):
        def write(self, data):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", type("Out", (), {"buffer": Closed()})())
    assert main(["decompress", str(vq), "-o", "-", "--format", "npy"]) == 1
    assert capsys.readouterr().err == ""


def test_decompress_json_reports_what_it_wrote(capsys, tmp_path, camera):
    vq, out = tmp_path / "c.vq", tmp_path / "c.png"
    assert main(["compress", "camera", "-k", "4", "-q", "-o", str(vq)]) == 0
    assert main(["decompress", str(vq), "-o", str(out), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record == {"input": str(vq), "shape": [512, 512], "n_levels": 4, "output": str(out), "format": "png",
                      "bytes": out.stat().st_size}
    cb = vqimage.fit(camera, 4)
    with Image.open(out) as written:
        np.testing.assert_array_equal(np.asarray(written.convert("L")), vqimage.decode(vqimage.encode(camera, cb), cb))


# --------------------------------------------------------------------------- batches and --shared-codebook


@pytest.fixture()
def grays(tmp_path):
    paths = []
    for i in range(2):
        path = tmp_path / f"g{i}.png"
        Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8) * (i + 2)).save(path)
        paths.append(str(path))
    return paths


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--target-psnr", "30"], ("Error: A shared codebook is fitted for all inputs: it needs -k/--levels and "
                                   "does not take targets, --palette or --importance.\n")),
        (["--max-error", "3"], ("Error: A shared codebook is fitted for all inputs: it needs -k/--levels and "
                                "does not take targets, --palette or --importance.\n")),
    ],
)
def test_shared_codebook_refuses_targets(grays, tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    assert main(["quantize", *grays, "-k", "4", "--shared-codebook", *extra, "-o", str(out)]) == 2
    assert capsys.readouterr().err == message  # a ConflictError: one line, no usage
    assert not out.exists()


def test_shared_codebook_refuses_a_palette(grays, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["quantize", *grays, "-p", "bw", "--shared-codebook", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: A shared codebook is fitted for all inputs: it needs -k/--levels") and \
        err.count("\n") == 1
    assert not out.exists()


def test_shared_codebook_of_one_input_still_writes_into_a_directory(capsys):
    assert main(["quantize", "camera", "-k", "4", "--shared-codebook", "-o", "-"]) == 2
    err = capsys.readouterr().err  # a click usage error: the usage lines, then this
    assert err.startswith("Usage: vqimage quantize") and \
        err.endswith("\nError: Several inputs write into a directory: -o OUTDIR, not '-'.\n")


def test_several_inputs_cannot_read_stdin(grays, tmp_path, capsys):
    assert main(["quantize", grays[0], "-", "-k", "4", "-o", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == "vqimage: error: Several inputs cannot include stdin ('-').\n"


def test_shared_codebook_verbose_names_each_failure_as_it_happens(grays, tmp_path, capsys):
    missing = str(tmp_path / "missing.png")
    out = tmp_path / "out"
    assert main(["quantize", *grays, missing, "-k", "4", "--shared-codebook", "-v", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count(f"{missing}: no such file.") == 2  # as it happened (-v) and in the summary
    assert f"\nfailed: {missing}: no such file.\n" in err  # the summary's line (test_error_paths: the -v one)
    assert sorted(p.name for p in out.iterdir()) == ["g0.png", "g1.png"]
    # One codebook for both: the levels of the sum of the two histograms.
    total = sum(vqimage.histogram(np.asarray(Image.open(p))) for p in grays)
    cb = vqimage.fit(total, 4)
    for path in grays:
        image = np.asarray(Image.open(path))
        with Image.open(out / os.path.basename(path)) as written:
            expected = vqimage.decode(vqimage.encode(image, cb), cb)
            np.testing.assert_array_equal(np.asarray(written.convert("L")), expected)


def test_a_note_shared_by_many_inputs_is_listed_once_with_a_count(tmp_path, capsys):
    rng = np.random.default_rng(0)
    paths = []
    for name in "abcd":
        path = tmp_path / f"{name}.tif"
        tifffile.imwrite(path, rng.integers(0, 65536, (8, 8, 3), dtype=np.uint16), photometric="rgb")
        paths.append(str(path))
    assert main(["quantize", *paths, "-k", "4", "-o", str(tmp_path / "out"), "--ext", ".png"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: ")]
    assert notes == [("note: 16-bit color reduced to 8 bits per channel (rounded) for an 8-bit palette: "
                      f"{paths[0]}, {paths[1]}, {paths[2]} and 1 more")]


# --------------------------------------------------------------------------- chunked processing


def test_chunked_processing_takes_one_input(grays, tmp_path, capsys):
    assert main(["quantize", *grays, "-k", "4", "--chunks", "4", "-o", str(tmp_path / "c.zarr")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Usage: vqimage quantize") and \
        err.endswith("\nError: Chunked processing (zarr, --chunks) takes one input.\n")


def test_chunked_processing_refuses_a_color_file(tmp_path, capsys):
    source, out = tmp_path / "rgb.tif", tmp_path / "a.zarr"
    tifffile.imwrite(source, np.zeros((16, 16, 3), np.uint8), photometric="rgb")
    assert main(["quantize", str(source), "-k", "4", "-o", str(out)]) == 1
    assert capsys.readouterr().err == f"vqimage: error: Chunked processing fits gray levels; {source} has 3 channels.\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rgb.tif"]  # nothing written


def test_chunks_need_a_zarr_output(tmp_path, capsys):
    assert main(["quantize", "camera", "-k", "4", "--chunks", "128", "-o", str(tmp_path / "c.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Usage: vqimage quantize") and \
        err.endswith("\nError: Chunked processing writes the codes to a zarr array: -o OUT.zarr.\n")
