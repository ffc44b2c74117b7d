class Boom(BaseException):
    pass


def main():
    raise Boom("out of the blue")
