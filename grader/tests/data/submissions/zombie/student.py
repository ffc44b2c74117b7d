import multiprocessing


def work():
    pass


def main():
    p = multiprocessing.Process(target=work)
    p.start()
    import time
    time.sleep(0.3)  # it has finished; nobody joins it
    return 42
