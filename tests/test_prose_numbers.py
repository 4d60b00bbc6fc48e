"""The prose states no number by hand: every number in a chapter's text comes from its code.

A number typed into a markdown cell drifts from the output printed beside it as soon as the
code changes (a rate retuned, a seed added, a library updated). So a markdown cell may state a
measured or computed number only through myst-nb's glue (``{glue:text}`name```, stored by the
code with ``learnlr.viz.plots.glue_text``); the rendered book then shows the code's value.

What is not prose, and so is not checked: mathematics (``$...$``, ``$$...$$``), code
(```` `...` ```` and fenced blocks), link targets, headings (section numbers) and a chapter's
reference list. In the prose, the numbers below are allowed, each for the reason given next to
its pattern; anything else fails with the cell, the number and its sentence. How authors work
with glue is in CONTRIBUTING.md ("Numbers in the prose").
"""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# Parts of a markdown cell that are not prose: removed before numbers are looked for.
NOT_PROSE = [
    re.compile(r"\$\$.*?\$\$", re.S),  # display mathematics
    re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S),  # LaTeX environments
    re.compile(r"(?<!\\)\$[^$\n]+?(?<!\\)\$"),  # inline mathematics
    re.compile(r"```.*?```", re.S),  # fenced code
    re.compile(r"`[^`\n]*`"),  # inline code and the argument of a role such as {glue:text}
    re.compile(r"\{[\w:-]+\}"),  # the role's name itself
    re.compile(r"\]\([^)\s]*\)"),  # a link's target (its text stays)
    re.compile(r"<[^>\n]+>"),  # HTML tags and autolinks
    re.compile(r"https?://\S+"),
    re.compile(r"^\s{0,3}#.*$", re.M),  # headings: section numbers
    re.compile(r"^\s*\d+\.(?=\s)", re.M),  # the markers of a numbered list
]

# A chapter's reference list: from a heading that names it to the next heading.
REFERENCES = re.compile(
    r"^#+\s*(References|Further reading|Sources)\b.*?(?=^#|\Z)", re.M | re.S | re.I
)

# Numbers the prose may state, each with why it is not a result of the code.
ALLOWED = [
    # cross-references: chapter 9, chapters 3 to 5, §4.2, exercise 2.1, Exercise 10.3
    (
        r"\b(?:[Cc]hapters?|§|[Ss]ections?|[Ee]xercises?|[Pp]art)\s*\d+(?:\.\d+)*"
        r"(?:(?:\s*(?:,|and|to|or|–|-)\s*(?:§\s*)?)\d+(?:\.\d+)*)*",
        "a cross-reference to a chapter, section or exercise",
    ),
    (r"§\s*\d+(?:\.\d+)*", "a section of a cited book"),
    # citations: Cauchy (1847), (Kingma & Ba 2015), Cohen et al. 2021, Smith 2017a
    (
        r"(?:\(|\b[A-Z][\w'’-]+\.?,?\s|\bal\.\s|&\s[A-Z][\w'’-]+\s)(?:1[89]|20)\d\d[a-z]?\b",
        "the year of a cited paper",
    ),
    (r"\b(?:1[89]|20)\d\d[a-z]?(?=[);,]\s*(?:[A-Z§]|p\.|ch\.|sec|$))", "the year of a citation"),
    (r"arXiv:\s?\d{4}\.\d{4,5}(?:v\d)?", "an arXiv identifier"),
    (
        r"\b(?:Theorem|Lemma|Proposition|Corollary|Algorithm|Eq\.|Equation|Figure|Table|"
        r"Appendix)\s\d+(?:\.\d+)*",
        "a numbered result, equation, figure or table of a cited work",
    ),
    (r"\b(?:ICLR|ICML|NeurIPS|NIPS|COLT|AISTATS|CVPR)\s(?:1[89]|20)\d\d\b", "a venue's year"),
    (
        r"\b(?:Keras|PyTorch|fastai|fast\.ai|Python|ipywidgets|JupyterLab)\s\d+(?:\.\d+)*",
        "a version",
    ),
    (r"\b95\s?%\s(?:confidence\s)?interval", "the conventional confidence level"),
]
ALLOWED_RE = [(re.compile(pattern), why) for pattern, why in ALLOWED]

# A number: 3, 1,000, 0.25, 1e-8, 10^4, 95%, ×2.4, 3.1×, ½ is not looked for.
NUMBER = re.compile(
    r"(?<![\w.^/-])[−-]?\d(?:[\d,]*\d)?(?:\.\d+)?(?:[eE][−-]?\d+)?(?:\s?%|×)?(?![\w])"
)


def prose(markdown: str) -> str:
    """The prose of a markdown cell: what is left once mathematics, code, links, headings,
    the reference list and the allowed numbers are blanked out."""
    text = REFERENCES.sub(" ", markdown)
    for pattern in NOT_PROSE:
        text = pattern.sub(" ", text)
    for pattern, _why in ALLOWED_RE:
        text = pattern.sub(" ", text)
    return text


def stated_numbers(markdown: str) -> list[tuple[str, str]]:
    """``(number, its context)`` for each number the prose of a markdown cell states."""
    found = []
    for line in prose(markdown).splitlines():
        for match in NUMBER.finditer(line):
            context = " ".join(line[max(0, match.start() - 50) : match.end() + 30].split())
            found.append((match.group(), context))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_prose_numbers_come_from_the_code(path):
    nb = nbformat.read(path, as_version=4)
    problems = [
        f"  cell {i}: {number!r} in ...{context}..."
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "markdown"
        for number, context in stated_numbers(cell.source)
    ]
    assert not problems, (
        f"{path.name}: {len(problems)} number(s) typed into the prose; glue each from the code "
        "({glue:text}`name` and learnlr.viz.plots.glue_text) or rewrite the sentence "
        "(CONTRIBUTING.md, 'Numbers in the prose'):\n" + "\n".join(problems)
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_glue_reference_is_glued(path):
    """Each ``{glue:text}`name``` in the prose names a value the notebook's code stored."""
    nb = nbformat.read(path, as_version=4)
    used = {
        name
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for name in re.findall(r"\{glue(?::\w+)?\}`([^`]+)`", cell.source)
    }
    stored = {
        output.get("metadata", {}).get("scrapbook", {}).get("name")
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    }
    missing = sorted({name.split(":")[0] for name in used} - stored)
    assert not missing, f"{path.name}: the prose uses glue keys no code cell stored: {missing}"


@pytest.mark.parametrize(
    ("markdown", "numbers"),
    [
        ("The ratio is 3.1 here.", ["3.1"]),
        ("It took 1,000 steps, 12% of the run.", ["1,000", "12%"]),
        ("A factor of ×2.4, then 1e-3 or 3.1×.", ["2.4", "1e-3", "3.1×"]),
        ("The ratio is {glue:text}`ratio` here.", []),
        ("Where $\\eta < 2/L$ and `lr=0.1` and $$x_1 = 3$$ hold.", []),
        ("As chapter 9 and §4.2 show (exercise 2.1; chapters 3 to 5).", []),
        ("Cauchy (1847) and Cohen et al. 2021, as Kingma & Ba 2015 found.", []),
        ("## 3.2 A heading\nText.", []),
        ("Text.\n\n## References\n- A. B (2020). Title 12(3), 45-67.", []),
        ("see [chapter 2](02_momentum.ipynb) and [the 3 runs](x.ipynb)", ["3"]),
        ("between steps 80 and 100, with 2 seeds", ["80", "100", "2"]),
        ("1. first\n2. second, 3 times", ["3"]),
        ("Bottou et al. (2018, Theorem 4.6) show it.", []),
    ],
)
def test_the_detector(markdown, numbers):
    assert [n for n, _ in stated_numbers(markdown)] == numbers
