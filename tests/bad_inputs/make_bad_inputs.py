"""Write the hostile and broken inputs corpus: `python tests/bad_inputs/make_bad_inputs.py DIR`.

Each case is (file name, what it is, expected result). Expected "error: <text>" means the CLI
exits 2 with one line containing <text>; "ok: <text>" means the file is still usable and the
JSON report contains <text> (a warning note, an escaped name...). MANIFEST.json beside this
script is the same table, written by `--manifest`.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

HERE = Path(__file__).resolve().parent
GOOD_H5 = HERE.parent / "fixtures" / "keras-2.3.1" / "dense_kernel_bias_activity.h5"
GOOD_KERAS = HERE.parent / "fixtures" / "keras-2.15.0" / "dense_kernel_bias_activity.keras"
PNG_HEAD = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)


def dense(name: str = "dense_1", **regs: object) -> dict:
    return {"class_name": "Dense", "config": {"name": name, "units": 2, **regs}}


def model(*layers: dict) -> dict:
    return {"class_name": "Sequential", "config": {"name": "m", "layers": list(layers)}}


def keras_h5(path: Path, config: object, *, version: str | None = "2.3.1",
             raw_config: object = None, weights: bool = True) -> None:
    """A legacy Keras HDF5 full model with the given model_config (any JSON, or raw text)."""
    with h5py.File(path, "w") as f:
        text = raw_config if raw_config is not None else json.dumps(config)
        f.attrs["model_config"] = text
        if version is not None:
            f.attrs["keras_version"] = version
        f.attrs["backend"] = "tensorflow"
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = [b"dense_1"] if weights else []
        if weights:
            layer = g.create_group("dense_1")
            layer.attrs["weight_names"] = [b"dense_1/kernel:0"]
            layer.create_dataset("dense_1/kernel:0", data=np.ones((3, 2), "float32"))


def reg_case(reg: object) -> Callable[[Path], None]:
    return lambda p: keras_h5(p, model(dense(kernel_regularizer=reg)))


def name_case(name: str) -> Callable[[Path], None]:
    return lambda p: keras_h5(p, model(dense(name, kernel_regularizer={
        "class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.01}})))


def raw_bytes(data: bytes) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(data)


def truncated(fraction_or_bytes: float | int) -> Callable[[Path], None]:
    def make(p: Path) -> None:
        data = GOOD_H5.read_bytes()
        n = fraction_or_bytes if isinstance(fraction_or_bytes, int) else int(len(data) * fraction_or_bytes)
        p.write_bytes(data[:n])
    return make


def keras_zip(members: dict[str, bytes], *, compress: bool = False) -> Callable[[Path], None]:
    def make(p: Path) -> None:
        mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        with zipfile.ZipFile(p, "w", mode) as z:
            for name, data in members.items():
                z.writestr(name, data)
    return make


def zip_bomb(p: Path) -> None:
    """config.json expanding to 1 GiB of spaces, about 1 MB on disk."""
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("config.json", "w", force_zip64=True) as member:
            chunk = b" " * (16 * 1024 * 1024)
            for _ in range(64):
                member.write(chunk)
        z.writestr("metadata.json", b'{"keras_version": "3.1.0"}')


def keras_weights_bomb(p: Path) -> None:
    """A real .keras whose model.weights.h5 is deflated: 1 GiB (of zeros) in about 1 MB."""
    with zipfile.ZipFile(GOOD_KERAS) as src, \
            zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            if info.filename != "model.weights.h5":
                dst.writestr(info.filename, src.read(info), compress_type=zipfile.ZIP_STORED)
        with dst.open("model.weights.h5", "w", force_zip64=True) as member:
            chunk = bytes(16 * 2**20)
            for _ in range(64):
                member.write(chunk)


def sparse_2gb(p: Path) -> None:
    with open(p, "wb") as f:
        f.write(b"\x89HDF\r\n\x1a\n")
        f.truncate(2 * 1024**3 + 4096)


def not_keras_h5(p: Path) -> None:
    with h5py.File(p, "w") as f:
        f.create_dataset("measurements", data=np.arange(10))
        f.attrs["instrument"] = "thermometer"


def non_text_config(p: Path) -> None:
    with h5py.File(p, "w") as f:
        f.attrs["model_config"] = 42
        f.attrs["keras_version"] = "2.3.1"


def missing_chunk(p: Path) -> None:
    with h5py.File(p, "w") as f:
        f.attrs["keras_version"] = "2.3.1"
        f.attrs["layer_names0"] = [b"a"]
        f.attrs["layer_names2"] = [b"c"]


def weights_only(p: Path) -> None:
    p.write_bytes((GOOD_H5.parent / "dense_kernel_bias_activity.weights.h5").read_bytes())


def deep_models(depth: int) -> dict:
    inner: dict = dense("leaf")
    for i in range(depth):
        inner = {"class_name": "Sequential", "config": {"name": f"s{i}", "layers": [inner]}}
    return model(inner)


def good_keras_with(**replace: bytes) -> Callable[[Path], None]:
    def make(p: Path) -> None:
        with zipfile.ZipFile(GOOD_KERAS) as src, zipfile.ZipFile(p, "w") as dst:
            for info in src.infolist():
                dst.writestr(info.filename, replace.get(info.filename, src.read(info)))
            for name, data in replace.items():
                if name not in src.namelist():
                    dst.writestr(name, data)
    return make


def half_of(path: Path) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


# --- copies of a real Keras 2.3.1 file with one part made hostile or unreadable ---------------

KERNEL = "model_weights/dense_reg/dense_reg/kernel:0"  # GOOD_H5's one regularized kernel
OUTSIDE_BIN = "outside.bin"  # beside the cases: what external storage points at
OTHER_H5 = "other.h5"  # beside the cases: what external links and virtual datasets point at


def good_h5_with(change: Callable[[h5py.File, Path], None]) -> Callable[[Path], None]:
    """A copy of GOOD_H5, then change(file, folder) on it."""
    def make(p: Path) -> None:
        shutil.copyfile(GOOD_H5, p)
        with h5py.File(p, "r+") as f:
            change(f, p.parent)
    return make


def outside_files(folder: Path, value: float = 7.0) -> None:
    """The files the hostile copies point at: 32 float32 of `value`, and an HDF5 file with a
    dataset /k of 8x4 float32 of `value` (what the kernel would read if followed)."""
    (folder / OUTSIDE_BIN).write_bytes(np.full(32, value, "float32").tobytes())
    with h5py.File(folder / OTHER_H5, "w") as f:
        f["k"] = np.full((8, 4), value, "float32")


def new_kernel(**options: object) -> Callable[[h5py.File, Path], None]:
    def change(f: h5py.File, folder: Path) -> None:
        del f[KERNEL]
        f.create_dataset(KERNEL, **options)
    return change


def external_storage(target: str, shape: tuple[int, ...]) -> Callable[[h5py.File, Path], None]:
    def change(f: h5py.File, folder: Path) -> None:
        outside_files(folder)
        path = target if os.path.isabs(target) else str(folder.resolve() / target)
        new_kernel(shape=shape, dtype="float32", external=[(path, 0, h5py.h5f.UNLIMITED)])(f, folder)
    return change


def linked(link: object, at: str = KERNEL) -> Callable[[h5py.File, Path], None]:
    def change(f: h5py.File, folder: Path) -> None:
        outside_files(folder)
        del f[at]
        f[at] = link
    return change


def virtual_kernel(f: h5py.File, folder: Path) -> None:
    outside_files(folder)
    del f[KERNEL]
    layout = h5py.VirtualLayout(shape=(8, 4), dtype="float32")
    layout[:] = h5py.VirtualSource(str((folder / OTHER_H5).resolve()), "k", shape=(8, 4))
    f.create_virtual_dataset(KERNEL, layout)


def zero_gzip_kernel(f: h5py.File, folder: Path) -> None:
    """4 GiB of float32 zeros, gzip-compressed: about 4 MB on disk. Written chunk by chunk,
    already compressed, so that making it takes no time."""
    del f[KERNEL]
    shape, chunk = (4096, 262144), (256, 4096)
    ds = f.create_dataset(KERNEL, shape=shape, dtype="float32", chunks=chunk, compression="gzip")
    data = zlib.compress(np.zeros(chunk, "float32").tobytes(), 9)
    for i in range(0, shape[0], chunk[0]):
        for j in range(0, shape[1], chunk[1]):
            ds.id.write_direct_chunk((i, j), data)


def corrupt_kernel_chunk(f: h5py.File, folder: Path) -> None:
    """The kernel gzip-compressed in one chunk, whose stored bytes are then overwritten."""
    values = f[KERNEL][()]
    new_kernel(data=values, chunks=values.shape, compression="gzip")(f, folder)
    info = f[KERNEL].id.get_chunk_info(0)
    f.flush()
    with open(f.filename, "r+b") as raw:
        raw.seek(info.byte_offset)
        raw.write(b"\xff" * info.size)


def set_attr(name: str, value: object, at: str = "/") -> Callable[[h5py.File, Path], None]:
    def change(f: h5py.File, folder: Path) -> None:
        f[at].attrs[name] = value
    return change


def vlen_bytes_attr(name: str, data: bytes) -> Callable[[h5py.File, Path], None]:
    def change(f: h5py.File, folder: Path) -> None:
        f.attrs.create(name, data, dtype=h5py.string_dtype("utf-8"))
    return change


def drop_model_weights(f: h5py.File, folder: Path) -> None:
    del f["model_weights"]


def with_user_block(p: Path) -> None:
    """GOOD_H5 rewritten behind a 512-byte user block that holds a JSON-looking text."""
    with h5py.File(GOOD_H5, "r") as src, h5py.File(p, "w", userblock_size=512) as dst:
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        for key in src:
            src.copy(src[key], dst, name=key)
    with open(p, "r+b") as raw:
        raw.write(b'{"class_name": "Sequential", "config": {"layers": []}} ' + b"\n" * 8)


def split_driver_meta(p: Path) -> None:
    """The metadata half of HDF5's split driver: its superblock names the raw-data file
    beside it, which only the split (multi) driver would open."""
    base = p.with_name(p.name.removesuffix("-m.h5"))
    with h5py.File(base, "w", driver="split") as f:
        f["k"] = np.full((8, 4), 7.0, "float32")
        f.attrs["model_config"] = json.dumps(model(dense(kernel_regularizer=L1L2_OK)))


XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = '"><script>alert(1)</script>'
L1L2_OK = {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.01}}

# (file name, what it is, expected, builder)
CASES: list[tuple[str, str, str, Callable[[Path], None]]] = [
    ("empty.h5", "an empty file", "error: empty", raw_bytes(b"")),
    ("random.h5", "4 KiB of random bytes", "error: unrecognised binary",
     raw_bytes(random.Random(7).randbytes(4096))),
    ("png_renamed.h5", "a PNG image renamed .h5", "error: PNG image", raw_bytes(PNG_HEAD)),
    ("text_renamed.h5", "a text file renamed .h5", "error: text file",
     raw_bytes(b"hello, this is not a model\n")),
    ("pdf_renamed.h5", "a PDF renamed .h5", "error: PDF document", raw_bytes(b"%PDF-1.4\n%\xe2\xe3")),
    ("zip_renamed.h5", "a zip of text files renamed .h5", "error: without config.json",
     keras_zip({"readme.txt": b"hi"})),
    ("trunc_superblock.h5", "HDF5 cut inside the superblock (24 bytes)", "error: truncated",
     truncated(24)),
    ("trunc_headers.h5", "HDF5 cut in the object headers (1 KiB)", "error: truncated", truncated(1024)),
    ("trunc_middle.h5", "HDF5 cut at half its size (mid-dataset)", "error: truncated",
     truncated(0.5)),
    ("trunc_tail.h5", "HDF5 missing its last 100 bytes", "error: truncated", truncated(-100)),
    ("not_keras.h5", "HDF5 written by another program", "error: not a Keras model", not_keras_h5),
    ("config_not_json.h5", "model_config is not JSON", "error: model_config is not valid JSON",
     lambda p: keras_h5(p, None, raw_config="{this is not json")),
    ("config_list.h5", "model_config is a JSON list", "error: wrong shape",
     lambda p: keras_h5(p, [1, 2, 3])),
    ("config_number.h5", "model_config is a JSON number", "error: wrong shape",
     lambda p: keras_h5(p, 42)),
    ("config_no_class.h5", "model_config without class_name", "error: no 'class_name'",
     lambda p: keras_h5(p, {"config": {"layers": []}})),
    ("config_no_config.h5", "model_config without config", "error: no 'config'",
     lambda p: keras_h5(p, {"class_name": "Sequential"})),
    ("layers_not_list.h5", "config.layers is a string", "error: 'layers' is not a list",
     lambda p: keras_h5(p, {"class_name": "Sequential", "config": {"layers": "dense"}})),
    ("layer_not_object.h5", "a layer entry that is a number", "error: layer entry 0 is not an object",
     lambda p: keras_h5(p, {"class_name": "Sequential", "config": {"layers": [7]}})),
    ("deep_json.h5", "model_config nesting 100,000 levels", "error: nests deeper",
     lambda p: keras_h5(p, None, raw_config="[" * 100_000 + "]" * 100_000)),
    ("deep_models.h5", "Sequential inside Sequential, 150 levels", "error: nests deeper",
     lambda p: keras_h5(p, deep_models(150))),
    ("config_int_attr.h5", "model_config stored as an integer", "error: not text", non_text_config),
    ("config_not_utf8.json", "a JSON config in Latin-1", "error: not UTF-8",
     raw_bytes('{"class_name": "Sequential", "config": {"name": "caf\xe9"}}'.encode("latin-1"))),
    ("whitespace.json", "a JSON file holding only spaces", "error: not valid JSON", raw_bytes(b"   \n")),
    ("json_array.json", "a JSON array", "error: not a Keras model config", raw_bytes(b"[1, 2]")),
    ("reg_string_coeffs.h5", "L1L2 with string coefficients", "ok: NON_NUMERIC_COEFFICIENT",
     reg_case({"class_name": "L1L2", "config": {"l1": "a", "l2": "0.1"}})),
    ("reg_nan.h5", "L2 with NaN", "ok: NON_FINITE_COEFFICIENT",
     lambda p: keras_h5(p, None, raw_config=json.dumps(model(dense(kernel_regularizer={
         "class_name": "L2", "config": {"l2": float("nan")}}))))),
    ("reg_infinity.h5", "L1L2 with Infinity", "ok: NON_FINITE_COEFFICIENT",
     reg_case({"class_name": "L1L2", "config": {"l1": float("inf"), "l2": 0.0}})),
    ("reg_negative.h5", "L1L2 with a negative l2", "ok: NEGATIVE_COEFFICIENT",
     reg_case({"class_name": "L1L2", "config": {"l1": 0.0, "l2": -0.5}})),
    ("reg_huge.h5", "L1L2 with l2 = 1e300", "ok: HUGE_COEFFICIENT",
     reg_case({"class_name": "L1L2", "config": {"l1": 0.0, "l2": 1e300}})),
    ("reg_missing_config.h5", "L1L2 without its config", "ok: MISSING_COEFFICIENTS",
     reg_case({"class_name": "L1L2"})),
    ("reg_list.h5", "a regularizer that is a JSON list", "ok: \"form\": \"CUSTOM\"",
     reg_case([1, 2])),
    ("reg_number.h5", "a regularizer that is a number", "ok: \"form\": \"CUSTOM\"", reg_case(0.01)),
    ("reg_unknown_form.h5", "a regularizer dict of an unknown shape", "ok: UNKNOWN_FIELD",
     reg_case({"kind": "l2", "amount": 0.01})),
    ("name_img.h5", "a layer named with an <img onerror> tag", "ok: onerror=alert(1)",
     name_case(XSS_IMG)),
    ("name_script.h5", "a layer named with a <script> tag", "ok: </script>", name_case(XSS_SCRIPT)),
    ("name_long.h5", "a layer name of 100,000 characters", "ok: \"layer\": \"xxxxxxxx",
     name_case("x" * 100_000)),
    ("name_control.h5", "a layer name with NUL and ANSI escapes", "ok: \\u001b[31m",
     name_case("a\x00b\x1b[31mred\x07")),
    ("name_rtl.h5", "a layer name with RTL override marks", "ok: \u202e",
     name_case("safe\u202egpj.exe")),
    ("keras_no_config.keras", "a .keras zip without config.json", "error: without config.json",
     keras_zip({"metadata.json": b"{}", "model.weights.h5": b""})),
    ("keras_zip_bomb.keras", "config.json expanding to 1 GiB", "error: limit is", zip_bomb),
    ("keras_traversal.keras", "a .keras whose members have ../ and absolute names",
     "ok: \"format\": \"keras-v3\"",
     good_keras_with(**{"../../evil.txt": b"x", "/etc/passwd.x": b"y"})),
    ("keras_config_not_json.keras", "a .keras whose config.json is not JSON",
     "error: config.json is not valid JSON", good_keras_with(**{"config.json": b"{oops"})),
    ("keras_bad_weights.keras", "a .keras whose model.weights.h5 is garbage",
     "ok: WEIGHTS_UNREADABLE", good_keras_with(**{"model.weights.h5": b"garbage" * 10})),
    ("keras_truncated.keras", "the first half of a real .keras", "error: cannot be read",
     half_of(GOOD_KERAS)),
    ("sparse_2gb.h5", "a 2 GiB sparse file starting with the HDF5 signature", "error: truncated or damaged",
     sparse_2gb),
    ("weights_only.h5", "a weights-only HDF5 file", "ok: WEIGHTS_ONLY", weights_only),
    ("chunk_missing.h5", "layer_names split into chunks with chunk 1 missing",
     "error: chunk layer_names1 is missing", missing_chunk),
    ("no_keras_version.h5", "a full model without keras_version", "ok: KERAS_VERSION_MISSING",
     lambda p: keras_h5(p, model(dense(kernel_regularizer=L1L2_OK)), version=None)),
    # Issue 15: nothing outside the file is read (the kernel's penalty gets the note).
    ("outside_storage.h5", "the kernel in external raw storage: another file beside it",
     "ok: WEIGHTS_OUTSIDE_FILE", good_h5_with(external_storage(OUTSIDE_BIN, (8, 4)))),
    ("outside_dev_zero.h5", "the kernel in external raw storage: /dev/zero, 1 TiB declared",
     "ok: WEIGHTS_OUTSIDE_FILE", good_h5_with(external_storage("/dev/zero", (2**20, 2**18)))),
    ("outside_link.h5", "the kernel is an external link to another file's dataset",
     "ok: WEIGHTS_OUTSIDE_FILE", good_h5_with(linked(h5py.ExternalLink(OTHER_H5, "/k")))),
    ("outside_link_group.h5", "the regularized layer's group is an external link",
     "ok: WEIGHTS_OUTSIDE_FILE",
     good_h5_with(linked(h5py.ExternalLink(OTHER_H5, "/"), "model_weights/dense_reg"))),
    ("outside_link_weights.h5", "model_weights itself is an external link",
     "ok: WEIGHTS_OUTSIDE_FILE",
     good_h5_with(linked(h5py.ExternalLink(OTHER_H5, "/"), "model_weights"))),
    ("outside_virtual.h5", "the kernel is a virtual dataset over another file",
     "ok: WEIGHTS_OUTSIDE_FILE", good_h5_with(virtual_kernel)),
    ("soft_link_loop.h5", "the kernel is a soft link to itself", "ok: WEIGHTS_OUTSIDE_FILE",
     good_h5_with(linked(h5py.SoftLink("/" + KERNEL)))),
    ("user_block.h5", "a real file behind a 512-byte user block that looks like JSON",
     "ok: \"keras_version\": \"2.3.1\"", with_user_block),
    ("split_driver-m.h5", "the metadata file of HDF5's split driver (raw data in another file)",
     "error: multi driver", split_driver_meta),
    # Issue 14: bounded work per file.
    ("sparse_1tib.h5", "the kernel declares 2^20 x 2^18 float32 (1 TiB) and stores nothing",
     "ok: WEIGHTS_OVER_BUDGET",
     good_h5_with(new_kernel(shape=(2**20, 2**18), dtype="float32", chunks=(1024, 1024)))),
    ("zeros_gzip_4gib.h5", "the kernel is 4 GiB of gzip-compressed zeros (4 MB stored)",
     "ok: WEIGHTS_OVER_BUDGET", good_h5_with(zero_gzip_kernel)),
    ("keras_weights_bomb.keras", "a .keras whose model.weights.h5 deflates 1 GiB into 1 MB",
     "ok: WEIGHTS_OVER_BUDGET", keras_weights_bomb),
    # Issue 14: a file whose config can be walked is reported, with a note per unreadable part.
    ("version_opaque.h5", "keras_version is opaque bytes", "ok: KERAS_VERSION_UNREADABLE",
     good_h5_with(set_attr("keras_version", np.void(b"\x02\x03\x01")))),
    ("version_not_utf8.h5", "keras_version is not UTF-8", "ok: KERAS_VERSION_UNREADABLE",
     good_h5_with(vlen_bytes_attr("keras_version", b"2.3.\xff"))),
    ("backend_opaque.h5", "backend is opaque bytes", "ok: BACKEND_UNREADABLE",
     good_h5_with(set_attr("backend", np.void(b"\x00\xff")))),
    ("backend_not_utf8.h5", "backend is not UTF-8", "ok: BACKEND_UNREADABLE",
     good_h5_with(set_attr("backend", np.bytes_(b"tensor\xc0flow")))),
    ("training_broken.h5", "training_config is broken JSON", "ok: TRAINING_CONFIG_UNREADABLE",
     good_h5_with(set_attr("training_config", '{"optimizer_config": {"class_name": "Ad'))),
    ("training_list.h5", "training_config is a JSON list", "ok: TRAINING_CONFIG_UNREADABLE",
     good_h5_with(set_attr("training_config", "[1, 2, 3]"))),
    ("no_model_weights.h5", "a full model without its model_weights group",
     "ok: MODEL_WEIGHTS_MISSING", good_h5_with(drop_model_weights)),
    ("layer_weight_names_opaque.h5", "one layer's weight_names attribute is opaque bytes",
     "ok: WEIGHTS_UNREADABLE",
     good_h5_with(set_attr("weight_names", np.void(b"\x01"), "model_weights/dense_reg"))),
    ("layer_chunk_corrupt.h5", "one layer's kernel is a gzip chunk of garbage",
     "ok: WEIGHTS_UNREADABLE", good_h5_with(corrupt_kernel_chunk)),
]


def make_all(out: Path, names: set[str] | None = None) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, what, expect, build in CASES:
        if names is None or name in names:
            build(out / name)
        rows.append({"file": name, "what": what, "expect": expect})
    return rows


def manifest() -> str:
    rows = [{"file": n, "what": w, "expect": e} for n, w, e, _ in CASES]
    return json.dumps({"cases": rows}, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--manifest"]:
        (HERE / "MANIFEST.json").write_text(manifest(), encoding="utf-8")
    else:
        make_all(Path(sys.argv[1] if len(sys.argv) > 1 else os.getcwd()))
