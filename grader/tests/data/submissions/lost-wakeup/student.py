import threading

cond = threading.Condition()


def main():
    def consumer():
        with cond:
            cond.wait()  # no predicate: a notify that came first is lost

    def producer():
        with cond:
            cond.notify()

    p = threading.Thread(target=producer, name="producer")
    p.start()
    p.join()
    c = threading.Thread(target=consumer, name="consumer")
    c.start()
    c.join()
    return 42
