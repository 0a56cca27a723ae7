#!/usr/bin/env python3
"""Regenerates crypto/testdata/stv/random-references.json: random small
elections (many ties) counted by two independent published implementations,
OpenSTV 1.7 (ERS97STV, weak ties forward, strong ties by candidate index) and
Droop v0.14 (meek-prf, the PR Foundation Meek Reference rule). crypto/stv's
tests compare their own counts with these, stage by stage.

Not run by `make test`. It needs Python 2.7 for OpenSTV and Python 3 for
Droop, and checkouts of both (their code is not part of this repository):

  OPENSTV=/path/to/Conservatory/openstv  (commit 2a267a4)
  DROOP=/path/to/jklundell/droop          (commit cf58293)
  PYTHON2="python2"                        (e.g. PYENV_VERSION=2.7.18 python2)
  scripts/stv-reference-counts.py > crypto/testdata/stv/random-references.json
"""
import json, os, random, subprocess, sys, tempfile

OPENSTV = os.environ["OPENSTV"]
DROOP = os.environ["DROOP"]
PYTHON2 = os.environ.get("PYTHON2", "python2").split()


def election(rng):
    n = rng.randint(3, 7)
    seats = rng.randint(1, n - 1)
    ballots = []
    for _ in range(rng.randint(3, 25)):
        perm = rng.sample(range(n), n)
        ballots.append([rng.randint(1, 3), perm[: rng.randint(1, n)]])
    return {"candidates": n, "seats": seats, "ballots": ballots}


def blt(e):
    lines = ["%d %d" % (e["candidates"], e["seats"])]
    for w, prefs in e["ballots"]:
        lines.append(" ".join(str(x) for x in [w] + [p + 1 for p in prefs] + [0]))
    lines.append("0")
    lines += ['"C%d"' % (c + 1) for c in range(e["candidates"])]
    lines.append('"random"')
    return "\n".join(lines) + "\n"


def openstv(path):
    out = subprocess.run(PYTHON2 + [os.path.join(OPENSTV, "openstv/runElection.py"), "-w", "forward", "-t", "index",
                          "-r", "YamlReport", "ERS97STV", path], env=dict(os.environ, PYTHONPATH=OPENSTV),
                         capture_output=True, text=True, check=True).stdout
    rounds, winners = [], None
    for line in out.splitlines():
        k, _, v = line.strip().partition(":")
        v = v.strip()
        if k == "Winners":
            winners = json.loads(v)
        elif k == "Stage":
            rounds.append({"stage": int(v)})
        elif k == "Tally":
            rounds[-1]["tally"] = [x.strip() for x in v.strip("[]").split(",")]
        elif k == "Won":
            rounds[-1]["won"] = json.loads(v)
    return {"winners": winners, "rounds": rounds}


def droop(path):
    out = subprocess.run([sys.executable, os.path.join(DROOP, "Droop.py"), "meek-prf", "json", path],
                         capture_output=True, text=True, check=True).stdout
    acts = []
    for a in json.loads(out[out.index("{"):])["actions"]:
        if a["tag"] not in ("elect", "defeat"):
            continue
        acts.append({"tag": a["tag"], "msg": a["msg"], "round": a["round"], "quota": a["quota"],
                     "votes": [a["cstate"][str(c + 1)]["vote"] for c in range(len(a["cstate"]))]})
    return acts


def main():
    rng = random.Random(2697)
    cases = []
    with tempfile.TemporaryDirectory() as d:
        for i in range(150):
            e = election(rng)
            p = os.path.join(d, "e.blt")
            with open(p, "w") as f:
                f.write(blt(e))
            try:
                e["openstv_ers97"] = openstv(p)
                e["droop_meek_prf"] = droop(p)
            except subprocess.CalledProcessError as err:
                # Kept out, and said: a tool that cannot count an election
                # gives no reference for it.
                sys.stderr.write("election %d skipped: %s\n%s\n" % (i, err, (err.stderr or "")[-300:]))
                continue
            cases.append(e)
    json.dump({"source": "scripts/stv-reference-counts.py", "elections": cases}, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


main()
