import threading


def main():
    done = threading.Event()
    worker = threading.Thread(target=done.wait, name="waiter")
    worker.start()
    worker.join()
