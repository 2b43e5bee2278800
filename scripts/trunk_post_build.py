#!/usr/bin/env python3
"""Trunk post-build hook, run on TRUNK_STAGING_DIR before it becomes the dist directory.

1. Trunk injects `<script type="module">import init … </script>` into index.html. Our CSP is
   `script-src 'self' 'wasm-unsafe-eval'` (SECURITY.md S4), which forbids inline scripts, so
   the loader moves into `boot-<hash>.js` and index.html references it.
2. Every text or wasm asset gets .br and .gz siblings so the server sends compressed bytes
   without compressing on each request.
"""
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

pattern = re.compile(r'<script type="module"(?: nonce="[^"]*")?>(.*?)</script>', re.S)
inline = pattern.findall(html)
if len(inline) != 1:
    sys.exit(f"expected exactly one inline module script from Trunk, found {len(inline)}")
code = inline[0].strip() + "\n"
digest = hashlib.sha256(code.encode()).hexdigest()[:16]
name = f"boot-{digest}.js"
with open(os.path.join(staging, name), "w", encoding="utf-8") as f:
    f.write(code)
html = pattern.sub(f'<script type="module" src="{public_url}{name}"></script>', html, count=1)
with open(index, "w", encoding="utf-8") as f:
    f.write(html)

brotli = shutil.which("brotli")
if brotli is None:
    sys.exit("brotli is missing: install Debian's `brotli` package (scripts/setup.sh does)")
for root, _dirs, files in os.walk(staging):
    for fn in files:
        if not fn.endswith((".wasm", ".js", ".css", ".html", ".svg", ".json", ".txt")):
            continue
        path = os.path.join(root, fn)
        with open(path, "rb") as src, gzip.open(path + ".gz", "wb", compresslevel=9) as dst:
            shutil.copyfileobj(src, dst)
        subprocess.run([brotli, "-f", "-q", "11", "-o", path + ".br", path], check=True)
print(f"post-build: loader moved to {name}; compressed assets in {staging}")
