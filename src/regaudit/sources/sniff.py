"""Pick a file's format by its first bytes, never by its name."""

from __future__ import annotations

from typing import BinaryIO

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"
# HDF5 allows a user block before the superblock: 0, 512, 1024, 2048, ... bytes.
HDF5_OFFSETS = (0, 512, 1024, 2048, 4096, 8192)

HDF5, ZIP, JSON, EMPTY, UNKNOWN = "hdf5", "zip", "json", "empty", "unknown"


def sniff(f: BinaryIO) -> str:
    head = f.read(16)
    if not head:
        return EMPTY
    if head.startswith(HDF5_MAGIC):
        return HDF5
    if head.startswith(ZIP_MAGIC):
        return ZIP
    # HDF5 behind a user block wins over JSON: the block may hold any text (a JSON file
    # cannot hold the signature's 0x89 byte), and HDF5 itself reads the file as HDF5.
    for offset in HDF5_OFFSETS[1:]:
        f.seek(offset)
        if f.read(8) == HDF5_MAGIC:
            return HDF5
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[", b""):
        return JSON
    return UNKNOWN


def describe_unknown(head: bytes) -> str:
    """A guess at what a non-model file is, for the error message."""
    known = {
        b"\x89PNG": "a PNG image",
        b"\xff\xd8\xff": "a JPEG image",
        b"%PDF": "a PDF document",
        b"GIF8": "a GIF image",
        b"\x1f\x8b": "a gzip archive",
        b"\x80\x02": "a Python pickle",
        b"\x08": "possibly a protobuf (TensorFlow SavedModel / ONNX)",
    }
    for magic, what in known.items():
        if head.startswith(magic):
            return what
    try:
        head.decode("utf-8")
        return "a text file"
    except UnicodeDecodeError:
        return "an unrecognised binary file"
