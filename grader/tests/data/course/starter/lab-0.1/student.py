def main():
    raise NotImplementedError  # TODO
