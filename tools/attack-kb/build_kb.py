#!/usr/bin/env python3
"""Build exhunt-attribute's knowledge base (crates/exhunt-attribute/data/kb.json).

Inputs (read-only):
  * the MITRE ATT&CK Enterprise STIX 2.1 bundle (plain JSON or .xz),
  * MISP galaxies threat-actor.json and mitre-intrusion-set.json,
  * Microsoft's threat-actor naming map (MicrosoftMapping.json).

Output: one compact JSON file. Aliases are stored per source and never merged: every
non-ATT&CK entry is linked to an ATT&CK group only by a direct statement of that source
(it lists the G-id, or the group's name), and the way it was linked is recorded.

Python 3.11 standard library only.

Usage:
  python3 tools/attack-kb/build_kb.py \
      --attack ../shared/data/attack/enterprise-attack-18.1.json.xz \
      --actors ../shared/data/actors \
      --out crates/exhunt-attribute/data/kb.json
"""

import argparse
import json
import lzma
import re
import shutil
from pathlib import Path

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august",
     "september", "october", "november", "december"], start=1)}


def load_json(path: Path):
    if path.suffix == ".xz":
        with lzma.open(path, "rt", encoding="utf-8") as f:
            return json.load(f)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def live(o):
    return not o.get("revoked") and not o.get("x_mitre_deprecated")


def attack_id(o):
    for r in o.get("external_references", []):
        if r.get("source_name") == "mitre-attack" and r.get("external_id"):
            return r["external_id"]
    return None


def citation_date(desc: str):
    """'Author. (2021, March 2). Title.' -> '2021-03-02' (or '2021-03', '2021')."""
    m = re.search(r"\((\d{4})(?:,\s*([A-Za-z]+)(?:\s+(\d{1,2}))?)?\)", desc or "")
    if not m:
        return None
    year, month, day = m.group(1), m.group(2), m.group(3)
    mo = MONTHS.get((month or "").lower())
    if not mo:
        return year
    if day:
        return f"{year}-{mo:02d}-{int(day):02d}"
    return f"{year}-{mo:02d}"


def norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--attack", required=True, type=Path)
    ap.add_argument("--actors", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()

    bundle = load_json(args.attack)
    objs = bundle["objects"]
    by_id = {o["id"]: o for o in objs}

    collection = next((o for o in objs if o["type"] == "x-mitre-collection"), {})
    notice = next((o.get("definition", {}).get("statement") for o in objs
                   if o["type"] == "marking-definition"), None)

    # Citations: one global table, (source_name, date, url), referenced by index.
    cit_index = {}
    citations = []
    cit_info = {}
    for o in objs:
        for r in o.get("external_references", []):
            sn = r.get("source_name")
            if sn and sn not in cit_info and sn != "mitre-attack":
                cit_info[sn] = (citation_date(r.get("description", "")), r.get("url"))

    def cite(sn):
        if sn not in cit_index:
            d, u = cit_info.get(sn, (None, None))
            cit_index[sn] = len(citations)
            citations.append([sn, d, u])
        return cit_index[sn]

    def rel_cites(rel):
        keys = []
        for r in rel.get("external_references", []):
            sn = r.get("source_name")
            if sn and sn != "mitre-attack":
                keys.append(cite(sn))
        # the text cites keys too: "(Citation: X)"
        for sn in re.findall(r"\(Citation: ([^)]+)\)", rel.get("description", "")):
            if sn in cit_info:
                keys.append(cite(sn))
        return sorted(set(keys))

    tactics = {}
    for o in objs:
        if o["type"] == "x-mitre-tactic" and live(o):
            tactics[o["x_mitre_shortname"]] = [attack_id(o), o["name"]]

    techniques = {}
    tech_by_stix = {}
    for o in objs:
        if o["type"] == "attack-pattern" and live(o):
            tid = attack_id(o)
            if not tid:
                continue
            tech_by_stix[o["id"]] = tid
            techniques[tid] = {
                "n": o["name"],
                "t": [k["phase_name"] for k in o.get("kill_chain_phases", [])
                      if k.get("kill_chain_name") == "mitre-attack"],
            }

    software = {}
    soft_by_stix = {}
    for o in objs:
        if o["type"] in ("malware", "tool") and live(o):
            sid = attack_id(o)
            if not sid:
                continue
            soft_by_stix[o["id"]] = sid
            aliases = [a for a in o.get("x_mitre_aliases", []) if a != o["name"]]
            software[sid] = {"n": o["name"], "k": o["type"]}
            if aliases:
                software[sid]["a"] = aliases

    def feature(ref):
        return tech_by_stix.get(ref) or soft_by_stix.get(ref)

    groups = {}
    group_by_stix = {}
    for o in objs:
        if o["type"] == "intrusion-set" and live(o):
            gid = attack_id(o)
            group_by_stix[o["id"]] = gid
            groups[gid] = {
                "id": gid,
                "stix": o["id"],
                "name": o["name"],
                "url": f"https://attack.mitre.org/groups/{gid}",
                "aliases": {"attack": [a for a in o.get("aliases", []) if a != o["name"]]},
                "uses": {},
                "campaigns": [],
            }

    campaigns = {}
    camp_by_stix = {}
    for o in objs:
        if o["type"] == "campaign" and live(o):
            cid = attack_id(o)
            camp_by_stix[o["id"]] = cid
            own = [cite(r["source_name"]) for r in o.get("external_references", [])
                   if r.get("source_name") not in (None, "mitre-attack") and r.get("description")
                   and not r["description"].startswith("(Citation:")]
            campaigns[cid] = {
                "id": cid,
                "name": o["name"],
                "first_seen": (o.get("first_seen") or "")[:10] or None,
                "last_seen": (o.get("last_seen") or "")[:10] or None,
                "attributed_to": [],
                "uses": {},
                "cites": sorted(set(own)),
            }

    for o in objs:
        if o["type"] != "relationship" or not live(o):
            continue
        rt, s, t = o["relationship_type"], o["source_ref"], o["target_ref"]
        if rt == "uses":
            f = feature(t)
            if not f:
                continue
            if s in group_by_stix:
                groups[group_by_stix[s]]["uses"][f] = rel_cites(o)
            elif s in camp_by_stix:
                campaigns[camp_by_stix[s]]["uses"][f] = rel_cites(o)
        elif rt == "attributed-to" and s in camp_by_stix and t in group_by_stix:
            cid, gid = camp_by_stix[s], group_by_stix[t]
            campaigns[cid]["attributed_to"].append(gid)
            groups[gid]["campaigns"].append(cid)

    # ---- alias sources -------------------------------------------------------------------
    actors = args.actors
    misp_ta = load_json(actors / "clusters_threat-actor.json")
    misp_is = load_json(actors / "clusters_mitre-intrusion-set.json")
    ms_map = load_json(actors / "microsoft-threat-actor-mapping.json")

    for v in misp_is["values"]:
        gid = v.get("meta", {}).get("external_id")
        if gid in groups:
            syn = [s for s in v["meta"].get("synonyms", []) if s != groups[gid]["name"]]
            groups[gid]["aliases"]["misp-mitre-intrusion-set"] = syn

    for gid, g in groups.items():
        names = {norm(g["name"])}
        hits = []
        for v in misp_ta["values"]:
            meta = v.get("meta", {})
            syn = meta.get("synonyms", [])
            how = None
            if gid in syn:
                how = f"MISP entry lists {gid}"
            elif norm(v["value"]) in names:
                how = "MISP entry has the ATT&CK group name"
            elif names & {norm(s) for s in syn}:
                how = "MISP entry lists the ATT&CK group name as a synonym"
            if how:
                e = {"name": v["value"], "uuid": v["uuid"], "match": how,
                     "synonyms": [s for s in syn if s != gid]}
                if meta.get("country"):
                    e["country"] = meta["country"]
                hits.append(e)
        if hits:
            g["aliases"]["misp-threat-actor"] = hits

    for gid, g in groups.items():
        gnames = {norm(g["name"])}
        galiases = {norm(a) for a in g["aliases"]["attack"]}
        hits = []
        for e in ms_map:
            primary = e.get("Threat actor name", "").strip()
            others = [x.strip() for x in e.get("Other names", "").split(",") if x.strip()]
            onorm = {norm(x) for x in others}
            how = None
            if norm(primary) in gnames or gnames & onorm:
                how = "Microsoft lists the ATT&CK group name"
            elif norm(primary) in galiases:
                how = "ATT&CK lists this Microsoft name as an alias"
            elif galiases & onorm:
                shared = sorted(x for x in others if norm(x) in galiases)
                how = "Microsoft lists ATT&CK alias " + ", ".join(shared) + " (overlap only)"
            if how:
                hits.append({"name": primary, "other": others, "origin": e.get("Origin/Threat"),
                             "match": how})
        if hits:
            g["aliases"]["microsoft"] = hits

    # ---- base rates -----------------------------------------------------------------------
    def profile(g):
        feats = set(g["uses"])
        for cid in g["campaigns"]:
            feats |= set(campaigns[cid]["uses"])
        return feats

    counts = {}
    for g in groups.values():
        for f in profile(g):
            counts[f] = counts.get(f, 0) + 1
    for tid, t in techniques.items():
        t["g"] = counts.get(tid, 0)
    for sid, s in software.items():
        s["g"] = counts.get(sid, 0)

    def pack_uses(u):
        return [[f, c] for f, c in sorted(u.items())]

    out = {
        "format": 1,
        "notice": notice,
        "licence_file": "ATTACK-LICENSE.txt",
        "attack": {
            "version": collection.get("x_mitre_version"),
            "modified": collection.get("modified"),
            "spec": collection.get("x_mitre_attack_spec_version"),
        },
        "alias_sources": {
            "attack": "MITRE ATT&CK intrusion-set aliases",
            "misp-mitre-intrusion-set": f"MISP galaxy mitre-intrusion-set v{misp_is.get('version')} (CC0/BSD-2)",
            "misp-threat-actor": f"MISP galaxy threat-actor v{misp_ta.get('version')} (CC0/BSD-2)",
            "microsoft": "Microsoft threat actor naming map, microsoft/mstic PublicFeeds/ThreatActorNaming (CC BY 4.0)",
        },
        "tactics": tactics,
        "techniques": techniques,
        "software": software,
        "citations": citations,
        "groups": [dict(g, uses=pack_uses(g["uses"])) for g in sorted(groups.values(), key=lambda g: g["id"])],
        "campaigns": [dict(c, uses=pack_uses(c["uses"])) for c in sorted(campaigns.values(), key=lambda c: c["id"])],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    lic = args.attack.parent / "ATTACK-LICENSE.txt"
    if lic.exists():
        shutil.copyfile(lic, args.out.parent / "ATTACK-LICENSE.txt")
    print(f"{args.out}: {args.out.stat().st_size} bytes, {len(groups)} groups, "
          f"{len(campaigns)} campaigns, {len(techniques)} techniques, {len(software)} software, "
          f"{len(citations)} citations")


if __name__ == "__main__":
    main()
