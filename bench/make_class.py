#!/usr/bin/env python3
"""Generates a deterministic class of student submissions for one lab, for benchmarking `grade batch`.

    python3 bench/make_class.py LAB_ID OUT_DIR [--n 40] [--seed 1] [--target FILE:FUNC] [--force]

OUT_DIR/student-01 ... student-NN each get one submission, of one of these kinds:

  reference        solutions/LAB copied verbatim (about 40% of the class)
  fixture:NAME     fixtures/LAB/NAME without its expect.yaml (a known-bad submission)
  starter          starter/LAB (the unfinished template)
  hang             the solution with `while True: pass` at the start of a function the checks call
  flood            the solution printing a 200-character line a million times in that function
  quiz-wrong       the solution with every quiz answer wrong or missing
  syntax           the solution with the colon of that function's `def` line removed

Generated variants are the solution with one file edited; every other file is copied unchanged. Every edit is
checked (the pattern must be found, the result must parse, or must not, as intended): a failed edit stops the
script with an error rather than writing a silent copy of the solution.

The function edited is FILE:FUNC from --target, else a built-in choice for known labs (lab-2.1:
counter.py:increment), else the first public function or method of the spec's `files:` that the lab's
checks use as `.FUNC`. The kinds are dealt deterministically: --seed only permutes which student number
gets which submission; the same arguments always give byte-identical directories.
Standard library only.
"""
import argparse
import ast
import io
import random
import re
import shutil
import sys
import tokenize
from pathlib import Path

COURSE = Path(__file__).resolve().parent.parent
GOOD_SHARE = 0.4
# Known labs: the file and function (or method) the checks are sure to call.
TARGETS = {"lab-2.1": ("counter.py", "increment")}
GENERATED = ["hang", "flood", "syntax", "quiz-wrong"]
FLOOD_LINES = 1_000_000
FLOOD_WIDTH = 200


class EditError(Exception):
    """An edit whose pattern was not found or whose result is not what was meant."""


def die(msg):
    print(f"make_class: error: {msg}", file=sys.stderr)
    sys.exit(2)


def spec_files(course, lab):
    """The `files: [a.py, b.py]` list of specs/LAB.yaml (a flow list on one line, as every spec has it)."""
    spec = course / "specs" / f"{lab}.yaml"
    if not spec.is_file():
        die(f"no spec {spec}")
    m = re.search(r"^files:\s*\[([^\]]*)\]", spec.read_text(), re.M)
    if not m:
        die(f"{spec}: no `files: [...]` line")
    return [f.strip().strip("'\"") for f in m.group(1).split(",") if f.strip()]


def find_function(source, name, filename):
    """The (first) FunctionDef/AsyncFunctionDef called NAME, at any depth (functions and methods)."""
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    raise EditError(f"{filename}: no function or method `{name}`")


def pick_target(course, lab, solution, explicit):
    if explicit:
        if ":" not in explicit:
            die("--target must be FILE:FUNC, e.g. counter.py:increment")
        f, func = explicit.split(":", 1)
        return f, func
    if lab in TARGETS:
        return TARGETS[lab]
    checks = "".join(p.read_text() for p in sorted((course / "specs" / lab).glob("*.py")))
    for f in spec_files(course, lab):
        path = solution / f
        if not path.is_file():
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_")
                    and re.search(r"\.%s\b" % re.escape(node.name), checks)):
                return f, node.name
    die(f"{lab}: found no function of {spec_files(course, lab)} that specs/{lab}/*.py uses as `.NAME`; "
        "give one with --target FILE:FUNC")


def insert_at_body_start(source, func, stmt_lines, filename):
    """Inserts statements as the first statements of FUNC's body (before its docstring, if any)."""
    node = find_function(source, func, filename)
    first = node.body[0]
    if first.lineno == node.lineno:
        raise EditError(f"{filename}:{node.lineno}: `{func}` has its body on the `def` line; cannot insert")
    lines = source.splitlines(keepends=True)
    if first.lineno - 1 >= len(lines):
        raise EditError(f"{filename}: body of `{func}` not where expected")
    indent = " " * first.col_offset
    if not lines[first.lineno - 1].startswith(indent):
        raise EditError(f"{filename}:{first.lineno}: unexpected indentation in `{func}`")
    new = [indent + s + "\n" for s in stmt_lines]
    out = "".join(lines[:first.lineno - 1] + new + lines[first.lineno - 1:])
    # Check: it parses, and the function's body now starts with what was inserted.
    try:
        node2 = find_function(out, func, filename)
    except SyntaxError as e:
        raise EditError(f"{filename}: the edited `{func}` does not parse: {e}") from None
    want = ast.dump(ast.parse("\n".join(stmt_lines)).body[0])
    if ast.dump(node2.body[0]) != want:
        raise EditError(f"{filename}: the inserted statement is not the first of `{func}`")
    return out


def remove_def_colon(source, func, filename):
    """Removes the colon that ends the header `def FUNC(...) -> ...:` (found with the tokenizer, so a
    header over several lines or a default holding a colon is handled), making a syntax error."""
    node = find_function(source, func, filename)
    toks = list(tokenize.generate_tokens(io.StringIO(source).readline))
    start = next((i for i, t in enumerate(toks) if t.type == tokenize.NAME and t.string == "def"
                  and t.start[0] == node.lineno and i + 1 < len(toks) and toks[i + 1].string == func), None)
    if start is None:
        raise EditError(f"{filename}:{node.lineno}: no `def {func}` token on the line ast gives")
    depth, colon = 0, None
    for t in toks[start:]:
        if t.type == tokenize.OP and t.string in "([{":
            depth += 1
        elif t.type == tokenize.OP and t.string in ")]}":
            depth -= 1
        elif t.type == tokenize.OP and t.string == ":" and depth == 0:
            colon = t
            break
    if colon is None:
        raise EditError(f"{filename}:{node.lineno}: the colon ending `def {func}(...)` was not found")
    lines = source.splitlines(keepends=True)
    row, col = colon.start
    lines[row - 1] = lines[row - 1][:col] + lines[row - 1][col + 1:]
    out = "".join(lines)
    try:
        compile(out, filename, "exec")
    except SyntaxError:
        return out
    raise EditError(f"{filename}: removing the colon of `def {func}` still compiles")


QUIZ_LINE = re.compile(r"^(q\w+)\s*:\s*(.*?)\s*(#.*)?$")


def wrong_answer(value):
    """An answer that is certainly wrong: an option letter that is not in the right answer."""
    given = set(re.findall(r"\b([a-z])\b", value))
    if not given:
        raise EditError(f"quiz answer {value!r} has no option letter")
    for letter in "abcdefgh":
        if letter not in given:
            return letter if not value.lstrip().startswith("[") else f"[{letter}]"
    raise EditError(f"quiz answer {value!r}: no wrong letter left")


def spoil_quiz(source, filename):
    """Every answer wrong (odd questions) or missing (even questions: the line is left without a value)."""
    out, n = [], 0
    for line in source.splitlines(keepends=True):
        m = QUIZ_LINE.match(line.rstrip("\r\n"))
        if m and m.group(2):
            n += 1
            if n % 2:
                line = f"{m.group(1)}: {wrong_answer(m.group(2))}\n"
            else:
                line = f"{m.group(1)}:\n"
        out.append(line)
    if n == 0:
        raise EditError(f"{filename}: no answer line like `q1: b`")
    return "".join(out)


def copy_tree(src, dst, skip=()):
    dst.mkdir(parents=True)
    for p in sorted(src.iterdir()):
        if p.name in skip or p.name == "__pycache__":
            continue
        if p.is_dir():
            shutil.copytree(p, dst / p.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(p, dst / p.name)


def variant(kind, solution, target):
    """{relative file: new text} for a generated variant of the solution."""
    tfile, func = target
    path = solution / tfile
    if kind == "quiz-wrong":
        q = solution / "quiz.yaml"
        if not q.is_file():
            raise EditError(f"{q}: no quiz.yaml in the solution")
        return {"quiz.yaml": spoil_quiz(q.read_text(), str(q))}
    if not path.is_file():
        raise EditError(f"{path}: target file not in the solution")
    src = path.read_text()
    if kind == "hang":
        return {tfile: insert_at_body_start(src, func, ["while True: pass  # bench: hangs forever"], tfile)}
    if kind == "flood":
        stmt = (f"for _bench_i in range({FLOOD_LINES}): print({'x' * FLOOD_WIDTH!r}, _bench_i)"
                "  # bench: floods stdout")
        return {tfile: insert_at_body_start(src, func, [stmt], tfile)}
    if kind == "syntax":
        return {tfile: remove_def_colon(src, func, tfile)}
    raise ValueError(kind)


def plan(n, seed, bad_kinds):
    """The kind of each of n students: round(40%) reference, the rest cycling through bad_kinds in order,
    then the whole list permuted by the seed."""
    n_good = round(n * GOOD_SHARE)
    kinds = ["reference"] * n_good + [bad_kinds[i % len(bad_kinds)] for i in range(n - n_good)]
    random.Random(seed).shuffle(kinds)
    return kinds


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("lab", metavar="LAB_ID", nargs="?", default="lab-2.1", help="the lab (default lab-2.1)")
    ap.add_argument("out", metavar="OUT_DIR")
    ap.add_argument("--n", type=int, default=40, help="number of students (default 40)")
    ap.add_argument("--seed", type=int, default=1, help="permutes who gets what (default 1)")
    ap.add_argument("--target", metavar="FILE:FUNC", help="the function the hang/flood/syntax edits go into")
    ap.add_argument("--course", type=Path, default=COURSE, help="the course checkout (default: this one)")
    ap.add_argument("--force", action="store_true", help="replace student-* folders already in OUT_DIR")
    a = ap.parse_args(argv)
    if a.n < 1 or a.n > 999:
        die("--n must be 1..999")
    course, lab = a.course.resolve(), a.lab
    solution, starter, fixtures = (course / d / lab for d in ("solutions", "starter", "fixtures"))
    if not solution.is_dir():
        die(f"no reference solution {solution}")

    target = pick_target(course, lab, solution, a.target)
    bad = list(GENERATED)
    if starter.is_dir():
        bad.append("starter")
    if fixtures.is_dir():
        bad += [f"fixture:{p.name}" for p in sorted(fixtures.iterdir()) if p.is_dir()]
    # Make every generated variant first: a pattern that is not found stops here, before anything is written.
    try:
        edits = {k: variant(k, solution, target) for k in GENERATED}
    except (EditError, SyntaxError) as e:
        die(f"cannot make the variants of {lab}: {e}")

    kinds = plan(a.n, a.seed, bad)
    width = max(2, len(str(a.n)))
    out = Path(a.out)
    if out.exists() and not out.is_dir():
        die(f"{out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    existing = sorted(p for p in out.iterdir() if p.name.startswith("student-"))
    if existing:
        if not a.force:
            die(f"{out} already holds {len(existing)} student-* folders (use --force to replace them)")
        for p in existing:
            shutil.rmtree(p) if p.is_dir() else p.unlink()

    rows = []
    for i, kind in enumerate(kinds, 1):
        name = f"student-{i:0{width}d}"
        dst = out / name
        if kind == "reference":
            copy_tree(solution, dst)
        elif kind == "starter":
            copy_tree(starter, dst)
        elif kind.startswith("fixture:"):
            copy_tree(fixtures / kind.split(":", 1)[1], dst, skip=("expect.yaml",))
        else:
            copy_tree(solution, dst)
            for rel, text in edits[kind].items():
                (dst / rel).write_text(text)
        rows.append((name, kind))

    detail = {"hang": "while True: pass", "flood": f"{FLOOD_LINES} prints", "syntax": "def without ':'"}
    print(f"# {lab}: {a.n} students in {out} (seed {a.seed}; edits in {target[0]}:{target[1]})")
    print(f"{'student':<{8 + width}}  kind")
    for name, kind in rows:
        extra = f"  ({detail[kind]} in {target[0]}:{target[1]})" if kind in detail else ""
        print(f"{name:<{8 + width}}  {kind}{extra}")
    counts = {}
    for _, k in rows:
        counts[k] = counts.get(k, 0) + 1
    good = counts.get("reference", 0)
    print(f"# {good} reference ({100 * good / a.n:.0f}%), {a.n - good} bad: "
          + ", ".join(f"{k} x{v}" for k, v in sorted(counts.items()) if k != "reference"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
