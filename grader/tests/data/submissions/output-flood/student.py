import sys


def main():
    line = "x" * 100000 + "\n"  # 64 MiB within the 2 s timeout even on a loaded machine (1000-byte lines once took longer in CI)
    while True:
        sys.stdout.write(line)
