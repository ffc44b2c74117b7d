import sys

sys.exit(0)


def main():
    return 42
