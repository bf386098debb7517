"""docs/protocol.md: numbered headings with stable anchors, and every `§N.M` citation resolves.

Code, tests and docs cite the wire protocol as `protocol §13.6`, `protocol §13.6` (the older
wording) or a bare `§13.6`, sometimes as ranges (`§13.1-§13.5`, `§§2.3-2.5`), lists
(`§§2.3, 2.5`) or list items (`§19 items 6, 7`). Each cited number must be a numbered heading of
docs/protocol.md, so a renumbered or deleted section breaks this test, not a reader's trust.
Section signs that cite other documents (`RFC 9110 §12.5.3`, `landscape.md §4`, "its §3.2" right
after such a citation) are not protocol citations and are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = ROOT / "docs" / "protocol.md"
THIS_FILE = Path(__file__).resolve()

# `## 13. Authentication`, `### 13.6 Presigned URLs`, `#### 5.4.1 Input grammar`.
HEADING = re.compile(r"^(?P<hashes>#{2,4}) +(?P<number>\d+(?:\.\d+)*)\.? +(?P<title>\S.*)$")
ANCHOR = re.compile(r'^<a id="(?P<id>[^"]+)"></a>$')

# One citation: `§` or `§§`, a number, then (for ranges and lists) more numbers. A single `§`
# continues only over an adjacent dash (`§13.1-13.5`, `§13.1-§13.5`); `§§` also over commas and
# "and"/"to". `§19 items 6, 7 and 18` cites list items 19.6, 19.7 and 19.18.
NUMBER = r"\d+(?:\.\d+)*(?<!\.)"
CITATION = re.compile(
    rf"(?P<signs>§§?)\s*(?P<first>{NUMBER})(?P<items>\s+items?\s+\d+(?:\s*(?:,|and|&)\s*\d+)*)?"
)
SINGLE_RANGE = re.compile(rf"[-\u2013]§?({NUMBER})")
CONTINUATION = re.compile(rf"\s*(?:[-\u2013]|,|and|to)\s*§?\s*({NUMBER})")
# What precedes a section sign that belongs to another document.
FOREIGN = re.compile(r"(?:\bRFC\s*\d+|[\w./-]+\.md(?<!protocol\.md)|\bits|\baddendum)\s*$")

# Where citations live (docs/*.md includes docs/protocol.md's own cross references).
SCANNED = ("objectstore_client", "tests", "bench", "examples", "docs")
SCANNED_FILES = ("README.md",)
SUFFIXES = (".py", ".md")

# The protocol texts outside the repository must not be cited: docs/protocol.md replaces them.
SHARED_SPEC = "objectstore-http-api"


@dataclass(frozen=True)
class Heading:
    """A numbered heading of docs/protocol.md."""

    number: str
    level: int
    line: int
    anchor: str | None


@dataclass(frozen=True)
class Citation:
    """A cited section number and where it was cited."""

    number: str
    path: str
    line: int
    text: str


def parse_headings(text: str) -> list[Heading]:
    """The numbered headings in document order, with the anchor on the line before each."""
    lines = text.splitlines()
    headings = []
    in_fence = False
    for index, line in enumerate(lines):
        if line.startswith("```"):
            in_fence = not in_fence
            continue
        match = HEADING.match(line)
        if in_fence or match is None:
            continue
        previous = ANCHOR.match(lines[index - 1]) if index else None
        headings.append(
            Heading(
                number=match["number"],
                level=len(match["hashes"]),
                line=index + 1,
                anchor=previous["id"] if previous else None,
            )
        )
    return headings


def cited_numbers(line: str) -> list[str]:
    """The protocol section numbers one line of text cites, in order of appearance."""
    numbers: list[str] = []
    position = 0
    while (match := CITATION.search(line, position)) is not None:
        position = match.end()
        foreign = FOREIGN.search(line[: match.start()]) is not None
        found = [match["first"]]
        if match["items"]:
            found = [f"{match['first']}.{item}" for item in re.findall(r"\d+", match["items"])]
        elif match["signs"] == "§§":
            while (more := CONTINUATION.match(line, position)) is not None:
                found.append(more[1])
                position = more.end()
        elif (single := SINGLE_RANGE.match(line, position)) is not None:
            found.append(single[1])
            position = single.end()
        if not foreign:
            numbers.extend(found)
    return numbers


def scanned_files() -> list[Path]:
    files = [ROOT / name for name in SCANNED_FILES]
    for directory in SCANNED:
        base = ROOT / directory
        if base.is_dir():
            files.extend(
                path
                for path in sorted(base.rglob("*"))
                if path.suffix in SUFFIXES and path.is_file() and "__pycache__" not in path.parts
            )
    # This file's docstring and parser cases show citation styles; they cite nothing.
    return [path for path in files if path.resolve() != THIS_FILE]


def all_citations() -> list[Citation]:
    citations: list[Citation] = []
    for path in scanned_files():
        relative = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if "§" not in line:
                continue
            citations.extend(
                Citation(cited, relative, number, line.strip()) for cited in cited_numbers(line)
            )
    return citations


@pytest.fixture(scope="module")
def headings() -> list[Heading]:
    return parse_headings(PROTOCOL.read_text(encoding="utf-8"))


def key(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split("."))


# --- the document ----------------------------------------------------------------------------


def test_every_numbered_heading_has_its_anchor(headings: list[Heading]) -> None:
    wrong = [
        f"line {h.line}: § {h.number} has anchor {h.anchor!r}, expected 's{h.number}'"
        for h in headings
        if h.anchor != f"s{h.number}"
    ]
    assert not wrong, "\n".join(wrong)


def test_numbers_are_unique_nested_and_in_order(headings: list[Heading]) -> None:
    numbers = [h.number for h in headings]
    assert len(numbers) == len(set(numbers)), "duplicate section numbers"
    keys = [key(n) for n in numbers]
    assert keys == sorted(keys), "sections out of order"
    seen: set[str] = set()
    for heading in headings:
        depth = heading.number.count(".") + 1
        # `##` holds §N, `###` §N.M, `####` §N.M.K.
        assert heading.level == depth + 1, f"line {heading.line}: § {heading.number} level"
        parent = heading.number.rpartition(".")[0]
        assert not parent or parent in seen, f"§ {heading.number} has no parent § {parent}"
        seen.add(heading.number)


def test_the_numbering_of_the_base_spec_and_the_new_sections(headings: list[Heading]) -> None:
    numbers = {h.number for h in headings}
    top = sorted(key(n)[0] for n in numbers if "." not in n)
    assert top == list(range(1, 24))
    # Fixed points code relies on: base subsections, §18.2 (client differences per
    # operation), §22 extend expiry, §23.1-§23.9 resumable uploads.
    expected = {"2.1", "5.4.1", "5.4.2", "10.3", "11.4", "13.6", "18.2", "19.1", "19.30"}
    expected |= {f"23.{n}" for n in range(1, 10)}
    assert expected <= numbers


def test_anchors_are_unique_in_the_document() -> None:
    ids = re.findall(r'<a id="([^"]+)"></a>', PROTOCOL.read_text(encoding="utf-8"))
    assert len(ids) == len(set(ids))


# --- the citations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param('"""protocol §13.6: presign"""', ["13.6"], id="spec"),
        pytest.param("see protocol §23.4.", ["23.4"], id="protocol-sentence-end"),
        pytest.param("(§5.4.1)", ["5.4.1"], id="bare-in-parentheses"),
        pytest.param("§9.1/§9.2 [PROD]", ["9.1", "9.2"], id="slash-list"),
        pytest.param("(§6.3, §7)", ["6.3", "7"], id="comma-list"),
        pytest.param("§13.1-§13.5 auth", ["13.1", "13.5"], id="range-two-signs"),
        pytest.param("§13.1-13.5 auth", ["13.1", "13.5"], id="range-one-sign"),
        pytest.param("§13.1\u201313.6 auth", ["13.1", "13.6"], id="range-en-dash"),
        pytest.param("§§2.3-2.5", ["2.3", "2.5"], id="double-sign-range"),
        pytest.param("§§2.3, 2.5 and 2.7", ["2.3", "2.5", "2.7"], id="double-sign-list"),
        pytest.param("(protocol §19 items 6, 7, 18)", ["19.6", "19.7", "19.18"], id="items"),
        pytest.param("§19 item 4", ["19.4"], id="one-item"),
        pytest.param("§14, 1000 operations", ["14"], id="single-sign-no-list"),
        pytest.param("(RFC 9110 §12.5.3)", [], id="rfc"),
        pytest.param("landscape.md §4; the others are from its §3.2 table", [], id="other-doc"),
        pytest.param("docs/protocol.md §13.6", ["13.6"], id="protocol-md"),
    ],
)
def test_citation_parser(line: str, expected: list[str]) -> None:
    assert cited_numbers(line) == expected


def test_every_citation_names_an_existing_section(headings: list[Heading]) -> None:
    numbers = {h.number for h in headings}
    citations = all_citations()
    assert len(citations) > 100, "the scan found almost no citations: is the parser broken?"
    missing = [
        f"{c.path}:{c.line}: § {c.number} is not a heading of docs/protocol.md: {c.text}"
        for c in citations
        if c.number not in numbers
    ]
    assert not missing, "\n".join(missing)


def test_the_shared_spec_files_are_not_cited() -> None:
    citing = {
        path.relative_to(ROOT).as_posix()
        for path in scanned_files()
        if SHARED_SPEC in path.read_text(encoding="utf-8")
    }
    assert not citing, f"cite docs/protocol.md, not the shared spec files: {sorted(citing)}"
