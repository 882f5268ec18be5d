"""Compare an extraction with a hand-written truth file, the way the
project's scorer does: normalised texts, matched one-to-one when their
similarity reaches 0.85, within the same section and role."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from pathlib import Path

from pipeline.model import DocumentResult

THRESHOLD = 0.85


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("’", "'").replace("–", "-").replace("—", "-")
    text = re.sub(r"\s+", " ", text).strip()
    return text.lstrip("▶•◦-* ").rstrip(".,;:!?*/·- ")


def match_items(result: DocumentResult, truth: dict) -> dict:
    """Precision, recall, F1 and theme accuracy of the result's items."""
    predicted = defaultdict(list)
    for item in result.items:
        predicted[(item.section, item.role)].append(item)
    expected = defaultdict(list)
    for item in truth["items"]:
        expected[(item["section"], item["role"])].append(item)
    matched = themes_ok = 0
    misses: list[str] = []
    for key in set(predicted) | set(expected):
        pairs = []
        for i, p in enumerate(predicted[key]):
            for j, t in enumerate(expected[key]):
                ratio = difflib.SequenceMatcher(None, normalise(p.text), normalise(t["text"]), autojunk=False).ratio()
                if ratio >= THRESHOLD:
                    pairs.append((-ratio, i, j))
        used_p, used_t = set(), set()
        for _, i, j in sorted(pairs):
            if i in used_p or j in used_t:
                continue
            used_p.add(i)
            used_t.add(j)
            matched += 1
            themes_ok += predicted[key][i].theme == expected[key][j]["theme"]
        misses += [f"{key}: {t['text']}" for j, t in enumerate(expected[key]) if j not in used_t]
    n_pred, n_truth = len(result.items), len(truth["items"])
    precision = matched / n_pred if n_pred else 0.0
    recall = matched / n_truth if n_truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": f1, "theme_acc": themes_ok / matched if matched else 0.0, "missed": misses}


def minimal_pdf(objects: list[bytes]) -> bytes:
    """A PDF made of the given objects (1 is the catalog), with its xref table."""
    body, offsets = b"%PDF-1.4\n", []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    return body + f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()


def open_report(browser, index: Path, width: int, problems: list[str], requests: list[str]):
    """The report at a viewport width; console errors (a CSP refusal is one)
    and every request are recorded, and only file:// ones are let through."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.on("console", lambda message: problems.append(f"{message.type}: {message.text}")
            if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))

    def record(route):
        requests.append(route.request.url)
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", record)
    page.goto(index.as_uri(), wait_until="load")
    return page
