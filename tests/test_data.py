"""Tests of nnetlib.data: MNIST loading, verification, pooch downloads, batching.

Real-data tests read the files named by NNETLIB_DATA (CI: ../shared/mnist) and
are skipped with a reason when it is unset. Damage tests build their own files
in tmp_path. No test touches the network or the user's ~/.cache: every test
runs with XDG_CACHE_HOME in a temporary folder and a pooch downloader that fails.
"""

import gzip
import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pooch
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from nnetlib import data
from nnetlib.__main__ import main as cli

_real_http = data._http  # the isolated fixture replaces it by one that fails

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
NAMES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------


def _no_network(url, output_file, fetcher):
    raise requests.ConnectionError("network disabled in tests")


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory):
    """A cache folder shared by the tests of this module (holds the decompressed copies)."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def isolated(monkeypatch, module_cache):
    """No network, no user cache, no inherited NNETLIB_DATA (real_dir reads it first),
    and no arrays kept in memory by an earlier test (so each test sees its own loads)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(module_cache))
    monkeypatch.setattr(data, "_memory_cache", {})
    monkeypatch.setattr(data, "_http", _no_network)
    monkeypatch.setenv("NNETLIB_PROGRESS", "0")


@pytest.fixture(scope="module")
def real_dir():
    env = os.environ.get("NNETLIB_DATA")
    if not env:
        pytest.skip(
            "NNETLIB_DATA is not set; point it at a folder holding the four "
            "MNIST IDX files (CI uses ../shared/mnist)"
        )
    folder = Path(env)
    missing = [
        n for n in NAMES if not (folder / (n + ".gz")).is_file() and not (folder / n).is_file()
    ]
    if missing:
        pytest.skip(f"NNETLIB_DATA={env} lacks {', '.join(missing)}")
    return folder


def _raw_bytes(real_dir, name):
    gz, raw = real_dir / (name + ".gz"), real_dir / name
    return gzip.decompress(gz.read_bytes()) if gz.is_file() else raw.read_bytes()


@pytest.fixture()
def raw_test_copy(real_dir, tmp_path):
    """Good raw (uncompressed) copies of the test split in a fresh folder."""
    folder = tmp_path / "raw"
    folder.mkdir()
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (folder / name).write_bytes(_raw_bytes(real_dir, name))
    return folder


def _header(magic, count, dims=(28, 28)):
    out = magic.to_bytes(4, "big") + count.to_bytes(4, "big")
    if magic == 2051:
        out += b"".join(d.to_bytes(4, "big") for d in dims)
    return out


def _fake_images(count=10000, magic=2051, dims=(28, 28)):
    """Header-valid test-split images with the wrong content (all zeros)."""
    return _header(magic, count, dims) + bytes(count * 28 * 28)


# --------------------------------------------------------------------------
# the real data
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "split,n,counts,first",
    [
        ("train", 60000, TRAIN_COUNTS, 5),
        ("test", 10000, TEST_COUNTS, 7),
    ],
)
def test_real_split(real_dir, split, n, counts, first):
    images, labels = data.load_mnist(split, data_dir=real_dir)
    assert images.shape == (n, 784) and images.dtype == np.float32
    assert labels.shape == (n,) and labels.dtype == np.uint8
    assert images.min() == 0.0 and images.max() == 1.0
    assert np.bincount(labels, minlength=10).tolist() == counts
    assert labels[0] == first
    # pixel values are exactly k/255
    k = images[0] * np.float32(255)
    assert np.array_equal(k, np.round(k))


def test_real_arrays_are_read_only(real_dir):
    images, labels = data.load_mnist("test", data_dir=real_dir)
    assert not images.flags.writeable and not labels.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        images[0, 0] = 0.5


def test_nnetlib_data_env_is_read_at_call_time(real_dir, monkeypatch):
    monkeypatch.setenv("NNETLIB_DATA", str(real_dir))
    paths = data.find_mnist("test")
    assert all(p.parent == real_dir for p in paths.values())
    images, _ = data.load_mnist("test")
    assert images.shape == (10000, 784)


def _copies(split_name):
    return sorted((data.cache_dir() / "decompressed").glob(f"{split_name}.*"))


def test_second_load_returns_the_same_arrays(real_dir):
    first = data.load_mnist("test", data_dir=real_dir)
    again = data.load_mnist("test", data_dir=real_dir)
    assert again[0] is first[0] and again[1] is first[1]


def test_gz_is_decompressed_by_pooch_into_a_verified_copy(real_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    data._memory_cache.clear()
    gz = real_dir / "t10k-labels-idx1-ubyte.gz"
    if not gz.is_file():
        pytest.skip("NNETLIB_DATA holds raw files, not .gz")
    calls = []
    real_call = pooch.Decompress.__call__

    def spy(self, fname, action, fetcher):
        calls.append(Path(fname).name)
        return real_call(self, fname, action, fetcher)

    monkeypatch.setattr(pooch.Decompress, "__call__", spy)
    data.load_mnist("test", data_dir=real_dir)
    assert sorted(calls) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    (copy,) = _copies("t10k-labels-idx1-ubyte")
    assert copy.name.endswith(hashlib.sha256(gz.read_bytes()).hexdigest()[:16])
    assert copy.read_bytes() == gzip.decompress(gz.read_bytes())
    assert not list(copy.parent.glob(".*"))  # no temporary file left


def test_decompressed_copy_skips_gunzip(real_dir, monkeypatch):
    if not (real_dir / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("NNETLIB_DATA holds raw files, not .gz")
    data.load_mnist("test", data_dir=real_dir)
    data._memory_cache.clear()

    def boom(*a, **k):
        raise AssertionError("gunzip despite the decompressed copy")

    monkeypatch.setattr(pooch.Decompress, "__call__", boom)
    _, labels = data.load_mnist("test", data_dir=real_dir)
    assert labels[0] == 7


def test_damaged_decompressed_copy_is_rebuilt(real_dir, module_cache):
    if not (real_dir / "t10k-labels-idx1-ubyte.gz").is_file():
        pytest.skip("NNETLIB_DATA holds raw files, not .gz")
    data.load_mnist("test", data_dir=real_dir)
    (copy,) = _copies("t10k-labels-idx1-ubyte")
    assert copy.is_relative_to(module_cache)
    blob = bytearray(copy.read_bytes())
    blob[50] ^= 0x01  # header still valid, content not
    copy.write_bytes(bytes(blob))
    data._memory_cache.clear()
    _, labels = data.load_mnist("test", data_dir=real_dir)
    assert np.bincount(labels, minlength=10).tolist() == TEST_COUNTS
    assert copy.read_bytes() == gzip.decompress(
        (real_dir / (copy.name.split(".")[0] + ".gz")).read_bytes()
    )


def test_interrupted_decompression_leaves_no_file(real_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    data._memory_cache.clear()
    if not (real_dir / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("NNETLIB_DATA holds raw files, not .gz")

    def interrupted(self, fname, action, fetcher):
        Path(self.name).write_bytes(b"partial")
        raise KeyboardInterrupt("Ctrl-C during gunzip")

    monkeypatch.setattr(pooch.Decompress, "__call__", interrupted)
    with pytest.raises(KeyboardInterrupt, match="Ctrl-C during gunzip"):
        data.load_mnist("test", data_dir=real_dir)
    assert list((tmp_path / "xdg" / "nnetlib" / "decompressed").iterdir()) == []


def test_unwritable_cache_still_loads(real_dir, monkeypatch, tmp_path):
    """A cache that cannot be written (here: its parent is a file) is no reason to fail."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    data._memory_cache.clear()
    _, labels = data.load_mnist("test", data_dir=real_dir)
    assert np.bincount(labels, minlength=10).tolist() == TEST_COUNTS
    assert blocker.is_file()


def test_images_are_exactly_bytes_over_255(real_dir):
    """The same float32 values as pixels.astype(float32) / float32(255), bit for bit."""
    images, _ = data.load_mnist("test", data_dir=real_dir)
    pixels = np.frombuffer(_raw_bytes(real_dir, "t10k-images-idx3-ubyte"), np.uint8, offset=16)
    expected = pixels.reshape(-1, 784).astype(np.float32) / np.float32(255)
    assert images.tobytes() == expected.tobytes()


def test_fresh_process_reads_the_copies(real_dir, module_cache):
    """A new process finds the verified copies: no gunzip, both splits load."""
    for split in ("train", "test"):
        data.load_mnist(split, data_dir=real_dir)
    code = textwrap.dedent(f"""
        import pooch
        import nnetlib.data as mod
        def boom(*a, **k):
            raise AssertionError("gunzip in a fresh process despite the copies")
        pooch.Decompress.__call__ = boom
        for split in ("train", "test"):
            print(split, mod.load_mnist(split, data_dir={str(real_dir)!r})[1][:3].tolist())
    """)
    env = dict(os.environ, XDG_CACHE_HOME=str(module_cache))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert out.split("\n")[:2] == ["train [5, 0, 4]", "test [7, 2, 1]"]


def test_raw_copies_work(raw_test_copy):
    images, labels = data.load_mnist("test", data_dir=raw_test_copy)
    assert images.shape == (10000, 784)
    assert np.bincount(labels, minlength=10).tolist() == TEST_COUNTS


def test_mnist_task(real_dir):
    (xtr, ytr), (xte, yte) = data.mnist_task("classifier", data_dir=real_dir)
    assert xtr.shape == (60000, 784) and ytr.shape == (60000,)
    assert xte.shape == (10000, 784) and yte.dtype == np.uint8
    (atr, ttr), (ate, tte) = data.mnist_task("autoencoder", dtype="float64", data_dir=real_dir)
    assert atr.dtype == np.float64 and ttr is atr and tte is ate
    assert np.array_equal(ate, xte.astype(np.float64))
    with pytest.raises(ValueError, match="regression"):
        data.mnist_task("regression", data_dir=real_dir)


def test_main_prints_locations(real_dir, monkeypatch, capsys):
    monkeypatch.setenv("NNETLIB_DATA", str(real_dir))
    assert cli(["data"]) == 0
    out = capsys.readouterr().out
    assert "(60000, 784)" in out and "(10000, 784)" in out and str(real_dir) in out
    assert out.count("sha256 verified") == 2


def test_main_says_how_to_get_missing_files(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NNETLIB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert cli(["data", "--no-download"]) == 1
    err = capsys.readouterr().err
    assert "Set NNETLIB_DATA" in err and "Downloading was disabled" in err


# --------------------------------------------------------------------------
# damaged files
# --------------------------------------------------------------------------


def test_unknown_split():
    with pytest.raises(ValueError, match="'validation'"):
        data.load_mnist("validation")


def _expect_damage(folder, path, *phrases):
    with pytest.raises(ValueError, match="ubyte") as err:
        data.load_mnist("test", data_dir=folder)
    msg = str(err.value)
    assert str(path) in msg
    for phrase in phrases:
        assert phrase in msg, msg


def test_truncated_gz(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    blob = gzip.compress(_fake_images(), compresslevel=1)
    path.write_bytes(blob[: len(blob) // 2])
    _expect_damage(tmp_path, path, "truncated")


def test_garbage_gz(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(os.urandom(5000))
    _expect_damage(tmp_path, path, "not a gzip file")


def test_garbage_raw_is_bad_magic(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(b"\x12\x34\x56\x78" + os.urandom(5000))
    _expect_damage(tmp_path, path, "bad magic number")


def test_labels_magic_in_images_file(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(_fake_images(magic=2049))
    _expect_damage(tmp_path, path, "bad magic number", "2049")


def test_wrong_count(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_fake_images(count=9999), compresslevel=1))
    _expect_damage(tmp_path, path, "item count 9999")


def test_wrong_dims(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(_fake_images(dims=(32, 32)))
    _expect_damage(tmp_path, path, "32x32")


def test_truncated_raw(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(_fake_images()[:-1])
    _expect_damage(tmp_path, path, "truncated")


def test_trailing_bytes(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(_fake_images() + b"\0")
    _expect_damage(tmp_path, path, "wrong length")


def test_header_valid_wrong_content_is_checksum_mismatch(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_fake_images(), compresslevel=1))
    _expect_damage(tmp_path, path, "checksum mismatch")


def test_flipped_byte_in_raw_copy(raw_test_copy):
    path = raw_test_copy / "t10k-labels-idx1-ubyte"
    blob = bytearray(path.read_bytes())
    blob[100] ^= 0x01
    path.write_bytes(bytes(blob))
    _expect_damage(raw_test_copy, path, "checksum mismatch")


def test_flipped_byte_in_gz_copy(raw_test_copy):
    path = raw_test_copy / "t10k-labels-idx1-ubyte"
    blob = bytearray(gzip.compress(path.read_bytes()))
    path.unlink()
    blob[len(blob) // 2] ^= 0xFF
    gz = raw_test_copy / "t10k-labels-idx1-ubyte.gz"
    gz.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="gzip|checksum") as err:
        data.load_mnist("test", data_dir=raw_test_copy)
    assert str(gz) in str(err.value)


def test_damaged_file_first_in_search_order_is_not_skipped(raw_test_copy, tmp_path, monkeypatch):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "t10k-images-idx3-ubyte").write_bytes(b"junk")
    monkeypatch.setenv("NNETLIB_DATA", str(raw_test_copy))
    with pytest.raises(ValueError, match="truncated"):
        data.load_mnist("test", data_dir=bad)


# --------------------------------------------------------------------------
# missing files and downloads
# --------------------------------------------------------------------------


def test_missing_everywhere_lists_every_place(tmp_path, monkeypatch):
    given_dir, env_dir, cache = tmp_path / "given", tmp_path / "env", tmp_path / "cache"
    given_dir.mkdir()
    env_dir.mkdir()
    monkeypatch.setenv("NNETLIB_DATA", str(env_dir))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte") as err:
        data.load_mnist("train", data_dir=given_dir)
    assert isinstance(err.value, data.MNISTNotFoundError)
    msg = str(err.value)
    for place in (given_dir, env_dir, cache / "nnetlib"):
        assert str(place) in msg, msg
    for mirror in data.MIRRORS:
        assert mirror in msg
    assert "NNETLIB_DATA" in msg and "network disabled" in msg
    assert "t10k-labels-idx1-ubyte.gz" in msg  # names every file to put there


def test_missing_with_nnetlib_data_unset(tmp_path, monkeypatch):
    monkeypatch.delenv("NNETLIB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match="NNETLIB_DATA: not set"):
        data.load_mnist("test")


def _empty_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("NNETLIB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "nnetlib"


@pytest.mark.parametrize(
    "fail",
    [KeyboardInterrupt("Ctrl-C during download"), requests.ConnectionError("connection reset")],
)
def test_interrupted_download_leaves_no_file(tmp_path, monkeypatch, fail):
    cache = _empty_cache(monkeypatch, tmp_path)
    urls = []

    def downloader(url, output_file, fetcher):
        urls.append(url)
        Path(output_file).write_bytes(gzip.compress(_fake_images(), compresslevel=1)[:20000])
        raise fail

    monkeypatch.setattr(data, "_http", downloader)
    expected = KeyboardInterrupt if isinstance(fail, KeyboardInterrupt) else FileNotFoundError
    with pytest.raises(expected, match=str(fail)):  # the cause is named
        data.load_mnist("test")
    assert list(cache.iterdir()) == []
    # an interrupt stops at once; a network error tries every mirror
    assert len(urls) == (1 if expected is KeyboardInterrupt else len(data.MIRRORS))


def test_download_of_bad_content_is_rejected(tmp_path, monkeypatch):
    cache = _empty_cache(monkeypatch, tmp_path)
    monkeypatch.setattr(
        data,
        "_http",
        lambda url, out, fetcher: Path(out).write_bytes(
            gzip.compress(_fake_images(), compresslevel=1)
        ),
    )
    with pytest.raises(FileNotFoundError, match="does not match the known hash"):
        data.load_mnist("test")
    assert list(cache.iterdir()) == []


def test_download_into_cache(real_dir, tmp_path, monkeypatch):
    cache = _empty_cache(monkeypatch, tmp_path)
    served = []
    payload = {n: gzip.compress(_raw_bytes(real_dir, n), compresslevel=1) for n in NAMES[2:]}
    for name, blob in payload.items():  # the registry of what this fake mirror serves
        monkeypatch.setitem(data.REGISTRY, name + ".gz", hashlib.sha256(blob).hexdigest())

    def downloader(url, output_file, fetcher):
        served.append(url)
        if len(served) == 1:
            raise requests.ConnectionError("first mirror down")
        Path(output_file).write_bytes(payload[url.rsplit("/", 1)[1][:-3]])

    monkeypatch.setattr(data, "_http", downloader)
    images, labels = data.load_mnist("test")
    assert labels[0] == 7 and images.shape == (10000, 784)
    assert served[0].startswith(data.MIRRORS[0]) and served[1].startswith(data.MIRRORS[1])
    assert sorted(p.name for p in cache.iterdir()) == [
        "decompressed",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]
    # now found in the cache: no further download
    served.clear()
    data._memory_cache.clear()
    data.load_mnist("test")
    assert served == []


def test_download_over_http_with_pooch(real_dir, tmp_path, monkeypatch):
    """The real downloader (pooch's HTTPDownloader) against a local HTTP mirror."""
    import functools
    import http.server
    import threading

    cache = _empty_cache(monkeypatch, tmp_path)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in NAMES[2:]:
        blob = gzip.compress(_raw_bytes(real_dir, name), compresslevel=1)
        (mirror / f"{name}.gz").write_bytes(blob)
        monkeypatch.setitem(data.REGISTRY, name + ".gz", hashlib.sha256(blob).hexdigest())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(mirror))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(data, "_http", _real_http)
        monkeypatch.setattr(data, "MIRRORS", [f"http://127.0.0.1:{server.server_port}/"])
        _, labels = data.load_mnist("test")
    finally:
        server.shutdown()
        server.server_close()
    assert np.bincount(labels, minlength=10).tolist() == TEST_COUNTS
    assert (cache / "t10k-images-idx3-ubyte.gz").read_bytes() == (
        mirror / "t10k-images-idx3-ubyte.gz"
    ).read_bytes()


# --------------------------------------------------------------------------
# batches and one_hot
# --------------------------------------------------------------------------


def test_batches_sizes_and_order():
    x = np.arange(23 * 2).reshape(23, 2)
    t = np.arange(23)
    got = list(data.batches(x, t, 5))
    assert [len(tb) for _, tb in got] == [5, 5, 5, 5, 3]
    assert np.array_equal(np.concatenate([tb for _, tb in got]), t)
    for xb, tb in got:
        assert np.array_equal(xb[:, 0] // 2, tb)


def test_batches_larger_than_data():
    got = list(data.batches(np.zeros((3, 4)), np.zeros(3), 10))
    assert len(got) == 1 and got[0][0].shape == (3, 4)


def test_batches_empty():
    assert list(data.batches(np.zeros((0, 4)), np.zeros(0), 10)) == []


def test_batches_seeded_shuffle():
    x = np.arange(100)
    t = -np.arange(100)
    a = [tb.copy() for _, tb in data.batches(x, t, 32, shuffle=True, seed=3)]
    b = [tb.copy() for _, tb in data.batches(x, t, 32, shuffle=True, seed=3)]
    c = [tb.copy() for _, tb in data.batches(x, t, 32, shuffle=True, seed=4)]
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not all(np.array_equal(p, q) for p, q in zip(a, c))
    assert sorted(np.concatenate(a).tolist()) == sorted(t.tolist())
    for xb, tb in data.batches(x, t, 32, shuffle=True, seed=3):
        assert np.array_equal(xb, -tb)
    order = np.random.default_rng(3).permutation(100)
    assert np.array_equal(np.concatenate(a), t[order])


@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_in_stacks_are_the_same_batches(shuffle):
    """group=k stacks k batches at a time (CyNet.steps); a last smaller batch
    comes alone; unshuffled stacks are views of x."""
    x, t = np.arange(23 * 2.0).reshape(23, 2), np.arange(23.0)[:, None]
    flat = list(data.batches(x, t, 5, shuffle, seed=2))
    stacks = list(data.batches(x, t, 5, shuffle, seed=2, group=3))
    assert [xs.shape for xs, _ in stacks] == [(3, 5, 2), (1, 5, 2), (1, 3, 2)]
    unstacked = [(xs[i], ts[i]) for xs, ts in stacks for i in range(xs.shape[0])]
    assert len(unstacked) == len(flat)
    for (xa, ta), (xb, tb) in zip(unstacked, flat):
        assert np.array_equal(xa, xb) and np.array_equal(ta, tb)
    assert np.shares_memory(stacks[0][0], x) is not shuffle
    with pytest.raises(ValueError, match="group"):
        list(data.batches(x, t, 5, group=0))


@pytest.mark.parametrize("seed", [None, 0, 7])
def test_batches_reproduces_train_order(seed):
    """The call training.train makes (notes/batches.md): one order per (seed, epoch),
    equal to the per-epoch permutation train used before it shared this function."""
    x, t = np.arange(50.0).reshape(25, 2), np.arange(25)
    for epoch in range(3):
        old = np.random.default_rng([0 if seed is None else seed, epoch]).permutation(25)
        got = data.batches(x, t, 10, shuffle=True, seed=[0 if seed is None else seed, epoch])
        expected = [old[s : s + 10] for s in range(0, 25, 10)]
        for (xb, tb), idx in zip(got, expected, strict=True):
            assert np.array_equal(tb, t[idx]) and np.array_equal(xb, x[idx])


def test_batches_without_shuffle_are_views():
    x, t = np.zeros((10, 3)), np.zeros(10)
    for xb, tb in data.batches(x, t, 4, seed=5):
        assert np.shares_memory(xb, x) and np.shares_memory(tb, t)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 200),
    bs=st.integers(1, 64),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_batches_cover_every_sample_once(n, bs, shuffle, seed):
    x = np.arange(n)
    sizes, seen = [], []
    for xb, tb in data.batches(x, x, bs, shuffle=shuffle, seed=seed):
        sizes.append(len(xb))
        seen.extend(tb.tolist())
    assert sorted(seen) == list(range(n))
    assert all(s == bs for s in sizes[:-1]) and all(0 < s <= bs for s in sizes)
    assert len(sizes) == -(-n // bs)


@pytest.mark.parametrize("bad", [0, -3, 2.5, "4", True, None])
def test_batches_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size"):
        data.batches(np.zeros((4, 2)), np.zeros(4), bad)


def test_batches_length_mismatch():
    with pytest.raises(ValueError, match=r"len\(t\)"):
        data.batches(np.zeros((4, 2)), np.zeros(5), 2)


def test_batches_accepts_numpy_int():
    assert len(list(data.batches(np.zeros((4, 2)), np.zeros(4), np.int64(3)))) == 2


def test_one_hot():
    out = data.one_hot(np.array([0, 3, 9], dtype=np.uint8))
    assert out.shape == (3, 10) and out.dtype == np.float32
    assert out.sum() == 3 and out[1, 3] == 1 and out[2, 9] == 1
    assert data.one_hot([1, 0], n_classes=2, dtype="float64").dtype == np.float64
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        data.one_hot([10])
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        data.one_hot([-1])
