#!/usr/bin/env python3
"""Prints every failed or erroring test in the Surefire and Failsafe reports under the given
root, with its message and the head of its stack trace.

CI keeps only the end of a run's output, and Maven's own summary of failures scrolls out of it
behind the reactor summary; .ci/run calls this after a failed build so the names and reasons
are the last thing printed.
"""
import glob
import os
import sys
import xml.etree.ElementTree as ET

TRACE_LINES = 25
LINE_CHARS = 400  # an assertion may quote a whole body in its message


def clip(text):
    text = " | ".join(text.splitlines()) if "\n" in text else text
    return text if len(text) <= LINE_CHARS else f"{text[:LINE_CHARS]}... ({len(text)} chars)"


def main(root):
    reports = sorted(glob.glob(os.path.join(root, "**", "target", "*-reports", "TEST-*.xml"),
                               recursive=True))
    failed = 0
    for path in reports:
        try:
            suite = ET.parse(path).getroot()
        except ET.ParseError as e:
            print(f"== unreadable report {path}: {e}")
            continue
        for case in suite.iter("testcase"):
            for kind in ("failure", "error"):
                for problem in case.findall(kind):
                    failed += 1
                    where = os.path.relpath(path, root)
                    print(f"== {kind}: {case.get('classname')}#{case.get('name')} "
                          f"({case.get('time')} s) in {where}")
                    message = (problem.get("message") or "").strip()
                    if message:
                        print("   message: " + clip(message))
                    trace = (problem.text or "").strip().splitlines()
                    for line in trace[:TRACE_LINES]:
                        print("   " + clip(line))
                    if len(trace) > TRACE_LINES:
                        print(f"   ... {len(trace) - TRACE_LINES} more lines")
    print(f"== {failed} failed test(s) in {len(reports)} report(s) under {root}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
