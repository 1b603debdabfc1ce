#!/usr/bin/env python3
"""Replaces the README's configuration table with the one webhookctl generates from the
setting table (common/setting_table.cpp). Usage: update_readme_settings.py WEBHOOKCTL README"""
import subprocess
import sys

ctl, readme = sys.argv[1], sys.argv[2]
table = subprocess.run([ctl, "settings", "--markdown"], check=True, capture_output=True,
                       text=True).stdout
text = open(readme, encoding="utf-8").read()
begin, end = "<!-- settings:begin -->\n", "<!-- settings:end -->"
b, e = text.index(begin), text.index(end)
open(readme, "w", encoding="utf-8").write(text[: b + len(begin)] + table + text[e:])
print(f"{readme}: configuration table regenerated")
