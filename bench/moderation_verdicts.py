"""Write every verdict of the labelled texts, to compare two versions of the code.

Run ``python bench/moderation_verdicts.py OUT.json`` with the code to check
first on the import path (``PYTHONPATH=<checkout>``), once before a change and
once after, then ``python bench/moderation_verdicts.py --compare A.json B.json``:
it prints how many verdicts are identical and, for the development texts
only, which differ.  Each verdict is written in full: the flag, the
categories and, per sentence, its span, flag, categories, harms, reason,
alternatives and evidence spans.  The sealed set is never opened unless
``--sealed`` is given, and then only a count of identical verdicts is
printed for it.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _texts(sealed: bool) -> dict[str, str]:
    """The texts to moderate, by a key that names their file and line."""
    texts = {}
    labelled = ROOT / "tests" / "moderation"
    for folder in ("corpus", "scored"):
        for path in sorted((labelled / folder).glob("*.jsonl")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
                if line.strip():
                    texts[f"{folder}/{path.name}:{number}"] = json.loads(line)["text"]
    for path in sorted((ROOT / "content" / "articles").glob("*.txt")):
        texts[f"articles/{path.name}"] = path.read_text(encoding="utf-8")
    if sealed:
        with gzip.open(labelled / "sealed.jsonl.gz", "rt", encoding="utf-8") as lines:
            for number, line in enumerate(lines):
                if line.strip():
                    texts[f"sealed:{number}"] = json.loads(line)["text"]
    return texts


def _verdict(verdict) -> dict:
    return {
        "flagged": verdict.flagged,
        "categories": list(verdict.categories),
        "sentences": [
            [
                s.start,
                s.end,
                s.flagged,
                list(s.categories),
                list(s.harms),
                s.reason,
                list(s.instead),
                s.matched,
                [[e.start, e.end, e.text, e.feature] for e in s.evidence],
            ]
            for s in verdict.sentences
        ],
    }


def write(out: Path, sealed: bool) -> None:
    import yaml

    from advisor.moderation import Moderator

    rejected = yaml.safe_load((ROOT / "content" / "rejected.yaml").read_text(encoding="utf-8"))
    moderator = Moderator.load(ROOT / "rules" / "moderation", rejected["rejected"])
    verdicts = {}
    for key, text in _texts(sealed).items():
        verdict = _verdict(moderator.moderate(text))
        if key.startswith("sealed:"):  # only whether it is the same: a digest
            encoded = json.dumps(verdict, sort_keys=True).encode("utf-8")
            verdict = hashlib.sha256(encoded).hexdigest()
        verdicts[key] = verdict
    out.write_text(json.dumps(verdicts), encoding="utf-8")
    code = Path(sys.modules[Moderator.__module__].__file__).parents[2]
    print(f"{len(verdicts)} verdicts of the code in {code} written")


def compare(first: Path, second: Path) -> int:
    a = json.loads(first.read_text(encoding="utf-8"))
    b = json.loads(second.read_text(encoding="utf-8"))
    keys = sorted(set(a) & set(b))
    sealed = [k for k in keys if k.startswith("sealed:")]
    same_sealed = sum(a[k] == b[k] for k in sealed)
    open_keys = [k for k in keys if not k.startswith("sealed:")]
    differ = [k for k in open_keys if a[k] != b[k]]
    print(f"development texts and articles: {len(open_keys) - len(differ)} of {len(open_keys)}")
    if sealed:
        print(f"sealed texts: {same_sealed} of {len(sealed)} identical")
    for key in differ[:20]:
        print("differs:", key)
    return 0 if not differ and same_sealed == len(sealed) and set(a) == set(b) else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--sealed", action="store_true")
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.paths)
    write(args.paths[0], args.sealed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
