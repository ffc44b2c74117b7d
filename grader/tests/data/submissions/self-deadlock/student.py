import threading

lock = threading.Lock()


def main():
    with lock:
        with lock:
            return 42
