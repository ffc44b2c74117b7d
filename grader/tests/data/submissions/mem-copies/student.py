def total(n):
    numbers = list(range(n))
    labels = [str(i) * 3 for i in numbers]
    return sum(int(s[: len(s) // 3]) for s in labels)
