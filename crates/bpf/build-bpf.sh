#!/usr/bin/env bash
# Compiles crates/bpf/src/bpf/*.bpf.c into BPF objects, by default into crates/bpf/objects/ (the
# committed copies that the crate embeds; `cargo build` never runs this). Usage:
#   crates/bpf/build-bpf.sh [OUT_DIR]
# The output is byte-for-byte reproducible for a given clang version: clang runs in the source
# directory on relative names, DWARF is stripped (the BTF and its line info stay: the loader
# needs them for CO-RE), and the version used is recorded in OUT_DIR/CLANG_VERSION. The drift
# test (crates/bpf/tests/drift.rs) runs this into a temp dir and compares bytes.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/objects}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
CLANG="${CLANG:-clang}"
STRIP="${LLVM_STRIP:-llvm-strip}"

cd "$here/src/bpf"
for src in *.bpf.c; do
    obj="$out/${src%.c}.o"
    # -fdebug-prefix-map: clang writes the source's absolute path into the BTF line info;
    # mapping the source directory to "." keeps the bytes the same in every checkout.
    "$CLANG" -O2 -g -target bpf -Wall -Werror -fno-ident -fdebug-prefix-map="$here/src/bpf=." \
        -c "$src" -o "$obj"
    "$STRIP" -g "$obj"
done
"$CLANG" --version | head -n1 > "$out/CLANG_VERSION"
