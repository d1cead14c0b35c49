#!/usr/bin/env python3
"""perf/isa_mix.py - the instruction mix of the matmul kernels' hot loops, from objdump.

    python3 perf/isa_mix.py [--all] [OBJ...]      (default: build/obj/simd/{avx512,amx,neon}/matmul_*.o)

For each function in each object it finds the innermost loops (a backward branch whose range
holds no other backward branch) and prints one TSV row for its hot loop, the innermost loop with
the most work instructions (--all: every innermost loop of 6 or more instructions): object,
function, loop bytes, instructions, the vector or tile instructions that do the work (FMA, dot
products, tile ops, by mnemonic), and the count of scalar floating-point arithmetic
instructions, which a vectorised hot loop should not have. ARM objects are read with
aarch64-linux-gnu-objdump (the cross build: ./configure --host=aarch64-linux-gnu).

This is how the issue's "instruction mix" bar is checked: it reads the machine code the
compiler produced, so it holds on any machine, whatever CPU runs the script.
"""
import glob
import re
import subprocess
import sys

# mnemonics that carry the arithmetic, per ISA (printed with their counts)
WORK = re.compile(
    r"^(vfmadd\w*ps|vfnmadd\w*ps|vpdpbusds?|vpdpwssds?|vpmaddubsw|vpmaddwd|vdpbf16ps|"
    r"tdpbssd|tdpbsud|tdpbusd|tdpbuud|tdpbf16ps|tileloadd\w*|tilestored|tilezero|"
    r"sdot|udot|smlal2?|smull2?|sadalp|fmla|fmul|fadd|bfdot|bfmmla|smmla)$"
)
# scalar floating point: x86 *ss/*sd arithmetic; AArch64 FP on s/d registers
X86_SCALAR = re.compile(r"^v?(add|sub|mul|div|fmadd\w*|fnmadd\w*|max|min|sqrt)s[sd]$")
ARM_SCALAR_OPS = {"fadd", "fsub", "fmul", "fdiv", "fmadd", "fmsub", "fmax", "fmin", "fsqrt"}


def objdump_for(obj):
    head = subprocess.run(["file", "-b", obj], capture_output=True, text=True).stdout
    return "aarch64-linux-gnu-objdump" if "aarch64" in head else "objdump"


def functions(obj):
    """{name: [(addr, mnemonic, operands)]} from objdump -d."""
    out = subprocess.run([objdump_for(obj), "-d", "--no-show-raw-insn", obj],
                         capture_output=True, text=True, check=True).stdout
    funcs, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if m:
            cur = funcs.setdefault(m.group(1), [])
            continue
        m = re.match(r"^\s+([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
        if m and cur is not None:
            cur.append((int(m.group(1), 16), m.group(2), m.group(3)))
    return funcs


def branch_target(mnem, ops):
    if not (mnem.startswith("j") or mnem in ("b", "cbz", "cbnz", "tbz", "tbnz") or mnem.startswith("b.")):
        return None
    m = re.search(r"\b([0-9a-f]+) <", ops)
    return int(m.group(1), 16) if m else None


def innermost_loops(insns):
    loops = []
    for addr, mnem, ops in insns:
        t = branch_target(mnem, ops)
        if t is not None and t <= addr:
            loops.append((t, addr))
    return [(a, b) for a, b in loops
            if not any((c, d) != (a, b) and a <= c and d <= b for c, d in loops)]


def scalar_fp(mnem, ops, arm):
    if arm:
        return mnem in ARM_SCALAR_OPS and re.match(r"^[sdh]\d", ops.strip()) is not None
    return X86_SCALAR.match(mnem) is not None


def main(objs, every):
    print("object\tfunction\tloop_bytes\tinsns\twork_instructions\tscalar_fp")
    for obj in objs:
        arm = objdump_for(obj) != "objdump"
        for name, insns in functions(obj).items():
            loops = innermost_loops(insns)
            if not every and loops:
                def nwork(ab):
                    return sum(1 for addr, m, o in insns
                               if ab[0] <= addr <= ab[1] and WORK.match(m) and not scalar_fp(m, o, arm))
                loops = [max(loops, key=nwork)]
            for a, b in loops:
                body = [(m, o) for addr, m, o in insns if a <= addr <= b]
                if len(body) < 6:
                    continue
                work = {}
                for m, o in body:
                    if WORK.match(m) and not (arm and scalar_fp(m, o, arm)):
                        key = m
                        if not arm and "zmm" in o:
                            key += "/zmm"
                        elif not arm and "ymm" in o:
                            key += "/ymm"
                        work[key] = work.get(key, 0) + 1
                nscalar = sum(scalar_fp(m, o, arm) for m, o in body)
                mix = " ".join(f"{k}x{v}" for k, v in sorted(work.items(), key=lambda kv: -kv[1]))
                print(f"{obj}\t{name}\t{b - a}\t{len(body)}\t{mix or '-'}\t{nscalar}")


if __name__ == "__main__":
    every = "--all" in sys.argv[1:]
    args = [a for a in sys.argv[1:] if a != "--all"] or sorted(
        f for d in ("avx512", "amx", "neon") for f in glob.glob(f"build/obj/simd/{d}/matmul_*.o"))
    if not args:
        sys.exit("isa_mix: no objects (build first; ARM: ./configure --host=aarch64-linux-gnu)")
    main(args, every)
