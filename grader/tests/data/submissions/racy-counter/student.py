import threading


class Counter:
    def __init__(self):
        self.value = 0

    def add(self):
        v = self.value
        self.value = v + 1


def main():
    c = Counter()
    threads = [threading.Thread(target=lambda: [c.add() for _ in range(50)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 42 if c.value == 200 else c.value
