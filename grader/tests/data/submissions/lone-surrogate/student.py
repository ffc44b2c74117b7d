def main():
    raise ValueError("half a pair: \ud800 here")
