#!/usr/bin/env python3
"""Trunk post-build hook, run on TRUNK_STAGING_DIR before it becomes the dist directory.

1. Trunk injects `<script type="module">import init … </script>` into index.html. Our CSP is
   `script-src 'self' 'wasm-unsafe-eval'` (SECURITY.md S4), which forbids inline scripts, so
   the loader moves into `boot-<hash>.js` and index.html references it.
2. Release builds: the wasm-bindgen glue and public/app-check.js are minified with terser
   (Trunk's own JS minifier fails on the glue's `export default`), and the glue's
   subresource-integrity hash in index.html is recomputed to match. They are on every
   visitor's first download (issue 13: about 2.8 KB brotli).
3. Every text or wasm asset gets .br and .gz siblings so the server sends compressed bytes
   without compressing on each request.
4. The sign-in page, which the server draws, preloads its code at low priority (below).
"""
import base64
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys

staging = os.environ.get("TRUNK_STAGING_DIR")
public_url = os.environ.get("TRUNK_PUBLIC_URL", "/")
if not staging:
    sys.exit("TRUNK_STAGING_DIR is not set: run this from Trunk's post_build hook")
if not public_url.endswith("/"):
    public_url += "/"

index = os.path.join(staging, "index.html")
with open(index, encoding="utf-8") as f:
    html = f.read()

# Release builds are minified (Trunk.toml), which drops the attribute's quotes.
pattern = re.compile(r'<script type="?module"?(?: nonce="?[^">]*"?)?>(.*?)</script>', re.S)
inline = pattern.findall(html)
if len(inline) != 1:
    sys.exit(f"expected exactly one inline module script from Trunk, found {len(inline)}")
code = inline[0].strip() + "\n"
digest = hashlib.sha256(code.encode()).hexdigest()[:16]
name = f"boot-{digest}.js"
with open(os.path.join(staging, name), "w", encoding="utf-8") as f:
    f.write(code)
html = pattern.sub(f'<script type="module" src="{public_url}{name}"></script>', html, count=1)

def terser(path, *options):
    """Minifies `path` in place with end2end/node_modules' pinned terser."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tool = os.path.join(root, "end2end", "node_modules", ".bin", "terser")
    if not os.path.exists(tool):
        sys.exit("terser is missing: run scripts/setup.sh (it installs end2end's npm packages)")
    subprocess.run([tool, path, "--compress", "--mangle", *options, "-o", path], check=True)


if os.environ.get("TRUNK_PROFILE") == "release":
    # The glue: the one module index.html preloads with an integrity hash (not the boot file).
    for m in re.finditer(r'<link ([^>]*rel="?modulepreload"?[^>]*)>', html):
        attrs = m.group(1)
        href = re.search(r'href="?([^" >]+)"?', attrs).group(1)
        name = href[len(public_url):] if href.startswith(public_url) else href.lstrip("/")
        glue = os.path.join(staging, name)
        terser(glue, "--module")
        with open(glue, "rb") as f:
            digest = base64.b64encode(hashlib.sha384(f.read()).digest()).decode()
        fixed = re.sub(r'integrity="?sha384-[^" >]+"?', f'integrity="sha384-{digest}"', attrs)
        html = html.replace(attrs, fixed)
    # An ES5 script on purpose (it must run where the app cannot): terser keeps ES5.
    check = os.path.join(staging, "public", "app-check.js")
    if os.path.exists(check):
        terser(check, "--ecma", "5")

# 4. A page the server draws (the sign-in page: `<div id="first-page">`) paints from its own
#    HTML; its code is needed only to become interactive. Trunk preloads the glue and the wasm
#    at high priority, which tells the browser (and Lighthouse's simulated load, which counts
#    every high-priority request started before the largest paint as needed for it) that the
#    paint waits for them. `fetchpriority="low"` says what is true: it does not. Nothing else
#    on that page competes for the connection, so the code arrives as soon (issue 15 item 4).
if re.search(r'<div id="?first-page"?>', html):
    def low(m):
        tag = m.group(0)
        if "fetchpriority" in tag:
            return tag
        return tag[:-1].rstrip("/").rstrip() + ' fetchpriority="low">'
    html = re.sub(r'<link [^>]*rel="?(?:modulepreload|preload)"?[^>]*>', low, html)
    html = re.sub(r'<script type="module" src="[^"]+">', low, html)

# Written once, after every change above: before the copies below are compressed from it.
with open(index, "w", encoding="utf-8") as f:
    f.write(html)

# The page catalogues a bundle fetches (locales/<lang>.ftl) go without their translators'
# comment lines, as the compiled-in English one does (crates/i18n/build.rs): in Fluent a line
# starting with "#" is always a comment.
for root, _dirs, files in os.walk(staging):
    for fn in files:
        if fn.endswith(".ftl"):
            path = os.path.join(root, fn)
            with open(path, encoding="utf-8") as f:
                kept = [line for line in f if not line.startswith("#")]
            with open(path, "w", encoding="utf-8") as f:
                f.writelines(kept)

brotli = shutil.which("brotli")
if brotli is None:
    sys.exit("brotli is missing: install Debian's `brotli` package (scripts/setup.sh does)")
for root, _dirs, files in os.walk(staging):
    for fn in files:
        if not fn.endswith((".wasm", ".js", ".css", ".html", ".svg", ".json", ".txt", ".ftl")):
            continue
        path = os.path.join(root, fn)
        with open(path, "rb") as src, gzip.open(path + ".gz", "wb", compresslevel=9) as dst:
            shutil.copyfileobj(src, dst)
        subprocess.run([brotli, "-f", "-q", "11", "-o", path + ".br", path], check=True)
print(f"post-build: loader moved to {name}; compressed assets in {staging}")
