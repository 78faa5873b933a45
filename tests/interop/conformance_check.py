#!/usr/bin/env python3
"""Compares one run of the MCP conformance suite (`conformance server -o DIR`) with its
baseline: every failing check must be listed there with a reason, and at least `min_passed`
checks must pass. Prints the counts; exits 1 on a new failure or too few passes.

The baseline (tests/interop/conformance-<version>.baseline.json):
  {"suite": "...", "min_passed": N,
   "reasons": {"no-prompts": "why", ...},
   "expected_failures": {"<scenario>/<check id>": "<reason key or text>", ...}}
"""
import argparse
import json
import pathlib
import re
import sys

# Result folders are named server-<scenario>-<ISO timestamp with dashes>.
FOLDER = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$")


def load_results(results: pathlib.Path):
    checks = {}
    crashed = []
    for folder in sorted(p for p in results.iterdir() if p.is_dir()):
        match = FOLDER.match(folder.name)
        if not match:
            continue
        scenario = match["scenario"]
        path = folder / "checks.json"
        if not path.exists():
            crashed.append(scenario)
            continue
        for check in json.loads(path.read_text()):
            checks[f"{scenario}/{check['id']}"] = check
    return checks, crashed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", required=True, type=pathlib.Path)
    parser.add_argument("--results", required=True, type=pathlib.Path)
    parser.add_argument("--verbose", action="store_true", help="also list the expected failures")
    args = parser.parse_args()

    baseline = json.loads(args.baseline.read_text())
    reasons = baseline.get("reasons", {})
    expected = baseline["expected_failures"]
    checks, crashed = load_results(args.results)
    if not checks:
        print(f"conformance: no results in {args.results}", file=sys.stderr)
        return 1

    by_status = {}
    for key, check in checks.items():
        by_status.setdefault(check["status"], []).append(key)
    passed = len(by_status.get("SUCCESS", []))
    failures = sorted(by_status.get("FAILURE", []) + [f"{s}/(no results)" for s in crashed])

    new = [k for k in failures if k not in expected]
    fixed = sorted(k for k in expected if checks.get(k, {}).get("status") == "SUCCESS")
    others = ", ".join(f"{len(v)} {s.lower()}" for s, v in sorted(by_status.items())
                       if s not in ("SUCCESS", "FAILURE"))
    print(f"{baseline['suite']}: {passed} passed (baseline minimum {baseline['min_passed']}), "
          f"{len(failures)} failed ({len(failures) - len(new)} expected)"
          + (f", {others}" if others else ""))
    for key in fixed:
        print(f"  now passing, remove from the baseline: {key}")

    ok = True
    for key in new:
        ok = False
        message = checks.get(key, {}).get("errorMessage", "the scenario produced no checks.json")
        print(f"  NEW FAILURE {key}: {message}")
    if passed < baseline["min_passed"]:
        ok = False
        print(f"  FEWER PASSES than the baseline: {passed} < {baseline['min_passed']}")
    for key in failures:
        if args.verbose and key in expected:
            print(f"  expected failure {key}: {reasons.get(expected[key], expected[key])}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
