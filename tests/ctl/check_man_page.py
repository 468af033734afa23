#!/usr/bin/python3
# check_man_page.py CTL MAN_SOURCE: campaignd-ctl(1) names every command the program has (a
# "## PATH" heading for each, aliases apart) and, under it, every one of that command's long
# options, from the program's own tree (`campaignd-ctl __complete commands`); and it documents
# no command the program does not have. Exits 1 listing what is missing.
import re
import subprocess
import sys

ctl, source = sys.argv[1], sys.argv[2]
table = subprocess.run([ctl, "__complete", "commands"], check=True, capture_output=True, text=True).stdout
page = open(source, encoding="utf-8").read()
sections = {}
for part in re.split(r"(?m)^(?=#{1,2} )", page):
    head = part.splitlines()[0] if part.strip() else ""
    if head.startswith("## "):
        sections[head[3:].strip()] = part

aliases = {"campaigns": "campaign", "recipient": "recipients", "groups": "group"}
problems = []
seen = set()
for line in table.splitlines():
    path, options, _ = line.split("\t")
    words = path.split(" ")
    if words[0] in aliases or path in seen:
        continue
    seen.add(path)
    if path == "campaign summary":  # an alias of "campaign report"
        continue
    section = sections.get(path)
    if section is None:
        problems.append("no section \"## %s\"" % path)
        continue
    for option in options.split():
        name = option.rstrip("=")
        if name != "--help" and name not in section:
            problems.append("%s: %s is not described" % (path, name))
for path in sections:
    if path not in seen:
        problems.append("\"## %s\" documents a command the program does not have" % path)
for p in problems:
    print("campaignd-ctl(1):", p)
print("%d commands checked" % len(seen))
sys.exit(1 if problems else 0)
