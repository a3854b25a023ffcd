"""The chunked pipeline equals the in-memory one; zarr outputs are complete or refused; clusters work."""

import numpy as np
import pytest

import vqimage
from vqimage import distributed as D
from vqimage._validation import VQError


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16])
@pytest.mark.parametrize("chunks", [(17, 23), (64, 64), (1, 200)])
def test_integer_images_are_bit_identical_to_memory(dtype, chunks):
    rng = np.random.default_rng(int(np.dtype(dtype).itemsize) * 7 + chunks[0])
    info = np.iinfo(dtype)
    image = np.clip(rng.normal((info.min + info.max) / 2, (info.max - info.min) / 8, (120, 200)), info.min,
                    info.max).astype(dtype)
    for strategy in ("optimal", "kmeans", "quantile", "uniform"):
        in_memory = vqimage.fit(image, 16, strategy=strategy)
        chunked = D.fit(image, 16, chunks=chunks, strategy=strategy)
        assert chunked == in_memory
    codes = D.encode(image, in_memory, chunks=chunks).compute()
    np.testing.assert_array_equal(codes, vqimage.encode(image, in_memory))
    np.testing.assert_array_equal(D.decode(codes, in_memory).compute(), vqimage.decode(codes, in_memory))


def test_float_images_are_binned_over_their_range():
    image = np.random.default_rng(1).random((90, 110)).astype(np.float32)
    chunked = D.fit(image, 8, chunks=(30, 40))
    in_memory = vqimage.fit(image, 8, bins=65536, data_range=(float(image.min()), float(image.max())))
    np.testing.assert_array_equal(chunked.edges, in_memory.edges)
    np.testing.assert_allclose(chunked.levels, in_memory.levels, rtol=1e-12)
    with pytest.raises(ValueError, match="applies to float arrays"):
        D.histogram(np.zeros((4, 4), np.uint8), bins=10)


def test_zarr_output_round_trip_and_safety(tmp_path, camera):
    target = tmp_path / "codes.zarr"
    cb = D.quantize_to_zarr(camera, target, 8, chunks=(100, 512))
    codes, again = D.read_codes(target)
    assert again == cb == vqimage.fit(camera, 8)
    np.testing.assert_array_equal(codes.compute(), vqimage.encode(camera, cb))
    assert [p.name for p in tmp_path.iterdir()] == ["codes.zarr"]  # no partial left behind
    with pytest.raises(FileExistsError, match="exists"):
        D.quantize_to_zarr(camera, target, 8)
    D.quantize_to_zarr(camera, target, 4, overwrite=True)
    assert D.read_codes(target)[1].n_levels == 4


def test_an_interrupted_output_does_not_look_complete(tmp_path, camera):
    import zarr

    partial = zarr.open_array(str(tmp_path / "x.zarr"), mode="w", shape=camera.shape, dtype=np.uint8)
    partial[:10] = 1  # a run killed midway: no codebook, no completion mark
    with pytest.raises(VQError, match="not a complete vqimage output"):
        D.read_codes(tmp_path / "x.zarr")


def test_tiled_tiff_and_zarr_inputs(tmp_path, camera):
    import tifffile
    import zarr

    tifffile.imwrite(tmp_path / "tiled.tif", camera, tile=(128, 128))
    darr = D.as_dask(tmp_path / "tiled.tif")
    assert darr.chunksize == (128, 128)
    assert D.fit(darr, 8) == vqimage.fit(camera, 8)
    zarr.open_array(str(tmp_path / "in.zarr"), mode="w", shape=camera.shape, chunks=(64, 64), dtype=np.uint8)[:] = camera
    assert D.fit(tmp_path / "in.zarr", 8) == vqimage.fit(camera, 8)
    with pytest.raises(FileNotFoundError, match="no such file"):
        D.as_dask(tmp_path / "missing.zarr")


def test_pipeline_through_a_local_cluster(camera):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, host="127.0.0.1", protocol="tcp",
                      dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        cb = D.fit(camera, 8, chunks=(128, 128), scheduler=address)
        assert cb == vqimage.fit(camera, 8)


def test_collections_with_a_shared_codebook(tmp_path, camera):
    from PIL import Image

    paths = []
    for i, crop in enumerate([camera[:100], camera[100:300], camera[300:]]):
        paths.append(tmp_path / f"p{i}.png")
        Image.fromarray(crop).save(paths[-1])
    (tmp_path / "bad.png").write_bytes(b"nope")
    from vqimage.batch import quantize_files

    records = quantize_files(paths + [tmp_path / "bad.png"], tmp_path / "out", 8, ext=".vq", scheduler="threads")
    assert [r["error"] is None for r in records] == [True, True, True, False]
    shared = vqimage.fit(camera, 8)
    records = quantize_files(paths, tmp_path / "shared", 8, ext=".vq", shared=True, scheduler="synchronous")
    for path, record in zip(paths, records):
        codes, codebook = vqimage.decompress((tmp_path / "shared" / f"{path.stem}.vq").read_bytes())
        assert codebook == shared and record["n_levels"] == 8


def test_cli_chunked_zarr(tmp_path, capsys, camera):
    import json

    import zarr

    from vqimage.cli import main

    source = zarr.open_array(str(tmp_path / "in.zarr"), mode="w", shape=camera.shape, chunks=(64, 512), dtype=np.uint8)
    source[:] = camera
    assert main(["quantize", str(tmp_path / "in.zarr"), "-k", "8", "-o", str(tmp_path / "out.zarr"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["chunks"] == [64, 512] and result["n_levels"] == 8
    codes, codebook = D.read_codes(tmp_path / "out.zarr")
    assert codebook == vqimage.fit(camera, 8)
    np.testing.assert_array_equal(codes.compute(), vqimage.encode(camera, codebook))
    assert main(["quantize", "camera", "-k", "4", "-o", str(tmp_path / "c.zarr"), "--chunks", "100x100"]) == 0
    assert D.read_codes(tmp_path / "c.zarr")[0].chunksize == (100, 100)
    assert main(["quantize", "camera", "-k", "4", "-o", str(tmp_path / "c.zarr")]) == 1
    assert "exists; use overwrite=True (--force)" in capsys.readouterr().err
    assert main(["quantize", "camera", "-k", "4", "-o", str(tmp_path / "c.png"), "--chunks", "64"]) == 2
    assert "-o OUT.zarr" in capsys.readouterr().err
    assert main(["quantize", "camera", "--target-psnr", "30", "-o", str(tmp_path / "t.zarr")]) == 2
    assert "does not take --target-psnr" in capsys.readouterr().err


def test_a_run_that_fails_midway_leaves_no_output(tmp_path, camera, monkeypatch):
    import dask.array as da

    def broken_store(*args, **kwargs):
        raise KeyboardInterrupt  # as if the run were killed while writing

    monkeypatch.setattr(da, "store", broken_store)
    with pytest.raises(KeyboardInterrupt):
        D.quantize_to_zarr(camera, tmp_path / "codes.zarr", 8)
    assert not (tmp_path / "codes.zarr").exists()
    with pytest.raises(VQError, match="not a complete vqimage output"):
        D.read_codes(tmp_path / "codes.zarr.partial")


def test_cli_against_a_cluster_address(tmp_path, capsys, camera):
    from distributed import LocalCluster

    from vqimage.cli import main

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, host="127.0.0.1", protocol="tcp",
                      dashboard_address=None) as cluster:
        argv = ["quantize", "camera", "-k", "8", "-o", str(tmp_path / "c.zarr"), "--scheduler",
                cluster.scheduler_address, "--chunks", "128"]
        assert main(argv) == 0, capsys.readouterr().err
    codes, codebook = D.read_codes(tmp_path / "c.zarr")
    assert codebook == vqimage.fit(camera, 8)
    np.testing.assert_array_equal(codes.compute(), vqimage.encode(camera, codebook))
