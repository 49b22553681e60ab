#!/usr/bin/env python3
"""Which Sigma rule files pySigma can parse: prints one JSON object {path: null | "error"}.

Used by crates/exhunt-detect/tests/pysigma_crosscheck.rs to check that exhunt and pySigma agree
on which corpus rules are valid. Usage: pysigma_parse_check.py DIR...
"""
import json
import pathlib
import sys

from sigma.collection import SigmaCollection


def main() -> None:
    out = {}
    for root in sys.argv[1:]:
        for path in sorted(pathlib.Path(root).rglob("*.yml")):
            try:
                collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"))
                errors = [str(e) for e in collection.errors] if hasattr(collection, "errors") else []
                for rule in collection.rules:
                    errors.extend(str(e) for e in getattr(rule, "errors", []) or [])
                    # pySigma parses conditions lazily; a rule whose condition does not parse
                    # (e.g. names an undefined detection) cannot run, so force it here.
                    detection = getattr(rule, "detection", None)
                    for condition in getattr(detection, "parsed_condition", []) or []:
                        try:
                            condition.parsed
                        except Exception as e:  # noqa: BLE001
                            errors.append(f"{type(e).__name__}: {e}")
                out[str(path)] = "; ".join(errors) if errors else None
            except Exception as e:  # noqa: BLE001 - any failure means "does not parse"
                out[str(path)] = f"{type(e).__name__}: {e}"
    json.dump(out, sys.stdout, indent=0, sort_keys=True)


if __name__ == "__main__":
    main()
