"""Print the README's per-guide findings (robust verdicts, capacity lines and claim tables)
from a run of the four guides.

    cargo run --release -- scenarios/*.toml            # writes output/<guide>/
    python3 validation/readme_findings.py output > /tmp/findings.md

The README's "What the guides' claims come to" section is pasted from this output, so every
number in it is one the run wrote (claims.csv, capacity.csv).
"""

import csv
import os
import sys

GUIDES = [
    ("gigchain", "GigChain", "000_4e7f2fdba52684be.txt"),
    ("fixia", "Fixia", "002_8e182db582ae768d.txt"),
    ("fintech", "Fintech", "003_159f737824456b28.txt"),
    ("ferreteria", "Ferretería", "004_369573b9555f056f.txt"),
]


def rows(folder, guide, name):
    with open(os.path.join(folder, guide, name), newline="") as f:
        return list(csv.DictReader(f))


def sig(x):
    """3 significant digits, whole numbers from 100 up."""
    v = float(x)
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.3g}"


def cell(s):
    return s.replace("|", "\\|").replace("\n", " ")


def checked(c):
    lo, hi = c["claimed_min"], c["claimed_max"]
    m = f"`{c['metric']}`"
    if lo and hi:
        s = f"{m} {sig(lo)} – {sig(hi)}"
    elif lo:
        s = f"{m} ≥ {sig(lo)}"
    else:
        s = f"{m} ≤ {sig(hi)}"
    return s + (f" at {c['users']} users" if c["users"] else "")


def simulated(c):
    if c["simulated"]:
        v = sig(c["simulated"])
        ci = c["simulated_ci"]
        return f"{v} ± {sig(ci)}" if ci and float(ci) > 0 else v
    if c["simulated_at_least"]:
        return f"≥ {sig(c['simulated_at_least'])}"
    if c["simulated_at_most"]:
        return f"≤ {sig(c['simulated_at_most'])}"
    return "—"


def main(folder):
    out = []
    out.append("| guide | claims | holds | fails | depends | capacity of the last phase, p5–p50–p95 (point run) |")
    out.append("|---|---|---|---|---|---|")
    depends = []
    for g, title, _ in GUIDES:
        cl = rows(folder, g, "claims.csv")
        cap = rows(folder, g, "capacity.csv")
        n = {k: sum(1 for c in cl if c.get("robust_verdict") == k) for k in ("holds", "fails", "depends")}
        last = cap[-1]
        point = last["capacity_users"] or f"≥ {last['capacity_users_at_least']}"
        p = [f"{float(last[k]):,.0f}" for k in ("capacity_p5", "capacity_p50", "capacity_p95")]
        point = f"{int(point):,}" if point.isdigit() else point
        out.append(f"| {title} | {len(cl)} | {n['holds']} | {n['fails']} | {n['depends']} | {'–'.join(p)} users ({point}) |")
        dep = [c["claim"] for c in cl if c.get("robust_verdict") == "depends"]
        most = sorted({c["depends_most_on"] for c in cl if c.get("robust_verdict") == "depends"})
        if dep:
            depends.append(f"{title} {', '.join(dep)} (most on {', '.join(most)})")
    out.append("")
    out.append("Depends: " + "; ".join(depends) + ".")
    out.append("")
    for g, title, seed in GUIDES:
        cl = rows(folder, g, "claims.csv")
        cap = rows(folder, g, "capacity.csv")
        v = {k: sum(1 for c in cl if c["verdict"] == k) for k in ("supported", "refuted", "inconclusive")}
        caps = []
        for c in cap:
            users = c["capacity_users"]
            if users:
                caps.append(f"{c['phase']} **{users}** users (bottleneck: {c['bottleneck']})")
            elif c["capacity_users_at_least"]:
                caps.append(f"{c['phase']} **≥ {c['capacity_users_at_least']}** users ({c['status']})")
            else:
                caps.append(f"{c['phase']}: no capacity ({c['status']})")
        out.append(f"### {title} (`{seed}`)")
        out.append("")
        out.append(
            f"{len(cl)} claims: {v['supported']} supported, {v['refuted']} refuted, "
            f"{v['inconclusive']} inconclusive at the point run. Capacity under the scenario's SLO: "
            + "; ".join(caps) + "."
        )
        out.append("")
        out.append("| claim | phase | the guide says | claim as checked | simulated | verdict | robust (share of designs) | break-even |")
        out.append("|---|---|---|---|---|---|---|---|")
        for c in cl:
            robust = c.get("robust_verdict", "")
            if robust:
                robust = f"{robust} ({float(c['p_holds']):.2f})"
            out.append(
                f"| {c['claim']} | {cell(c['phase'])} | “{cell(c['quote'])}” | {checked(c)} | {simulated(c)} "
                f"| **{c['verdict']}** | {robust} | {cell(c['break_even'])} |"
            )
        out.append("")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "output")
