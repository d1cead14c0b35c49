#!/usr/bin/env python3
"""Regenerate the reader golden tables under tests/data/readers/ and the fuzz seed inputs.

GGUF: SmolLM2-135M's GGUF read by gguf-py's GGUFReader (llama.cpp's own Python package), an
implementation independent of rt/gguf.c. safetensors: model.safetensors of all-MiniLM-L6-v2
read with plain struct + json. tests/check_gguf.c and tests/check_safetensors.c read the same
files through lmrt and compare every line.

Table format (TSV, one fact per line; strings and bytes as lowercase hex, "" when empty):
  file_size N | version N | alignment N | data_offset N | n_kv N | n_tensors N
  kv KEY TYPE VALUE             scalars: ints decimal, bools 0/1, floats float.hex()
  kv KEY arr:ELEM N HASH FIRST LAST
        HASH: FNV-1a 64 (16 hex digits) over the elements' encoding: numbers as their
        little-endian bytes, strings as u64 length + bytes; FIRST/LAST: the end elements
  tensor NAME TYPE NE0,NE1.. FILE_OFFSET NBYTES HEX(first 16 bytes) HEX(last 16 bytes)
  st_header_len N | st_n_tensors N
  st_meta KEY HEX(value)
  st_tensor NAME DTYPE SHAPE(d0,d1,.. or "") BEGIN END HEX(first 16) HEX(last 16)
Type names are lmrt's: u8 i8 u16 i16 u32 i32 f32 bool str arr u64 i64 f64; GGML types as
gguf-py names them (the C side compares case-insensitively).

Fuzz seeds (tests/fuzz/corpus/gguf, tests/fuzz/corpus/safetensors): small valid files made with
gguf-py's GGUFWriter and by hand for safetensors, so the fuzzers start from real structure.

Usage: python3 tools/gen_reader_golden.py [models dir, default $LMRT_MODELS or build/models]
"""
import json
import os
import struct
import sys
import tempfile

import numpy as np
from gguf import GGUFReader, GGUFValueType, GGUFWriter, GGMLQuantizationType

OUT = "tests/data/readers"
CORPUS = "tests/fuzz/corpus"

TYPE_NAMES = {
    GGUFValueType.UINT8: "u8", GGUFValueType.INT8: "i8", GGUFValueType.UINT16: "u16",
    GGUFValueType.INT16: "i16", GGUFValueType.UINT32: "u32", GGUFValueType.INT32: "i32",
    GGUFValueType.FLOAT32: "f32", GGUFValueType.BOOL: "bool", GGUFValueType.STRING: "str",
    GGUFValueType.ARRAY: "arr", GGUFValueType.UINT64: "u64", GGUFValueType.INT64: "i64",
    GGUFValueType.FLOAT64: "f64",
}


def fnv1a(data, h=0xCBF29CE484222325):
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def scalar_text(t, v):
    if t in (GGUFValueType.FLOAT32, GGUFValueType.FLOAT64):
        return float(v).hex()
    if t == GGUFValueType.BOOL:
        return "1" if bool(v) else "0"
    return str(int(v))


def gguf_table(path):
    r = GGUFReader(path)
    lines = [f"file_size\t{os.path.getsize(path)}", f"version\t{int(r.fields['GGUF.version'].parts[-1][0])}",
             f"alignment\t{r.alignment}", f"data_offset\t{r.data_offset}"]
    kvs = [f for name, f in r.fields.items() if not name.startswith("GGUF.")]
    lines.append(f"n_kv\t{len(kvs)}")
    lines.append(f"n_tensors\t{len(r.tensors)}")
    for f in kvs:
        t = f.types[0]
        if t == GGUFValueType.STRING:
            lines.append(f"kv\t{f.name}\tstr\t{bytes(f.parts[f.data[0]]).hex()}")
        elif t != GGUFValueType.ARRAY:
            lines.append(f"kv\t{f.name}\t{TYPE_NAMES[t]}\t{scalar_text(t, f.parts[f.data[0]][0])}")
        else:
            et = f.types[1]
            if et == GGUFValueType.ARRAY:
                raise NotImplementedError(f"{f.name}: nested arrays are not in the real files")
            h = 0xCBF29CE484222325
            if et == GGUFValueType.STRING:
                elems = [bytes(f.parts[i]) for i in f.data]
                for e in elems:
                    h = fnv1a(struct.pack("<Q", len(e)) + e, h)
                text = [e.hex() for e in elems]
            else:
                elems = [f.parts[i][0] for i in f.data]
                for e in elems:
                    h = fnv1a(np.asarray(e).astype(np.asarray(e).dtype.newbyteorder("<")).tobytes(), h)
                text = [scalar_text(et, e) for e in elems]
            first, last = (text[0], text[-1]) if text else ("", "")
            lines.append(f"kv\t{f.name}\tarr:{TYPE_NAMES[et]}\t{len(elems)}\t{h:016x}\t{first}\t{last}")
    for t in r.tensors:
        raw = np.asarray(t.data).view(np.uint8).reshape(-1)
        assert raw.size == t.n_bytes, t.name
        ne = ",".join(str(int(x)) for x in t.shape)
        lines.append(f"tensor\t{t.name}\t{t.tensor_type.name}\t{ne}\t{t.data_offset}\t{t.n_bytes}\t"
                     f"{raw[:16].tobytes().hex()}\t{raw[-16:].tobytes().hex()}")
    return lines


ST_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
            "BOOL": 1, "U16": 2, "U32": 4, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1}


def st_table(path):
    with open(path, "rb") as fh:
        blob = fh.read()
    n = struct.unpack_from("<Q", blob, 0)[0]
    header = json.loads(blob[8:8 + n])
    base = 8 + n
    lines = [f"file_size\t{len(blob)}", f"st_header_len\t{n}"]
    meta = header.pop("__metadata__", {})
    lines.append(f"st_n_tensors\t{len(header)}")
    for k, v in meta.items():
        lines.append(f"st_meta\t{k}\t{v.encode().hex()}")
    for name, info in header.items():
        b, e = info["data_offsets"]
        count = 1
        for d in info["shape"]:
            count *= d
        assert e - b == count * ST_SIZES[info["dtype"]], name
        raw = blob[base + b:base + e]
        shape = ",".join(str(d) for d in info["shape"])
        lines.append(f"st_tensor\t{name}\t{info['dtype']}\t{shape}\t{b}\t{e}\t{raw[:16].hex()}\t"
                     f"{raw[-16:].hex()}")
    return lines


def write(path, lines):
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"wrote {path} ({len(lines)} lines)")


def gguf_seeds():
    """Small valid GGUF files written by gguf-py, one per structural feature."""
    out = os.path.join(CORPUS, "gguf")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        for name, build in [
            ("seed_kv_only", lambda w: (w.add_uint32("general.alignment", 32),
                                        w.add_string("general.name", "seed"),
                                        w.add_array("tok", ["a", "bc", ""]),
                                        w.add_array("scores", [0.5, -1.0]),
                                        w.add_bool("flag", True),
                                        w.add_int64("big", -(1 << 40)),
                                        w.add_float64("pi", 3.14159))),
            ("seed_tensors", lambda w: (w.add_uint32("n", 3),
                                        w.add_tensor("a", rng.standard_normal((3, 4), dtype=np.float32)),
                                        w.add_tensor("b", rng.standard_normal(8).astype(np.float16)),
                                        w.add_tensor("q", np.zeros((2, 34), np.uint8),
                                                     raw_dtype=GGMLQuantizationType.Q8_0))),
            ("seed_align64", lambda w: (w.add_uint32("general.alignment", 64),
                                        w.add_array("ids", [1, 2, 3]),
                                        w.add_tensor("x", np.ones((2, 2), np.float32)))),
        ]:
            path = os.path.join(tmp, name + ".gguf")
            w = GGUFWriter(path, "llama")
            build(w)
            w.write_header_to_file()
            w.write_kv_data_to_file()
            w.write_tensors_to_file()
            w.close()
            with open(path, "rb") as src, open(os.path.join(out, name + ".gguf"), "wb") as dst:
                dst.write(src.read())
            print(f"wrote {out}/{name}.gguf")


def st_seeds():
    out = os.path.join(CORPUS, "safetensors")
    os.makedirs(out, exist_ok=True)

    def st(header, data):
        h = json.dumps(header, separators=(",", ":")).encode()
        h += b" " * (-len(h) % 8)
        return struct.pack("<Q", len(h)) + h + data

    a = np.arange(6, dtype=np.float32).tobytes()
    b = np.arange(4, dtype=np.float16).tobytes()
    seeds = {
        "seed_two": st({"__metadata__": {"format": "pt"},
                        "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
                        "v": {"dtype": "F16", "shape": [4], "data_offsets": [24, 32]}}, a + b),
        "seed_scalar_empty": st({"s": {"dtype": "BF16", "shape": [], "data_offsets": [0, 2]},
                                 "e": {"dtype": "I64", "shape": [0, 3], "data_offsets": [2, 2]}},
                                b"\x80\x3f"),
    }
    for name, blob in seeds.items():
        with open(os.path.join(out, name + ".safetensors"), "wb") as fh:
            fh.write(blob)
        print(f"wrote {out}/{name}.safetensors")


def main():
    models = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("LMRT_MODELS", "build/models")
    os.makedirs(OUT, exist_ok=True)
    write(os.path.join(OUT, "smollm2_gguf.tsv"),
          gguf_table(os.path.join(models, "smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")))
    write(os.path.join(OUT, "minilm_safetensors.tsv"),
          st_table(os.path.join(models, "minilm/model.safetensors")))
    gguf_seeds()
    st_seeds()


if __name__ == "__main__":
    main()
