"""Concurrency lints over the student's files with the standard library's `ast`."""
import ast
import os

RULES = ("lock-without-with", "bare-except", "thread-not-joined", "blocking-in-async", "pool-not-closed")
POOLS = ("Pool", "ProcessPoolExecutor", "ThreadPoolExecutor")
POOL_ENDS = ("close", "terminate", "shutdown")

BLOCKING_CALLS = {
    ("time", "sleep"): "time.sleep() blocks the event loop: use `await asyncio.sleep()`",
    ("requests", "get"): "requests blocks the event loop: use an async client (aiohttp, httpx)",
    ("requests", "post"): "requests blocks the event loop: use an async client (aiohttp, httpx)",
    ("requests", "put"): "requests blocks the event loop: use an async client (aiohttp, httpx)",
    ("requests", "delete"): "requests blocks the event loop: use an async client (aiohttp, httpx)",
    ("requests", "request"): "requests blocks the event loop: use an async client (aiohttp, httpx)",
    ("urllib.request", "urlopen"): "urlopen() blocks the event loop: use an async client",
    ("subprocess", "run"): "subprocess.run() blocks the event loop: use asyncio.create_subprocess_exec()",
    ("subprocess", "call"): "subprocess.call() blocks the event loop: use asyncio.create_subprocess_exec()",
    ("subprocess", "check_output"): "subprocess.check_output() blocks the event loop",
}


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _is_method_call(node, method):
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method


def _releases(stmts, target):
    for stmt in stmts:
        for node in ast.walk(stmt):
            if _is_method_call(node, "release") and _dotted(node.func.value) == target:
                return True
    return False


def _is_blocking_acquire(call):
    """acquire() or acquire(True): a plain acquire, not a try-lock or a timed one used as a test."""
    if call.keywords:
        return False
    return not call.args or (isinstance(call.args[0], ast.Constant) and call.args[0].value is True)


class _Linter(ast.NodeVisitor):
    def __init__(self, rel, rules):
        self.rel = rel
        self.rules = rules
        self.findings = []
        self.finally_stack = []
        self.thread_lines = []
        self.joins = False
        self.pool_calls = []
        self.with_calls = set()
        self.pool_ends = False
        self.async_depth = 0

    def add(self, rule, node, message):
        if rule in self.rules:
            self.findings.append({"rule": rule, "file": self.rel, "line": node.lineno, "message": message})

    def _body_lists(self, node):
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                yield stmts
        for handler in getattr(node, "handlers", []) or []:
            yield handler.body

    def generic_visit(self, node):
        for stmts in self._body_lists(node):
            self._check_acquires(stmts)
        super().generic_visit(node)

    def _check_acquires(self, stmts):
        for i, stmt in enumerate(stmts):
            if not (isinstance(stmt, ast.Expr) and _is_method_call(stmt.value, "acquire")):
                continue
            if not _is_blocking_acquire(stmt.value):
                continue
            target = _dotted(stmt.value.func.value)
            if target is None:
                continue
            nxt = stmts[i + 1] if i + 1 < len(stmts) else None
            guarded = isinstance(nxt, ast.Try) and _releases(nxt.finalbody, target)
            guarded = guarded or any(_releases(fin, target) for fin in self.finally_stack)
            if not guarded:
                self.add("lock-without-with", stmt,
                         "%s.acquire() without `with` or try/finally: an exception leaves it held" % target)

    def visit_Try(self, node):
        self.finally_stack.append(node.finalbody)
        for stmts in (node.body,):
            self._check_acquires(stmts)
            for s in stmts:
                self.visit(s)
        self.finally_stack.pop()
        for handler in node.handlers:
            self.visit(handler)
        for stmts in (node.orelse, node.finalbody):
            self._check_acquires(stmts)
            for s in stmts:
                self.visit(s)

    def visit_ExceptHandler(self, node):
        if node.type is None:
            self.add("bare-except", node,
                     "bare `except:` also catches KeyboardInterrupt and SystemExit: name the exceptions")
        self.generic_visit(node)

    def visit_Call(self, node):
        name = _dotted(node.func)
        short = name.rsplit(".", 1)[-1] if name else None
        if short in POOLS and id(node) not in self.with_calls:
            self.pool_calls.append(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr in POOL_ENDS:
            self.pool_ends = True
        if name in ("threading.Thread", "Thread", "multiprocessing.Process", "mp.Process", "Process"):
            daemon = any(k.arg == "daemon" and isinstance(k.value, ast.Constant) and k.value.value
                         for k in node.keywords)
            if not daemon:
                self.thread_lines.append(node)
        if _is_method_call(node, "join"):
            self.joins = True
        if self.async_depth and name:
            head, _, attr = name.rpartition(".")
            msg = BLOCKING_CALLS.get((head, attr))
            if msg:
                self.add("blocking-in-async", node, msg)
        self.generic_visit(node)

    def visit_With(self, node):
        for item in node.items:
            if isinstance(item.context_expr, ast.Call):
                self.with_calls.add(id(item.context_expr))
        self.generic_visit(node)

    def visit_AsyncFunctionDef(self, node):
        self.async_depth += 1
        self.generic_visit(node)
        self.async_depth -= 1

    def visit_FunctionDef(self, node):
        saved, self.async_depth = self.async_depth, 0
        self.generic_visit(node)
        self.async_depth = saved

    visit_Lambda = visit_FunctionDef

    def finish(self):
        if not self.joins:
            for node in self.thread_lines:
                self.add("thread-not-joined", node,
                         "a thread or process is started but nothing in this file ever joins it")
        if not self.pool_ends:
            for node in self.pool_calls:
                self.add("pool-not-closed", node,
                         "a pool is created outside `with` and never closed, shut down or terminated")


def ruff(root, files, codes):
    """Ruff's findings for rule codes (ASYNC, B, BLE001, ...) over the student's files. Ruff comes from the
    managed environment, in which a lint item that names `ruff:` rules runs."""
    import json
    import subprocess
    import sys
    if not codes or not files:
        return []
    cmd = [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--exit-zero",
           "--output-format", "json", "--target-version", "py311", "--select", ",".join(sorted(codes))] + list(files)
    out = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError("ruff failed: %s" % (out.stderr.strip() or out.stdout.strip())[:500])
    findings = []
    for f in json.loads(out.stdout or "[]"):
        rel = os.path.relpath(f["filename"], root)
        findings.append({"rule": "ruff:%s" % f["code"], "file": rel, "line": f["location"]["row"],
                         "message": f["message"]})
    return findings


def lint(root, files, rules=None):
    rules = set(rules or RULES)
    findings = ruff(root, files, {r[len("ruff:"):] for r in rules if r.startswith("ruff:")})
    rules = {r for r in rules if not r.startswith("ruff:")}
    for rel in files:
        try:
            with open(os.path.join(root, rel), "rb") as fh:
                tree = ast.parse(fh.read(), rel)
        except (SyntaxError, ValueError, OSError):
            continue  # the compile step reports it
        linter = _Linter(rel, rules)
        linter.visit(tree)
        linter.finish()
        findings.extend(linter.findings)
    findings.sort(key=lambda f: (f["file"], f["line"], f["rule"]))
    return findings
