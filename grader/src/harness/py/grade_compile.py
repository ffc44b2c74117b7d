"""Byte-compiles every file of a submission in memory (nothing is written) and reports syntax errors."""
import os


def compile_all(root, files):
    errors = []
    for rel in files:
        path = os.path.join(root, rel)
        try:
            with open(path, "rb") as fh:
                source = fh.read()
            compile(source, rel, "exec", dont_inherit=True)
        except SyntaxError as exc:  # IndentationError and TabError are SyntaxErrors
            errors.append({
                "file": rel,
                "line": exc.lineno or 0,
                "column": exc.offset or 0,
                "message": "%s: %s" % (type(exc).__name__, exc.msg),
                "text": (exc.text or "").rstrip("\n"),
            })
        except (ValueError, UnicodeDecodeError) as exc:  # null bytes, bad encoding
            errors.append({"file": rel, "line": 0, "column": 0,
                           "message": "%s: %s" % (type(exc).__name__, exc), "text": ""})
        except OSError as exc:
            errors.append({"file": rel, "line": 0, "column": 0,
                           "message": "cannot read: %s" % exc.strerror, "text": ""})
    return errors
