raise KeyboardInterrupt


def main():
    return 42
