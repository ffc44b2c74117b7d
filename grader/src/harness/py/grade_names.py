"""Names for what a run's threads wait on, as the student's code names it.

A primitive is named at creation by the student's call that made it: the expression it was assigned to
(`self._lock`, `forks[3]`, `q`) and the callee as written (`threading.Lock`, `queue.Queue`). The source
line is read with linecache and parsed with `ast`; the call is found by the position CPython records for
the instruction being run (`co_positions`), so a line with two calls names the right one. Primitives a
library makes inside the student's call (the Conditions of a `queue.Queue`) share the name of that call's
result. A blocked thread's call is read the same way (`q.get()`). Any failure gives None: the caller keeps
its `Lock#7 (created at ...)` form, and naming never breaks a run.
"""
import ast
import collections
import linecache
import weakref

_MAX_TEXT = 60
_MAX_SOURCE = 1 << 20
_APPENDERS = ("append", "appendleft")
_UNKNOWN = "\u2026"

_trees = {}      # filename -> (positions -> node, node -> parent) or None
_positions = {}  # code -> [(line, end_line, col, end_col), ...] per code unit
_recipes = {}    # (code, lasti) -> (type text, base text, [suffix, ...]) or None


def _short(text):
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT - 1] + "\u2026"


def _tree(filename):
    if filename in _trees:
        return _trees[filename]
    entry = None
    try:
        source = "".join(linecache.getlines(filename))
        if source and len(source) <= _MAX_SOURCE:
            index, parents = {}, {}
            for node in ast.walk(ast.parse(source)):
                for child in ast.iter_child_nodes(node):
                    parents[child] = node
                if isinstance(node, ast.expr):
                    key = (node.lineno, node.end_lineno, node.col_offset, node.end_col_offset)
                    if key not in index or isinstance(node, (ast.Call, ast.Await)):
                        index[key] = node
            entry = (index, parents)
    except Exception:  # noqa: BLE001 - a file ast cannot read (or too deep) is simply not named
        entry = None
    _trees[filename] = entry
    return entry


def _node_at(frame):
    """The expression node the frame is executing (a call, an await, a subscript), with the tree."""
    code = frame.f_code
    pos = _positions.get(code)
    if pos is None:
        pos = _positions[code] = list(code.co_positions())
    i = frame.f_lasti // 2
    if not 0 <= i < len(pos) or None in pos[i]:
        return None, None
    tree = _tree(code.co_filename)
    if tree is None:
        return None, None
    return tree[0].get(pos[i]), tree


def call_text(frame):
    """The source of the call (or await) `frame` is blocked in, e.g. `q.get()`; None if unknown."""
    try:
        node, _ = _node_at(frame)
        if isinstance(node, ast.Await):
            node = node.value
        return _short(ast.unparse(node)) if node is not None else None
    except BaseException:  # noqa: B036 - a diagnosis must never fail for want of a name
        return None


def _target(node, suffixes):
    """(base, suffixes) for an assignment target; a subscript's index is resolved at run time."""
    if isinstance(node, (ast.Name, ast.Attribute)):
        return ast.unparse(node), suffixes
    if isinstance(node, ast.Subscript):
        index = node.slice
        if isinstance(index, ast.Name):
            first = ("var", index.id, index.id)
        elif isinstance(index, ast.Constant):
            first = ("lit", repr(index.value))
        else:
            first = ("lit", ast.unparse(index))
        base, rest = _target(node.value, [])
        return base, rest + [first] + suffixes
    return None


def _recipe(node, parents):
    """How to name what `node` (the creating call) makes: (type, base, suffixes), from where it goes."""
    type_text = _short(ast.unparse(node.func)) if isinstance(node, ast.Call) else None
    origin, suffixes = node, []
    while True:
        parent = parents.get(node)
        if isinstance(parent, ast.Assign) and node is parent.value:
            found = _target(parent.targets[0], suffixes)
            break
        if isinstance(parent, (ast.AnnAssign, ast.NamedExpr)) and node is parent.value:
            found = _target(parent.target, suffixes)
            break
        if isinstance(parent, ast.withitem) and node is parent.context_expr and parent.optional_vars is not None:
            found = _target(parent.optional_vars, suffixes)
            break
        if isinstance(parent, (ast.List, ast.Tuple)) and any(e is node for e in parent.elts):
            at = [i for i, e in enumerate(parent.elts) if e is node][0]
            outer = parents.get(parent)
            if isinstance(outer, ast.Assign) and parent is outer.value and isinstance(outer.targets[0], (ast.Tuple, ast.List)) \
                    and len(outer.targets[0].elts) == len(parent.elts):
                found = _target(outer.targets[0].elts[at], suffixes)
                break
            suffixes.insert(0, ("lit", str(at)))
        elif isinstance(parent, (ast.ListComp, ast.GeneratorExp)) and node is parent.elt:
            # Only the innermost comprehension runs in the frame that makes the primitive.
            inner = not any(x[0] == "comp" for x in suffixes)
            target = parent.generators[0].target
            var = target.id if isinstance(target, ast.Name) else None
            suffixes.insert(0, ("comp", var) if inner else ("lit", _UNKNOWN))
        elif isinstance(parent, ast.DictComp) and node is parent.value:
            key = parent.key
            suffixes.insert(0, ("var", key.id, key.id) if isinstance(key, ast.Name) else ("lit", ast.unparse(key)))
        elif isinstance(parent, ast.Dict) and any(v is node for v in parent.values):
            key = parent.keys[[i for i, v in enumerate(parent.values) if v is node][0]]
            suffixes.insert(0, ("lit", repr(key.value) if isinstance(key, ast.Constant) else "?"))
        elif isinstance(parent, ast.Call) and any(a is node for a in parent.args) \
                and isinstance(parent.func, ast.Attribute) and parent.func.attr in _APPENDERS:
            found = _target(parent.func.value, [("len", _chain(parent.func.value))] + suffixes)
            break
        else:
            found = None
            break
        node = parent
    if found is None:
        # No assignment to name it by (an argument, a return value): the expression itself.
        found = _target(origin, []) or (ast.unparse(origin), [])
    return type_text, found[0], found[1]


def _chain(node):
    """`self.forks` as ["self", "forks"]; None for anything but names and attributes."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        head = _chain(node.value)
        return head + [node.attr] if head else None
    return None


def _namespace(obj):
    """`obj.__dict__` when it is the plain one CPython keeps (no property of the student's class runs)."""
    for klass in type(obj).__mro__:
        found = klass.__dict__.get("__dict__")
        if found is not None:
            if type(found).__name__ not in ("getset_descriptor", "member_descriptor"):
                return None
            namespace = found.__get__(obj, type(obj))
            return namespace if type(namespace) is dict else None
    return None


def _resolve(frame, chain):
    """The value of a name-and-attribute chain in `frame`, read from namespaces only (no property, no
    __getattr__ of the student's runs); None if it cannot be read so."""
    if not chain:
        return None
    try:
        value = frame.f_locals.get(chain[0], frame.f_globals.get(chain[0]))
        for attr in chain[1:]:
            namespace = _namespace(value)
            if namespace is None:
                return None
            value = namespace.get(attr)
        return value
    except Exception:  # noqa: BLE001
        return None


# Iterators whose __reduce__ is CPython's own and says how far they have gone.
_COUNTING = (type(iter(range(0))), type(iter(range(1 << 64))), type(iter([])), type(iter(())))


def _position_in(frame, how):
    """The index of the element being made: in a comprehension, how far its iterator has gone (a range,
    list or tuple iterator says); appended to a list, that list's length. None if unknown."""
    if how[0] == "len":
        value = _resolve(frame, how[1])
        return len(value) if type(value) in (list, collections.deque) else None
    try:
        it = frame.f_locals.get(".0")
        if type(it) in _COUNTING:
            reduced = it.__reduce__()
            if len(reduced) == 3 and type(reduced[2]) is int:
                return reduced[2] - 1
    except Exception:  # noqa: BLE001 - an iterator that does not say
        pass
    return None


def _index_value(frame, name, fallback):
    try:
        value = frame.f_locals.get(name)
    except Exception:  # noqa: BLE001
        return fallback
    # Exact types only: a subclass's __repr__ would be the student's code running inside the harness.
    if type(value) is int:
        return int.__repr__(value)
    if type(value) is str and len(value) <= 24:
        return str.__repr__(value)
    return fallback


class Namer:
    """Names primitives at creation; one per process. It holds no frame (a frame keeps its caller's
    locals alive, and with them the primitives being named): owners are held weakly."""

    def __init__(self):
        self.recent = []    # [(weak owner, label)]: what one call makes (a Queue's Conditions) shares a label
        self.seen = {}      # (name, file, line) -> [(k, weak owner)]: the live holders of `name #k`

    def new_run(self):
        """A run starts: the last run's owners are forgotten (names stay unique among those that live)."""
        self.recent = []

    def label(self, owner, frame, site):
        """(name, type) for a primitive made by the call `frame` is running; None if unknown. `owner` is
        the object that call is making (the Queue whose Conditions these are, or the primitive itself):
        what one owner makes shares its label. Names are unique among live owners: a second `q` made while
        the first lives is `q #2`; once the first is gone, the next is `q` again."""
        for ref, lab in self.recent:
            if ref() is owner:
                return lab
        try:
            lab = self._label(owner, frame, site)
        except BaseException:  # noqa: B036 - naming must never break a run, whatever it met
            lab = None
        ref = _weak(owner)
        if lab is not None and ref is not None:
            self.recent.insert(0, (ref, lab))
            del self.recent[32:]
        return lab

    def _label(self, owner, frame, site):
        key = (frame.f_code, frame.f_lasti)
        if key not in _recipes:
            node, tree = _node_at(frame)
            _recipes[key] = _recipe(node, tree[1]) if node is not None else None
        recipe = _recipes[key]
        if recipe is None:
            return None
        type_text, base, suffixes = recipe
        parts = [base]
        for s in suffixes:
            if s[0] in ("comp", "len"):
                at = _position_in(frame, s)
                parts.append("[%s]" % (at if at is not None else (s[1] if s[0] == "comp" and s[1] not in (None, "_") else _UNKNOWN)))
            elif s[0] == "var":
                parts.append("[%s]" % _index_value(frame, s[1], s[2]))
            else:
                parts.append("[%s]" % s[1])
        name = _short("".join(parts))
        key = (name, site[0], site[1])
        live = [(k, ref) for k, ref in self.seen.get(key, ()) if ref() is not None]
        taken = {k for k, _ in live}
        n = next(k for k in range(1, len(live) + 2) if k not in taken)
        live.append((n, _weak(owner) or (lambda: True)))
        self.seen[key] = live
        if n > 1:
            name = "%s #%d" % (name, n)
        return name, type_text


def _weak(obj):
    try:
        return weakref.ref(obj)
    except TypeError:
        return None
