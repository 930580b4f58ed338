"""Every locked dependency declares a rust-version no newer than capsim's."""
import json
import subprocess
import sys
import tomllib

ours = tomllib.load(open("Cargo.toml", "rb"))["package"]["rust-version"]
meta = json.loads(
    subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        check=True, capture_output=True, text=True,
    ).stdout
)


def key(v):
    return tuple(int(x) for x in v.split(".")[:3]) + (0,) * (3 - len(v.split(".")))


newer = [
    f"{p['name']} {p['version']} needs Rust {p['rust_version']}"
    for p in meta["packages"]
    if p.get("rust_version") and key(p["rust_version"]) > key(ours)
]
if newer:
    print(f"capsim declares rust-version {ours}, but:\n  " + "\n  ".join(newer))
    sys.exit(1)
print(f"{len(meta['packages'])} packages, none needs a Rust newer than {ours}")
