"""Tries to write outside its run directory: the harness's files, and a file in /tmp."""
import glob
import os


def _try(path):
    try:
        with open(path, "a") as f:
            f.write("\n# tampered\n")
        return True
    except OSError:
        return False


def main():
    here = os.getcwd()
    # The workspace is <root>/runs/<run>/sub; the harness lives in <root>/harness.
    targets = glob.glob(os.path.join(here, "..", "..", "..", "harness", "*.py"))
    targets.append("/tmp/grade-sandbox-probe")
    wrote = [t for t in targets if _try(t)]
    with open("inside.txt", "w") as f:  # its own directory stays writable
        f.write("ok")
    return 42 if not wrote and len(targets) > 1 else "wrote %s" % wrote
