#!/usr/bin/env python3
"""The reference for the template language: CPython itself. Reads JSON lines like
`webhookctl render --batch` ({"template", "item", "query", "last_poll_time"}) from the file
given as argument (or stdin) and writes one JSON line per input: {"text": ...} or
{"error": "KeyError: 'x'", "kind": "compile"|"runtime"}, or {"kind": "skip"} when the
template cannot be written as a Python f-string literal.

A template is spliced into an ordinary f-string exactly as the Python connector did
(`eval('f"{}"'.format(url))`, the query between single quotes), so backslash escapes in
literal text apply and a quote in the template ends the f-string. iso() and quote() are the
two documented extras."""
import datetime
import json
import math
import re
import sys
import time
import urllib.parse
import warnings

warnings.filterwarnings("ignore")

MIN_MS = -62135596800000
MAX_MS = 253402300799999


def iso(ms):
    if not isinstance(ms, (int, float)):
        raise TypeError(
            f"iso() argument must be a number of milliseconds, not '{type(ms).__name__}'")
    if isinstance(ms, float):
        if math.isnan(ms):
            raise ValueError("cannot convert float NaN to integer")
        if not abs(ms) < 1e18:
            raise ValueError("iso() argument out of range")
        ms = math.floor(ms)
    ms = int(ms)
    if ms < MIN_MS or ms > MAX_MS:
        raise ValueError("iso() argument out of range")
    d = datetime.datetime(1, 1, 1) + datetime.timedelta(milliseconds=ms - MIN_MS)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def quote(s):
    if not isinstance(s, str):
        raise TypeError(f"quote() argument must be str, not {type(s).__name__}")
    return urllib.parse.quote(s, safe="")


BUILTINS = {name: getattr(__builtins__, name) for name in
            "len str int float bool round abs min max sorted repr ascii any all".split()}


def literal(template, query):
    """The template as the Python connector evaluated it: spliced between the quotes of an
    ordinary f-string, f"URL" (eval('f"{}"'.format(url))) or f'QUERY', so a quote in it ends
    the f-string and what follows is Python source. Templates that use the escapes the
    subset refuses (\\N{name}, surrogates) are skipped."""
    if "\\N{" in template or re.search(r"\\u[dD][89a-fA-F]", template):
        return None
    q = "'" if query else '"'
    return "f" + q + template + q


def evaluate(case):
    template = case["template"]
    scope = {"json": json, "time": time, "iso": iso, "quote": quote, "__builtins__": BUILTINS}
    if case.get("query"):
        template = template.replace("LAST_POLL_TIME", str(case.get("last_poll_time", 0)))
    else:
        scope["item"] = case.get("item")
    source = literal(template, case.get("query"))
    if source is None:
        return {"kind": "skip"}
    try:
        code = compile(source, "<template>", "eval")
    except SyntaxError as e:
        return {"error": e.msg, "kind": "compile"}
    try:
        value = eval(code, scope)
        # A spliced template may be any expression; the text is its str(), as ours renders.
        return {"text": value if isinstance(value, str) else str(value)}
    except Exception as e:  # noqa: BLE001 - every exception is a result here
        message = str(e)
        name = type(e).__name__
        return {"error": f"{name}: {message}" if message else name, "kind": "runtime"}


def main():
    source = open(sys.argv[1], encoding="utf-8") if len(sys.argv) > 1 else sys.stdin
    out = sys.stdout
    for line in source:
        if line.strip():
            out.write(json.dumps(evaluate(json.loads(line)), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
