def spin():
    while True:
        pass


def main():
    spin()
