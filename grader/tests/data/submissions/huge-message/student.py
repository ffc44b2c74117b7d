def main():
    raise ValueError("x" * 4_000_000)
