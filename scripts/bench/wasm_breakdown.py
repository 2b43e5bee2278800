#!/usr/bin/env python3
"""Where a wasm bundle's bytes go, by crate (issue 15 item 5). Reads one wasm module that still
has its name section (wasm-bindgen's output, before wasm-opt) and prints

  (a) the top items by retained size (twiggy top --retained),
  (b) code + data grouped by the crate each (demangled) function belongs to: bytes, share, and
      brotli estimates; then the largest crates, std's parts (formatting, panics, allocator,
      generic code), the data segment's known pieces (the compiled-in catalogue, source paths),
      and the generic functions with the most copies (twiggy monos),
with the brotli size of the final Trunk-built wasm, when given, to scale by.

Usage: wasm_breakdown.py LABEL WASM [--final DIST_WASM] [--catalogues DIR] [--top N] [--tsv FILE]
Called by scripts/bench/wasm_breakdown.sh, which builds the wasm first.

Attribution rules (names are demangled by wasm-ld; the standard library's own symbols use v0
mangling and so carry their type arguments, the crates built here use legacy mangling, which
does not):
  - `a::b::f`: crate a.   `<A as B>::f`: A's crate, unless A is a std/primitive/generic type,
    then B's (`<String as serde::Serialize>` is serde's code).
  - std code whose type arguments name another crate (`core::ptr::drop_in_place<tachys::…>`,
    drop glue mostly) is counted under that crate; the table says how much was moved.
  - std generic code whose types are not in its name (`Iterator::collect`, `FnOnce::call_once`
    shims of closures) stays under std: its real owner cannot be told from the name.
"""
import argparse
import json
import os
import re
import subprocess
import sys
from collections import defaultdict

# The groups the report sums to, in print order. A crate not named here is "other" (and is
# still listed by name below the table).
GROUPS = [
    "std/core/alloc",
    "leptos/tachys/reactive_graph",
    "fluent*/intl*/unic*",
    "serde/serde_json",
    "carekey_*",
    "wasm_bindgen/js_sys/web_sys",
    "other",
]
GROUP_NOTES = {
    "std/core/alloc": "std, core, alloc, dlmalloc, compiler-builtins, libm",
    "leptos/tachys/reactive_graph": "+ leptos_router, server_fn, any_spawner, either_of, ...",
    "fluent*/intl*/unic*": "+ tinystr, type_map, self_cell",
    "serde/serde_json": "+ serde_core, ryu, itoa, zmij",
    "wasm_bindgen/js_sys/web_sys": "+ wasm_bindgen_futures, gloo_*, glue shims",
}
STD = {"std", "core", "alloc", "dlmalloc", "compiler_builtins", "panic_abort", "panic_unwind",
       "libm", "std_detect", "rustc_std_workspace_core"}
LEPTOS = {"leptos", "leptos_router", "leptos_dom", "leptos_macro", "leptos_config", "leptos_server",
          "leptos_meta", "leptos_hot_reload", "leptos_router_macro", "tachys", "reactive_graph",
          "reactive_stores", "any_spawner", "either_of", "server_fn", "throw_error", "oco_ref",
          "or_poisoned", "next_tuple", "hydration_context", "guardian", "send_wrapper", "slotmap",
          "const_str_slice_concat", "wasm_split_helpers", "drain_filter_polyfill"}
FLUENT_EXTRA = {"tinystr", "type_map", "self_cell"}
SERDE = {"serde", "serde_core", "serde_json", "serde_qs", "serde_urlencoded", "ryu", "itoa", "zmij"}
WBG = {"wasm_bindgen", "js_sys", "web_sys", "wasm_bindgen_futures", "wasm_bindgen_shared"}
NOTES = {  # printed beside a crate in the by-crate list
    "hashbrown": "HashMap/HashSet code (std's and direct users')",
    "wasm_streams": "gloo-net's streaming bodies (the intounderlying* exports)",
    "zmij": "float printing (serde_json)",
    "(unnamed)": "functions with no name: wasm-opt's merged/outlined copies, glue shims",
    "core": "incl. std generics whose types are not in their names (closures, iterators)",
}
# Functions with no Rust path: the C runtime pieces and entry points std links in.
STD_SYMBOLS = re.compile(r"^(memcpy|memmove|memset|memcmp|bcmp|strlen|fmax|fmin|fmaxf|fminf|__rust_|"
                         r"__rdl_|__rg_|__rustc|rust_begin_unwind|rust_panic|__multi3|__udivti3|"
                         r"__umodti3|__divti3|__ashlti3|__lshrti3|__ashrti3|__muloti4|__floatuntidf|"
                         r"__wasm_call_ctors|_start|main$|__main_void|__original_main|__wasm_)")
PRIMITIVES = {"str", "bool", "char", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32",
              "i64", "i128", "isize", "f32", "f64"}

# twiggy item names that are neither code nor data
META = re.compile(r"^(type|table|memory|global|elem)\[\d+\]|^import |^export \"|^custom section|"
                  r"section headers$|^wasm magic bytes$|subsection$|^start section|^\[\d+ Unreachable")


def strip_hashes(name):
    name = re.sub(r"::h[0-9a-f]{16}(?=$|[^0-9a-f])", "", name)   # legacy mangling's hash
    return re.sub(r"\[[0-9a-f]{5,16}\]", "", name)             # v0 crate disambiguators


def split_top(s, sep):
    """Splits s at sep where s is not inside <>, (), []."""
    depth, out, cur, i = 0, [], "", 0
    while i < len(s):
        c = s[i]
        if c in "<([":
            depth += 1
        elif c in ">)]" and not (c == ">" and i > 0 and s[i - 1] == "-"):
            depth -= 1
        if depth == 0 and s.startswith(sep, i):
            out.append(cur)
            cur = ""
            i += len(sep)
            continue
        cur += c
        i += 1
    out.append(cur)
    return out


def first_crate(path):
    """The crate a Rust path or type starts with: `alloc::vec::Vec<T>` -> alloc, `&str` -> core,
    a generic parameter (`T`, `F`) -> None."""
    p = path.strip()
    while True:
        p2 = re.sub(r"^(&(mut )?|\*(const|mut) |dyn |impl |unsafe |extern \"C\" |\(|\[|for<[^>]*> )", "", p)
        if p2 == p:
            break
        p = p2.strip()
    if p.startswith("<"):
        inner = qualified(p)
        if inner:
            return inner
        p = p[1:]
    m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", p)
    if not m:
        return None
    word = m.group(0)
    if word in PRIMITIVES:
        return "core"
    if p[m.end():].startswith("::") and word[:1].islower():
        return word
    return None


def qualified(name):
    """For `<A as B>::f` the crate whose code it is: A's, unless A is a std or generic type and
    B names a crate that is not std (then B's)."""
    if not name.startswith("<"):
        return None
    depth = 0
    for i, c in enumerate(name):
        if c == "<":
            depth += 1
        elif c == ">" and name[i - 1] != "-":
            depth -= 1
            if depth == 0:
                inner = name[1:i]
                break
    else:
        return None
    parts = split_top(inner, " as ")
    a = first_crate(parts[0])
    b = first_crate(parts[1]) if len(parts) > 1 else None
    if a and a not in STD:
        return a
    if b and b not in STD:
        return b
    return a or b


def generic_args_crate(name):
    """The first non-std crate named inside a std function's type arguments
    (`core::ptr::drop_in_place<fluent_bundle::FluentResource>` -> fluent_bundle)."""
    for m in re.finditer(r"(?<![\w:])([a-z_][a-z0-9_]*)::", name):
        c = m.group(1)
        if c not in STD:
            before = name[:m.start()]
            if before.count("<") > before.count(">"):
                return c
    return None


def crate_of(name):
    """(crate, moved_from_std) for a demangled function name."""
    n = strip_hashes(name)
    if n.startswith(("__wbg_", "__wbindgen", "__externref", "wasm-bindgen")) or n.endswith("externref shim") \
            and not re.match(r"[a-z_][a-z0-9_]*::", n):
        return "wasm_bindgen", False
    if n.startswith("intounderlying"):
        return "wasm_streams", False
    if STD_SYMBOLS.match(n):
        return "std", False
    c = qualified(n) if n.startswith("<") else first_crate(n)
    if c is None:
        return "(unnamed)", False
    if c in STD:
        g = generic_args_crate(n)
        if g:
            return g, True
    return c, False


def group_of(crate):
    if crate in STD:
        return "std/core/alloc"
    if crate in LEPTOS or crate.startswith("leptos"):
        return "leptos/tachys/reactive_graph"
    if crate.startswith(("fluent", "intl", "unic_")) or crate in FLUENT_EXTRA:
        return "fluent*/intl*/unic*"
    if crate in SERDE:
        return "serde/serde_json"
    if crate.startswith("carekey"):
        return "carekey_*"
    if crate in WBG or crate.startswith(("gloo", "wasm_bindgen")):
        return "wasm_bindgen/js_sys/web_sys"
    return "other"


def std_part(name):
    """Which part of the standard library a std function is (for the panic/format question)."""
    n = strip_hashes(name)
    if re.search(r"panic|rust_begin_unwind|rust_panic|unwrap_failed|expect_failed|"
                 r"slice_(start|end)_index|index_out_of_bounds|_len_fail|order_fail|assert_failed|"
                 r"capacity_overflow|handle_alloc_error|raw_vec::handle_error|str_index_overflow_fail|"
                 r"slice_error_fail", n):
        return "panics (messages, hooks, locations)"
    if re.search(r"flt2dec|dec2flt|bignum|fmt::float|FromStr>::from_str|num::.*parse|from_str_radix", n):
        return "float/integer printing and parsing"
    if re.search(r"core::fmt|alloc::fmt|fmt::Formatter|fmt::Arguments|as core::fmt::|escape_debug|"
                 r"Write>::write_fmt|write_char|pad_integral|pad_formatted|::fmt$", n):
        return "formatting (core::fmt, Display/Debug)"
    if re.search(r"dlmalloc|__rust_alloc|__rust_dealloc|__rust_realloc|__rdl_|__rg_|alloc::alloc::", n):
        return "allocator (dlmalloc)"
    if re.match(r"(memcpy|memmove|memset|memcmp|bcmp)$", n):
        return "memcpy/memset/memcmp"
    if n.startswith("core::ptr::drop_in_place") or "drop_slow" in n or "as core::ops::drop::Drop>" in n:
        return "drop glue, Arc/Rc drop (types not named)"
    if re.search(r"FnOnce::call_once|FnMut::call_mut|Fn::call|vtable\.shim", n):
        return "closure call shims (owners not named)"
    if re.search(r"core::iter|Iterator|collect|FromIterator|extend|Extend", n):
        return "iterators, collect (types not named)"
    if re.search(r"hash|Hash", n):
        return "hashing (BuildHasher::hash_one ...)"
    if re.search(r"str>::|<str|string::|String|char>::|unicode|to_lowercase|to_uppercase", n):
        return "strings, chars, unicode"
    if re.search(r"raw_vec|vec::|Vec<|slice|sort|collections|btree|VecDeque", n):
        return "Vec, slices, sorting, collections"
    if re.search(r"sync::|mpsc|mpmc|Mutex|RwLock|thread|Once", n):
        return "sync, channels (single-threaded wasm)"
    return "other std"


# --- reading the module -------------------------------------------------------------------

def leb(b, i):
    r = s = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7F) << s
        s += 7
        if x < 0x80:
            return r, i


def skip_const_expr(b, i):
    while True:
        op = b[i]
        i += 1
        if op == 0x0B:
            return i
        if op in (0x41, 0x42, 0x23, 0xD2):   # i32.const, i64.const, global.get, ref.func
            _, i = leb(b, i)
        elif op == 0xD0:                     # ref.null t
            i += 1
        else:
            raise ValueError(f"unexpected opcode 0x{op:02x} in a constant expression")


def read_module(path):
    """Function bodies and data segments with their names (from the name section)."""
    b = open(path, "rb").read()
    assert b[:4] == b"\0asm", f"{path}: not a wasm module"
    i, imported, bodies, segments = 8, 0, [], []
    fnames, dnames = {}, {}
    while i < len(b):
        sid = b[i]
        size, i = leb(b, i + 1)
        end = i + size
        if sid == 2:  # imports: count the functions, which come first in the function index space
            n, j = leb(b, i)
            for _ in range(n):
                for _ in range(2):
                    ln, j = leb(b, j)
                    j += ln
                kind = b[j]
                j += 1
                if kind == 0:
                    imported += 1
                    _, j = leb(b, j)
                elif kind == 1:
                    j += 1
                    flags, j = leb(b, j)
                    _, j = leb(b, j)
                    if flags & 1:
                        _, j = leb(b, j)
                elif kind == 2:
                    flags, j = leb(b, j)
                    _, j = leb(b, j)
                    if flags & 1:
                        _, j = leb(b, j)
                elif kind == 3:
                    j += 2
                elif kind == 4:
                    j += 1
                    _, j = leb(b, j)
        elif sid == 10:
            n, j = leb(b, i)
            for _ in range(n):
                start = j
                ln, j = leb(b, j)
                bodies.append(b[start:j + ln])
                j += ln
        elif sid == 11:
            n, j = leb(b, i)
            for _ in range(n):
                flag, j = leb(b, j)
                if flag == 2:
                    _, j = leb(b, j)
                if flag in (0, 2):
                    j = skip_const_expr(b, j)
                ln, j = leb(b, j)
                segments.append(b[j:j + ln])
                j += ln
        elif sid == 0:
            ln, j = leb(b, i)
            if b[j:j + ln] == b"name":
                j += ln
                while j < end:
                    sub = b[j]
                    sl, j = leb(b, j + 1)
                    if sub in (1, 9):
                        target = fnames if sub == 1 else dnames
                        n, k = leb(b, j)
                        for _ in range(n):
                            idx, k = leb(b, k)
                            nl, k = leb(b, k)
                            target[idx] = b[k:k + nl].decode("utf-8", "replace")
                            k += nl
                    j += sl
        i = end
    funcs = [(fnames.get(imported + k, f"code[{k}]"), body) for k, body in enumerate(bodies)]
    data = [(f'data segment "{dnames[k]}"' if k in dnames else f"data[{k}]", seg)
            for k, seg in enumerate(segments)]
    return b, funcs, data


def brotli(blob):
    if not blob:
        return 0
    return len(subprocess.run(["brotli", "-c", "-q", "11"], input=blob, check=True,
                              capture_output=True).stdout)


def twiggy_json(args):
    out = subprocess.run(["twiggy"] + args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("label")
    ap.add_argument("wasm")
    ap.add_argument("--final", help="the Trunk-built (wasm-opt'd) wasm in dist/, for scale")
    ap.add_argument("--catalogues", help="crates/i18n/locales, to find compiled-in catalogues")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--crates", type=int, default=25, help="crates listed by name")
    ap.add_argument("--tsv", help="also write every function: bytes, crate, group, name")
    ap.add_argument("--stage", default="wasm-bindgen output, before wasm-opt")
    a = ap.parse_args()

    blob, funcs, data = read_module(a.wasm)
    code_b = sum(len(body) for _, body in funcs)
    data_b = sum(len(seg) for _, seg in data)
    cd = code_b + data_b
    rest_b = len(blob) - cd
    named = sum(1 for n, _ in funcs if not n.startswith("code["))

    final_raw = final_br = None
    if a.final and os.path.exists(a.final):
        final_raw = os.path.getsize(a.final)
        final_br = brotli(open(a.final, "rb").read())

    print(f"--- {a.label} ({a.stage}): {len(blob):,} B = code {code_b:,} B ({len(funcs)} functions, "
          f"{named} named) + data {data_b:,} B + names, types, imports, exports, tables {rest_b:,} B")
    if final_br:
        print(f"    shipped (Trunk: wasm-opt -Oz, no names) {os.path.basename(a.final)}: "
              f"raw {final_raw:,} B, brotli -q 11 {final_br:,} B")
    else:
        print("    (no Trunk-built wasm in dist/ to scale by: scripts/build-client.sh makes one)")
    if named == 0:
        print("    WARNING: no function names (name section stripped): crates cannot be told apart")

    # (a) top by retained size (twiggy)
    items = twiggy_json(["top", "--retained", "-f", "json", a.wasm])
    print()
    print(f"  (a) top {a.top} items by retained size: the item and all it alone keeps alive. Most code is")
    print("      reachable through the function table (closures, trait objects), so a retained size")
    print("      is a floor of what removing the item would save.")
    print(f"      {'retained':>9} {'%':>6} {'shallow':>8}  item")
    shown = 0
    for it in items:
        if META.search(it["name"]):
            continue
        print(f"      {it['retained_size']:>9,} {it['retained_size_percent']:>5.1f}% {it['shallow_size']:>8,}  "
              f"{strip_hashes(it['name'])[:140]}")
        shown += 1
        if shown >= a.top:
            break

    # (b) by crate
    by_crate, by_group = defaultdict(list), defaultdict(list)
    moved, std_parts, crate_group = defaultdict(int), defaultdict(list), {}
    rows = []
    for n, body in funcs:
        c, via = crate_of(n)
        g = group_of(c) if c != "(unnamed)" else "other"
        by_crate[c].append(body)
        by_group[g].append(body)
        crate_group[c] = g
        if via:
            moved[g] += len(body)
        if g == "std/core/alloc":
            std_parts[std_part(n)].append(body)
        rows.append((len(body), c, g, strip_hashes(n)))
    if a.tsv:
        with open(a.tsv, "w") as f:
            f.write("bytes\tcrate\tgroup\tfunction\n")
            for r in sorted(rows, reverse=True):
                f.write("\t".join(map(str, r)) + "\n")

    # Brotli: each group compressed alone ("br alone", measured), and that scaled so the groups
    # and the data add up to the shipped file's brotli ("~ship br", an estimate).
    catalogue_bytes, paths_blob = [], b""
    alldata = b"".join(seg for _, seg in data)
    if a.catalogues and os.path.isdir(a.catalogues):
        for f in sorted(os.listdir(a.catalogues)):
            if f.endswith(".ftl"):
                text = open(os.path.join(a.catalogues, f), encoding="utf-8").read()
                # crates/i18n/build.rs: the apps carry the catalogues without comment lines
                body = "".join(l + "\n" for l in text.splitlines() if not l.startswith("#")).encode()
                if len(body) > 64 and body[:4096] in alldata:
                    catalogue_bytes.append((f, body))
    paths_blob = b"".join(re.findall(rb"[\x20-\x7e]*(?:/\.cargo/registry/|/rustc/|/src/)[\x20-\x7e]*\.rs", alldata))

    br_group = {g: brotli(b"".join(by_group[g])) for g in GROUPS}
    br_data = brotli(alldata)
    br_sum = sum(br_group.values()) + br_data
    k = (final_br / br_sum) if final_br and br_sum else None

    def row(label, n, br=None, note=""):
        pct = 100.0 * n / cd if cd else 0.0
        bra = f"{br:>9,}" if br is not None else f"{'':>9}"
        est = f"{br * k:>9,.0f}" if (k and br is not None) else f"{'':>9}"
        print(f"      {label:<46} {n:>9,} {pct:>6.1f}% {bra} {est}  {note}".rstrip())

    print()
    print("  (b) code + data by crate. bytes: function bodies (shallow sizes) and data segments;")
    print("      % of code+data; br alone: that part brotli'd by itself; ~ship br: br alone scaled")
    print("      so the parts add up to the shipped file's brotli (an estimate, not a measurement)")
    print(f"      {'group':<46} {'bytes':>9} {'%':>7} {'br alone':>9} {'~ship br':>9}")
    for g in GROUPS:
        n = sum(len(x) for x in by_group[g])
        note = GROUP_NOTES.get(g, "")
        if moved[g]:
            note = (note + "; " if note else "") + f"incl. {moved[g]:,} B std drop glue/generics for its types"
        row(g, n, br_group[g], note)
    row("data (literals, vtables, tables, catalogue)", data_b, br_data)
    print(f"      {'-' * 46} {'-' * 9} {'-' * 7} {'-' * 9} {'-' * 9}")
    row("code + data", cd, br_sum)
    print(f"      (not counted: names, types, imports, exports, tables {rest_b:,} B; the shipped file has no names)")

    print()
    print(f"      the {a.crates} largest crates:")
    for c, bodies in sorted(by_crate.items(), key=lambda kv: -sum(map(len, kv[1])))[:a.crates]:
        note = f"[{crate_group[c]}]" + (f" {NOTES[c]}" if NOTES.get(c) else "")
        row(f"  {c}", sum(map(len, bodies)), brotli(b"".join(bodies)), note)

    if std_parts:
        print()
        print("      std/core/alloc by part:")
        for p, bodies in sorted(std_parts.items(), key=lambda kv: -sum(map(len, kv[1]))):
            row(f"  {p}", sum(map(len, bodies)), brotli(b"".join(bodies)))

    print()
    print("      data:")
    for n, seg in sorted(data, key=lambda kv: -len(kv[1]))[:4]:
        row(f"  {n}", len(seg))
    for f, body in catalogue_bytes:
        row(f"  of which catalogue {f} (compiled in)", len(body), brotli(body))
    if paths_blob:
        row("  of which source file paths (panic locations)", len(paths_blob), brotli(paths_blob))
    strings = b"".join(re.findall(rb"[\x20-\x7e\n\t]{6,}", alldata))
    for _, body in catalogue_bytes:
        strings = strings.replace(body, b"")
    strings = strings.replace(paths_blob, b"")
    row("  of which other text (messages, names, keys)", len(strings))
    row("  of which the rest (vtables, locations, tables)",
        data_b - len(strings) - len(paths_blob) - sum(len(b) for _, b in catalogue_bytes))

    # duplicated generic code (twiggy monos)
    try:
        monos = twiggy_json(["monos", "-f", "json", "-m", "12", "-n", "0", a.wasm])
    except (subprocess.CalledProcessError, json.JSONDecodeError):
        monos = []
    total = next((m for m in monos if m.get("generic", "").startswith("Σ")), None)
    monos = [m for m in monos if not m.get("generic", "").startswith("Σ")]
    if monos:
        print()
        print("      generic functions with the most copies (twiggy monos; bloat = all copies but the largest):")
        for m in monos:
            print(f"        {m['total_size']:>8,} B in copies, {m['approximate_monomorphization_bloat_bytes']:>7,} bloat  "
                  f"{strip_hashes(m['generic'])[:110]}")
        if total:
            print(f"        {total['total_size']:>8,} B in all generic copies, "
                  f"{total['approximate_monomorphization_bloat_bytes']:>7,} bloat  (all generics)")
    print()


if __name__ == "__main__":
    sys.exit(main())
