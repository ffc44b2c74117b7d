import queue
import threading


def main():
    q = queue.Queue()
    for i in range(3):
        q.put(i)
    done = []

    def consumer():
        while True:  # no sentinel: waits forever once the queue is empty
            done.append(q.get())

    workers = [threading.Thread(target=consumer, name="consumer-%d" % i) for i in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return 42
