def main():
    hog = []
    while True:
        hog.append(bytearray(8 * 1024 * 1024))
        for i in range(0, len(hog[-1]), 4096):
            hog[-1][i] = 1
