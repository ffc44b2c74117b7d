import sys

NASTY = "\x1b[2J\x1b]0;pwned title\x07\x00\x9b31m\x7f\n::error::pwned\n::add-mask::x\n  ::stop-commands::y\r\n##[set-env name=A;]b"


def main():
    print("out " + NASTY)
    print("err " + NASTY, file=sys.stderr)
    raise ValueError("boom " + NASTY)
